"""Checking: /check with a message, /check in reply to one, a forwarded text, or a picture: is it a scam?

A picture (a photo, or an image sent as a file) is downloaded through the Bot
API's getFile into memory, never to disk, read off the event loop one at a time
(OCR takes both cores), and checked like a text; the chat sees "typing…" meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot.adapters.telegram.ask import typing_while
from bot.adapters.telegram.context import BotContext
from bot.adapters.telegram.html import escape
from bot.adapters.telegram.views import check_html, image_check_html
from bot.core.text import detect_language
from bot.services.images import ImageError

logger = logging.getLogger("bot.telegram")
# A picture's caption that asks for a check in a group: "/check" or "/check@SomeBot".
CHECK_CAPTION = r"^/check(?:@\w+)?(?:\s|$)"


async def check_command(update: Update, context: BotContext) -> None:
    """/check followed by a message, or /check in reply to a message: is it a scam?"""
    message = update.effective_message
    text = " ".join(context.args or [])
    replied = message.reply_to_message
    if not text and replied is not None and _picture_of(replied):
        await check_picture(update, context, replied)
        return
    if not text and replied:
        text = replied.text or replied.caption or ""
    await check_and_reply(update, context, text)


async def picture(update: Update, context: BotContext) -> None:
    """A photo or an image file in a private chat, or with a /check caption in a group."""
    await check_picture(update, context, update.effective_message)


def _picture_of(message: Message) -> tuple[str, int | None] | None:
    """(file_id, size) of the message's picture: the largest photo size, or an image document."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, largest.file_size
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return document.file_id, document.file_size
    return None


async def check_picture(update: Update, context: BotContext, message: Message) -> None:
    """Download the picture of `message` into memory, read it and send the verdict."""
    svc = context.services
    chat_id = update.effective_chat.id
    lang = context.chat_state.language
    reply_lang = lang or context.language(update)
    found = _picture_of(message)
    if found is None or svc.images is None:
        await context.send(chat_id, svc.texts.render("non_text", reply_lang))
        return
    user_key = svc.pseudonym("user", update.effective_user.id if update.effective_user else chat_id)
    if not svc.user_limit.allow(user_key):
        if svc.user_limit.tell_once(user_key):
            await context.send(chat_id, svc.texts.render("rate_limited", reply_lang))
        return
    file_id, size = found
    images = svc.images
    limit = svc.image_max_bytes
    limit_mb = f"{limit / 1e6:g}"
    if size is not None and size > limit:
        await context.send(chat_id, escape(images.text("too_large", reply_lang, limit_mb=limit_mb)))
        return

    async def read_and_check():
        data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
        async with svc.picture_slots:
            return await asyncio.to_thread(images.check, data, lang, limit)

    try:
        result = await typing_while(context, chat_id, svc.typing_every_s, read_and_check())
    except ImageError as exc:
        name = exc.reason if exc.reason in ("too_large", "unavailable") else "not_image"
        await context.send(chat_id, escape(images.text(name, reply_lang, limit_mb=limit_mb)))
        logger.info("picture refused chat=%s reason=%s", svc.pseudonym("chat", chat_id), exc.reason)
        return
    logger.info(
        "checked picture chat=%s risk=%s codes=%d ms=%.0f",
        svc.pseudonym("chat", chat_id),
        result.risk,
        len(result.qr),
        result.latency_ms,
    )
    await context.send(chat_id, image_check_html(svc, result))
    if svc.stats and result.risk:
        user_id = update.effective_user.id if update.effective_user else None
        await asyncio.to_thread(svc.stats.count_check, result.risk, user_id)


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
