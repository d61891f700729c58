"""End-to-end self-test of tests/fake_bot_api.py against an unmodified python-telegram-bot.

Each test starts its own FakeBotAPI inside the test (no async fixtures), so the server and
the PTB Application always share the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.fake_bot_api import FakeBotAPI, polling

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
CHAT = 4242
WELCOME = "Welcome! Send me anything."


# ---------------------------------------------------------------------- the bot under test


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet with an inline button."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Press me", callback_data="pressed")]])
    await update.effective_message.reply_text(WELCOME, reply_markup=keyboard)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo any non-command text."""
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button press and edit the message that carried it."""
    query = update.callback_query
    await query.answer(f"You pressed {query.data}")
    await query.edit_message_text(f"Pressed: {query.data}")


def build_app(api: FakeBotAPI, rate_limiter: AIORateLimiter | None = None) -> tuple[Application, list]:
    """An ordinary PTB Application pointed at the fake; handler errors are collected, not logged."""
    builder = ApplicationBuilder().token(TOKEN).base_url(api.base_url).base_file_url(api.file_base_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    errors: list = []

    async def collect_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app.add_error_handler(collect_error)
    return app, errors


def free_port() -> int:
    """A TCP port nobody listens on right now (for PTB's webhook server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- polling end to end


async def test_start_and_echo_reach_the_fake_server() -> None:
    async with FakeBotAPI() as api:
        app, errors = build_app(api)
        async with polling(app):
            api.inject_message(CHAT, "/start")
            [welcome] = await api.wait_for(1, chat_id=CHAT, timeout=5)
            api.inject_message(CHAT, "hello there")
            replies = await api.wait_for(lambda p: p["text"] == "echo: hello there", chat_id=CHAT, timeout=5)

        assert welcome["text"] == WELCOME
        assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "pressed"
        assert len(replies) == 1
        assert app.bot.username == "test_bot"
        assert errors == []
        methods = [call.method for call in api.calls]
        assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= set(methods)
        assert all(call.token == TOKEN for call in api.calls)
        assert not api.pending_updates, "the final getUpdates must acknowledge everything"


async def test_callback_query_is_answered_and_message_edited() -> None:
    async with FakeBotAPI() as api:
        app, errors = build_app(api)
        async with polling(app):
            api.inject_message(CHAT, "/start")
            await api.wait_for(1, chat_id=CHAT, timeout=5)
            api.inject_callback_query(CHAT, "pressed")
            [answer] = await api.wait_for(1, chat_id=CHAT, method="answerCallbackQuery", timeout=5)
            [edit] = await api.wait_for(1, chat_id=CHAT, method="editMessageText", timeout=5)

        assert answer["text"] == "You pressed pressed"
        assert edit["text"] == "Pressed: pressed"
        welcome_call = next(call for call in api.calls if call.method == "sendMessage")
        assert edit["message_id"] == welcome_call.result["message_id"]
        assert errors == []


async def test_callback_queries_carry_each_pressers_first_name() -> None:
    seen: list[tuple[int, str]] = []

    async def who_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.callback_query.from_user
        seen.append((user.id, user.first_name))
        await update.callback_query.answer()

    async with FakeBotAPI() as api:
        app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
        app.add_handler(CallbackQueryHandler(who_pressed))
        async with polling(app):
            group = -100777
            api.inject_callback_query(group, "a", user_id=1, first_name="Mei")
            api.inject_callback_query(group, "b", user_id=2, first_name="Tom")
            api.inject_callback_query(group, "c", user_id=3)
            await api.wait_for(3, chat_id=group, method="answerCallbackQuery", timeout=5)
    assert sorted(seen) == [(1, "Mei"), (2, "Tom"), (3, "Test")]


async def test_rate_limiter_retries_after_429() -> None:
    async with FakeBotAPI() as api:
        app, errors = build_app(api, AIORateLimiter(max_retries=3))
        api.fail_next("sendMessage", times=1, retry_after=1)
        async with polling(app):
            api.inject_message(CHAT, "are you there?")
            [reply] = await api.wait_for(1, chat_id=CHAT, timeout=5)

        assert reply["text"] == "echo: are you there?"
        attempts = [call for call in api.calls if call.method == "sendMessage"]
        assert [call.status for call in attempts] == [429, 200]
        assert attempts[1].monotonic - attempts[0].monotonic >= 1.0, "PTB must honour retry_after"
        assert errors == []


async def test_429_without_rate_limiter_surfaces_retry_after() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url) as bot:
        api.fail_next("sendMessage", retry_after=7)
        with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
            await bot.send_message(CHAT, "hi")
        assert (await bot.send_message(CHAT, "hi")).text == "hi"
        assert api.sent(CHAT) == [{"chat_id": CHAT, "text": "hi"}]


# ---------------------------------------------------------------------- webhook end to end


async def test_webhook_mode_receives_posted_updates() -> None:
    port = free_port()
    async with FakeBotAPI() as api:
        app, errors = build_app(api)
        async with app:
            await app.start()
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=f"http://127.0.0.1:{port}/hook",
                secret_token="s3cret",
            )
            try:
                assert api.webhook["url"] == f"http://127.0.0.1:{port}/hook"
                forbidden, _ = await api.post_to_webhook(api.webhook["url"], {}, secret_token="wrong")
                api.inject_message(CHAT, "via webhook")
                [(status, _)] = await api.flush_to_webhook()
                [reply] = await api.wait_for(1, chat_id=CHAT, timeout=5)
            finally:
                await app.updater.stop()
                await app.stop()

        assert forbidden == 403
        assert status == 200
        assert reply["text"] == "echo: via webhook"
        assert errors == []


# ---------------------------------------------------------------------- the fake's own API


async def test_injected_updates_deserialise_in_ptb() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url) as bot:
        kinds = ["sticker", "photo", "voice", "document", "location", "contact"]
        for kind in kinds:
            api.inject_non_text(CHAT, kind)
        api.inject_message(-100123, "/start@test_bot now", chat_type="supergroup", user_id=7)
        api.inject_edited_message(CHAT, 1, "edited")
        forwarded = {
            "message_id": 99,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private"},
            "text": "fwd",
            "forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "X"},
        }
        api.inject_update({"message": forwarded})

        updates = await bot.get_updates(timeout=0)

        messages = [update.message for update in updates[: len(kinds)]]
        assert all(getattr(message, kind) for message, kind in zip(messages, kinds, strict=True))
        group = updates[len(kinds)].message
        assert group.chat.title and group.chat.type == "supergroup" and group.from_user.id == 7
        assert group.entities[0].type == "bot_command" and group.entities[0].length == len("/start@test_bot")
        assert updates[len(kinds) + 1].edited_message.text == "edited"
        assert updates[len(kinds) + 2].message.forward_origin.sender_user_name == "X"
        assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


async def test_get_updates_long_polls_and_acknowledges() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url) as bot:
        first = api.inject_message(CHAT, "one")
        api.inject_message(CHAT, "two")
        assert [u.message.text for u in await bot.get_updates(limit=1)] == ["one"]
        assert [u.message.text for u in await bot.get_updates(offset=first + 1)] == ["two"]
        assert len(api.pending_updates) == 1

        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(offset=first + 2, timeout=5))
        await asyncio.sleep(0.1)
        api.inject_message(CHAT, "three")
        assert [u.message.text for u in await poll] == ["three"]
        assert time.monotonic() - started < 2, "a long poll must return as soon as an update arrives"
        assert [u["message"]["text"] for u in api.pending_updates] == ["three"]


async def test_commands_webhook_info_files_and_edits() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url, base_file_url=api.file_base_url) as bot:
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username, me.can_join_groups) == (123456, True, "test_bot", True)

        await bot.set_my_commands([("start", "Start"), ("help", "Help")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()

        await bot.set_webhook("https://example.invalid/hook", secret_token="abc")
        assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
        await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""

        photo = await bot.send_photo(CHAT, photo=b"\x89PNG-bytes", caption="a photo")
        document = await bot.send_document(CHAT, document=b"%PDF-1.4", filename="report.pdf")
        assert api.sent(CHAT, "sendPhoto")[0]["photo"].data == b"\x89PNG-bytes"
        assert api.sent(CHAT, "sendDocument")[0]["document"].data == b"%PDF-1.4"
        assert photo.caption == "a photo" and document.document.file_name == "report.pdf"
        downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
        assert bytes(downloaded) == b"%PDF-1.4"

        message = await bot.send_message(CHAT, "draft")
        edited = await bot.edit_message_text("final", chat_id=CHAT, message_id=message.message_id)
        assert edited.text == "final" and edited.edit_date is not None
        await bot.send_chat_action(CHAT, "typing")
        assert await bot.close() is True
        assert await bot.do_api_request("someFutureMethod", api_kwargs={"x": 1}) is True


async def test_telegram_errors_are_imitated() -> None:
    async with FakeBotAPI(token=TOKEN) as api:
        wrong = Bot("999:wrong", base_url=api.base_url)
        with pytest.raises(InvalidToken):
            await wrong.initialize()
        await wrong.shutdown()
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            message = await bot.send_message(CHAT, "same")
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_text("same", chat_id=CHAT, message_id=message.message_id)
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(CHAT, "x" * 4097)
        assert [call.status for call in api.calls] == [401, 200, 200, 400, 400]


async def test_wait_for_timeout_reports_recorded_calls() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url) as bot:
        await bot.send_message(CHAT, "something else")
        with pytest.raises(AssertionError, match="something else"):
            await api.wait_for(lambda p: p["text"] == "never", timeout=0.2)


async def test_json_bodies_generic_send_methods_and_message_ids() -> None:
    async with FakeBotAPI() as api, Bot(TOKEN, base_url=api.base_url) as bot:
        # Other clients send JSON bodies; nested objects then arrive as real objects.
        markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{api.base_url}{TOKEN}/sendMessage",
                json={"chat_id": CHAT, "text": "123", "reply_markup": markup},
            ) as response,
        ):
            body = await response.json()
        assert body["ok"] and body["result"]["reply_markup"] == markup
        assert api.sent(CHAT)[0]["text"] == "123"

        sticker = await bot.send_sticker(CHAT, sticker=b"webp-bytes")
        assert sticker.sticker.file_size == len(b"webp-bytes")
        album = await bot.send_media_group(CHAT, [InputMediaPhoto(b"p1"), InputMediaPhoto(b"p2")])
        assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id

        # Explicit message ids push the automatic ones up, so ids never collide.
        api.inject_message(CHAT, "explicit", message_id=50)
        reply = await bot.send_message(CHAT, "reply", reply_to_message_id=50)
        assert reply.message_id == 51 and reply.reply_to_message.text == "explicit"
        api.inject_message(CHAT, "quoting the bot", reply_to_message=51)
        explicit, quoting = await bot.get_updates()
        assert explicit.message.message_id == 50
        assert quoting.message.message_id == 52 and quoting.message.reply_to_message.from_user.is_bot
