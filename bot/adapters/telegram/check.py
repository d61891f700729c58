"""Checking: /check with a message, /check in reply to one, or a forwarded text: is it a scam?"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType

from bot.adapters.telegram.ask import typing_while
from bot.adapters.telegram.context import BotContext
from bot.adapters.telegram.views import check_html
from bot.core.text import detect_language

logger = logging.getLogger("bot.telegram")


async def check_command(update: Update, context: BotContext) -> None:
    """/check followed by a message, or /check in reply to a message: is it a scam?"""
    message = update.effective_message
    text = " ".join(context.args or [])
    if not text and message.reply_to_message:
        text = message.reply_to_message.text or message.reply_to_message.caption or ""
    await check_and_reply(update, context, text)


async def forwarded(update: Update, context: BotContext) -> None:
    """A forwarded text is checked automatically (private chats only)."""
    message = update.effective_message
    if message.chat.type == ChatType.PRIVATE:
        await check_and_reply(update, context, message.text or "")


async def check_and_reply(update: Update, context: BotContext, text: str) -> None:
    """Check `text` and send the verdict, within the user's question limit."""
    svc = context.services
    chat_id = update.effective_chat.id
    lang = context.chat_state.language
    if not text.strip():
        await context.send(chat_id, svc.texts.render("check_usage", lang or context.language(update)))
        return
    user_key = svc.pseudonym("user", update.effective_user.id if update.effective_user else chat_id)
    if not svc.user_limit.allow(user_key):
        if svc.user_limit.tell_once(user_key):
            await context.send(chat_id, svc.texts.render("rate_limited", lang or detect_language(text)))
        return
    try:
        result = await typing_while(
            context,
            chat_id,
            svc.typing_every_s,
            asyncio.to_thread(svc.checker.check, text, lang),
            first_after_s=svc.typing_after_s or 0.5,
        )
    except ValueError:  # nothing left once invisible characters are removed
        await context.send(chat_id, svc.texts.render("check_usage", lang or context.language(update)))
        return
    logger.info(
        "checked chat=%s risk=%s signs=%d", svc.pseudonym("chat", chat_id), result.risk, len(result.signs)
    )
    await context.send(chat_id, check_html(svc, result))
    if svc.stats:
        user_id = update.effective_user.id if update.effective_user else None
        await asyncio.to_thread(svc.stats.count_check, result.risk, user_id)
