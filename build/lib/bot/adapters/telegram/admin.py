"""Operating the bot: the flood gate, feedback buttons, /stats for admins, the error handler, the menu."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop

from bot.adapters.charts import render_chart
from bot.adapters.telegram.context import BotContext
from bot.adapters.telegram.html import escape

logger = logging.getLogger("bot.telegram")
MAX_REMEMBERED_VOTES = 50_000


async def flood_gate(update: Update, context: BotContext) -> None:
    """Before any handler: a user sending more updates than anyone reads is told once, then ignored."""
    svc = context.services
    user = update.effective_user
    if user is None:
        return
    user_key = svc.pseudonym("user", user.id)
    if svc.update_limit.allow(user_key):
        return
    chat = update.effective_chat
    # One "please wait" per window, whichever limit was hit first.
    if chat is not None and chat.type == ChatType.PRIVATE and svc.user_limit.tell_once(user_key):
        await context.send(chat.id, svc.texts.render("rate_limited", context.language(update)))
    raise ApplicationHandlerStop


async def feedback_button(update: Update, context: BotContext) -> None:
    """👍/👎 under an answer: counted per entry, once per user and message."""
    svc = context.services
    query = update.callback_query
    _, vote, entry_id = [*(query.data or "").split(":", 2), "", ""][:3]
    lang = context.language(update)
    if entry_id not in svc.kb.entries or vote not in ("up", "down"):
        await query.answer()
        return
    message_id = query.message.message_id if query.message else 0
    key = svc.pseudonym("vote", f"{update.effective_user.id}:{update.effective_chat.id}:{message_id}")
    if key in svc.votes:
        await query.answer(svc.texts.render("feedback_already", lang))
        return
    if len(svc.votes) >= MAX_REMEMBERED_VOTES:
        svc.votes.clear()  # memory stays bounded; an old answer could then be rated twice
    svc.votes.add(key)
    await query.answer(svc.texts.render("feedback_thanks", lang))
    if svc.stats:
        await asyncio.to_thread(svc.stats.count_feedback, entry_id, vote)


async def stats_command(update: Update, context: BotContext) -> None:
    """/stats: the usage chart, for the admins in ADMIN_USER_IDS in a private chat, nobody else."""
    svc = context.services
    chat, user = update.effective_chat, update.effective_user
    lang = context.language(update)
    allowed = user is not None and user.id in svc.admin_ids and chat.type == ChatType.PRIVATE
    if not allowed or svc.stats is None:
        await context.send(chat.id, escape(svc.texts.render("stats_not_available", lang)))
        return
    summary = await asyncio.to_thread(svc.stats.summary)
    names = {topic.id: topic.en for topic in svc.kb.topics.values()}
    chart = await asyncio.to_thread(render_chart, summary, names)
    caption = svc.texts.render(
        "stats_caption", lang, days=str(len(summary.days)), questions=str(summary.total_questions)
    )
    await svc.pacer.wait_turn(chat.id)
    await context.bot.send_photo(chat.id, photo=chart, caption=caption)


async def error_handler(update: object, context: BotContext) -> None:
    """Log the failure with a pseudonymous chat id (never the text) and apologise to the user."""
    svc = context.services
    chat = update.effective_chat if isinstance(update, Update) else None
    chat_key = svc.pseudonym("chat", chat.id) if chat else "-"
    logger.error("update failed for chat=%s", chat_key, exc_info=context.error)
    if chat is not None:
        try:
            apology = svc.texts.render("apology", context.chat_state.language or "zh")
            await context.bot.send_message(chat.id, apology)
        except Exception:  # the apology is best effort; the failure is already logged
            logger.warning("could not send the apology to chat=%s", chat_key)


async def post_init(application: Application) -> None:
    """Register the command menu (prompts/telegram.yaml) in Chinese (zh users) and English (the rest)."""
    menu = application.bot_data["services"].texts.menu
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(item.command, item.description[lang]) for item in menu]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
