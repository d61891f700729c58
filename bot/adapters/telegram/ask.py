"""Asking: a text message (or an edited one) is a question for the answer service."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType

from bot.adapters.telegram.context import BotContext
from bot.adapters.telegram.html import escape
from bot.adapters.telegram.views import answer_html, related_markup
from bot.core.text import detect_language
from bot.services.answering import EmptyQuestion

logger = logging.getLogger("bot.telegram")


async def question(update: Update, context: BotContext) -> None:
    """Answer a text message (or an edited one) with the answer service."""
    svc = context.services
    message = update.effective_message
    text = addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return
    chat_id = message.chat.id
    chat_key = svc.pseudonym("chat", chat_id)
    user_key = svc.pseudonym("user", update.effective_user.id if update.effective_user else chat_id)
    lang = context.chat_state.language
    if not svc.user_limit.allow(user_key):
        if svc.user_limit.tell_once(user_key):
            await context.send(chat_id, svc.texts.render("rate_limited", lang or detect_language(text)))
        return
    previous = svc.memory.previous(chat_key)
    svc.in_flight += 1
    try:
        answer = await typing_while(
            context,
            chat_id,
            svc.typing_every_s,
            asyncio.to_thread(svc.answers.ask, text, lang, previous),
            first_after_s=svc.typing_after_s,
        )
    except EmptyQuestion:
        await context.send(chat_id, escape(svc.answers.empty_reply(lang or "zh")))
        return
    finally:
        svc.in_flight -= 1
    if answer.in_scope and not answer.refused:
        svc.memory.remember(chat_key, answer.question, answer.follow_up)
    logger.info(
        "answered chat=%s topic=%s in_scope=%s refused=%s generated=%s ms=%.0f",
        chat_key,
        answer.topic,
        answer.in_scope,
        answer.refused,
        answer.generated,
        answer.latency_ms,
    )
    await context.send(chat_id, answer_html(svc, answer), related_markup(answer))
    if svc.stats:  # after the answer is sent; counting never raises
        user_id = update.effective_user.id if update.effective_user else None
        await asyncio.to_thread(
            svc.stats.count_answer, answer.topic, answer.in_scope, answer.refused, user_id
        )


async def not_text(update: Update, context: BotContext) -> None:
    """Photos, stickers, voice and the like: explain that the bot reads text."""
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        replied = message.reply_to_message
        if not (replied and replied.from_user and replied.from_user.id == context.bot.id):
            return
    await context.send(message.chat.id, context.services.texts.render("non_text", context.language(update)))


async def typing_while(context: BotContext, chat_id: int, every_s: float, work, first_after_s: float = 0.0):
    """Await `work`, showing "typing…" when it is not done after `first_after_s` seconds, and
    again every `every_s` seconds until it is done. During a burst (more answers in flight
    than `typing_max_in_flight`) a fast path shows none: the answers need the budget."""
    task = asyncio.ensure_future(work)
    if first_after_s > 0:
        done, _ = await asyncio.wait({task}, timeout=first_after_s)
        svc = context.services
        if done or svc.in_flight > svc.typing_max_in_flight:
            return await task
    while True:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        done, _ = await asyncio.wait({task}, timeout=every_s)
        if done:
            return task.result()


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The text to answer, or None when a group message is not meant for the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    mention = f"@{bot_username}".lower()
    mentioned = any(
        value.lower() == mention for value in message.parse_entities([MessageEntityType.MENTION]).values()
    )
    if mentioned or mention in text.lower():
        start = text.lower().find(mention)
        return (text[:start] + " " + text[start + len(mention) :]).strip() if start >= 0 else text
    return None
