"""Browsing: /start, /help, /topics, /cases, /report, /lang, /privacy, /forget and their buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.adapters.telegram.context import BotContext
from bot.adapters.telegram.html import escape
from bot.adapters.telegram.views import case_view, entries_markup, entry_html, topics_markup

LANGUAGES = ("zh", "en")


async def start(update: Update, context: BotContext) -> None:
    """Welcome, what the bot can do, and buttons for the main topics."""
    svc = context.services
    lang = context.language(update)
    markup = topics_markup(svc, lang, svc.texts.start_topics)
    await context.send(update.effective_chat.id, svc.texts.render("start", lang), markup)


async def help_command(update: Update, context: BotContext) -> None:
    """How to use the bot."""
    await context.send(
        update.effective_chat.id, context.services.texts.render("help", context.language(update))
    )


async def topics(update: Update, context: BotContext) -> None:
    """An inline keyboard of every topic."""
    svc = context.services
    lang = context.language(update)
    markup = topics_markup(svc, lang, list(svc.kb.topics))
    await context.send(update.effective_chat.id, svc.texts.render("topics", lang), markup)


async def cases(update: Update, context: BotContext) -> None:
    """The report's cases, one at a time, with previous/next buttons."""
    text, markup = case_view(context.services, 0, context.language(update))
    await context.send(update.effective_chat.id, text, markup)


async def report(update: Update, context: BotContext) -> None:
    """Where to report and get help."""
    svc = context.services
    await context.send(
        update.effective_chat.id, entry_html(svc, svc.report_entry(), context.language(update))
    )


async def language(update: Update, context: BotContext) -> None:
    """Offer zh/en; otherwise the bot follows the language of each question."""
    choices = [
        InlineKeyboardButton("中文", callback_data="l:zh"),
        InlineKeyboardButton("English", callback_data="l:en"),
    ]
    text = context.services.texts.render("choose_language", context.language(update))
    await context.send(update.effective_chat.id, text, InlineKeyboardMarkup([choices]))


async def privacy(update: Update, context: BotContext) -> None:
    """What the bot keeps about a chat: nothing but a short in-memory context."""
    await context.send(
        update.effective_chat.id, context.services.texts.render("privacy", context.language(update))
    )


async def forget(update: Update, context: BotContext) -> None:
    """Drop everything held about this chat."""
    svc = context.services
    lang = context.language(update)
    chat_id = update.effective_chat.id
    svc.memory.forget(svc.pseudonym("chat", chat_id))
    context.chat_state.language = None
    if update.effective_user:
        svc.user_limit.forget(svc.pseudonym("user", update.effective_user.id))
        svc.update_limit.forget(svc.pseudonym("user", update.effective_user.id))
    await context.send(chat_id, svc.texts.render("forgotten", lang))


# --- buttons ------------------------------------------------------------------------------------


async def language_button(update: Update, context: BotContext) -> None:
    """`l:<lang>`: answer in this language from now on."""
    query = update.callback_query
    value = (query.data or "").partition(":")[2]
    if value not in LANGUAGES:
        await expired_button(update, context)
        return
    await query.answer()
    context.chat_state.language = value
    await context.send(update.effective_chat.id, context.services.texts.render("language_set", value))


async def topic_button(update: Update, context: BotContext) -> None:
    """`t:<topic>`: the topic's key entry, and buttons for its other entries."""
    svc = context.services
    query = update.callback_query
    topic = (query.data or "").partition(":")[2]
    entries = svc.kb.by_topic(topic) if topic in svc.kb.topics else []
    if not entries:
        await expired_button(update, context)
        return
    await query.answer()
    lang = context.language(update)
    key = next((e for e in entries if e.kind == "advice"), entries[0])
    others = [e for e in entries if e.id != key.id]
    text = entry_html(svc, key, lang)
    if others:
        text += f"\n\n<i>{escape(svc.texts.render('topic_entries', lang))}</i>"
    await context.send(update.effective_chat.id, text, entries_markup(others, lang))


async def entry_button(update: Update, context: BotContext) -> None:
    """`e:<entry id>`: one entry in full."""
    svc = context.services
    query = update.callback_query
    entry = svc.kb.entries.get((query.data or "").partition(":")[2])
    if entry is None:
        await expired_button(update, context)
        return
    await query.answer()
    await context.send(update.effective_chat.id, entry_html(svc, entry, context.language(update)))


async def case_button(update: Update, context: BotContext) -> None:
    """`c:<index>:<lang>`: turn the case page in place."""
    query = update.callback_query
    number, _, case_lang = (query.data or "").partition(":")[2].partition(":")
    if not number.lstrip("-").isdigit():
        await expired_button(update, context)
        return
    await query.answer()
    lang = case_lang if case_lang in LANGUAGES else context.language(update)
    text, markup = case_view(context.services, int(number), lang)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def expired_button(update: Update, context: BotContext) -> None:
    """A button this version no longer knows (an old message, a removed entry): say so in a toast."""
    await update.callback_query.answer(
        context.services.texts.render("button_expired", context.language(update))
    )
