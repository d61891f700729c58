"""A fake Telegram Bot API server for end-to-end tests of python-telegram-bot bots.

The server speaks just enough of https://core.telegram.org/bots/api for an unmodified
python-telegram-bot (PTB) ``Application`` to run against it in polling or webhook mode:

    async with FakeBotAPI() as api:
        app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
        ...
        api.inject_message(42, "/start")
        replies = await api.wait_for(1, chat_id=42)

Every request is recorded (method, parsed params, uploaded files, token, arrival time, status)
so tests can assert on what the bot sent; ``fail_next`` simulates flood control (HTTP 429).

Wire format notes (from PTB 22's ``telegram/request``): PTB POSTs to ``{base_url}{token}/{method}``
with an ``application/x-www-form-urlencoded`` body, or ``multipart/form-data`` when files are
uploaded. String parameters are sent as they are; every other value (ints, bools, nested objects
such as ``reply_markup``) is JSON-encoded into a string. JSON bodies and query strings are
accepted too, as the real Bot API accepts them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

JSONDict = dict[str, Any]
CallPredicate = Callable[[JSONDict], bool]

DEFAULT_BOT_ID = 123456
DEFAULT_GROUP_USER_ID = 777000111
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# Telegram accepts uploads of up to 50 MB; aiohttp's default body limit is 1 MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Form values for these keys are free text or string identifiers: they must stay strings even
# when they happen to look like JSON (a user may well type "123" or "true"). Every other form
# value is JSON-decoded when possible, mirroring how PTB encodes non-string parameters.
STRING_KEYS = frozenset(
    {
        "action", "address", "business_connection_id", "callback_query_id", "caption",
        "currency", "data", "description", "emoji", "explanation", "file_id", "first_name",
        "foursquare_id", "inline_message_id", "inline_query_id", "ip_address", "language_code",
        "last_name", "message_effect_id", "name", "parse_mode", "payload", "phone_number",
        "provider_token", "query", "question", "secret_token", "short_description",
        "start_parameter", "text", "title", "url", "vcard",
    }
)  # fmt: skip

# Message content for send* methods other than sendMessage/sendPhoto/sendDocument, so that
# the returned Message de-serialises with the media attribute the bot asked for.
MEDIA_DEFAULTS: dict[str, JSONDict] = {
    "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    "voice": {"duration": 2, "mime_type": "audio/ogg"},
    "audio": {"duration": 3, "mime_type": "audio/mpeg"},
    "video": {"width": 640, "height": 360, "duration": 3, "mime_type": "video/mp4"},
    "animation": {"width": 320, "height": 240, "duration": 2, "mime_type": "video/mp4"},
    "video_note": {"length": 240, "duration": 2},
}

TOO_MANY_REQUESTS = "Too Many Requests: retry after {}"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedCall:
    """One Bot API request as the fake server received it.

    ``status`` is None while the request is being handled (e.g. a long poll), then the HTTP
    status that was answered; ``result`` is the ``result`` field of a successful answer.
    Uploaded files appear both in ``files`` and, under their field name, in ``params``.
    """

    method: str
    params: JSONDict
    token: str
    time: float
    monotonic: float
    http_method: str = "POST"
    files: dict[str, UploadedFile] = field(default_factory=dict)
    chat_id: int | str | None = None
    status: int | None = None
    result: Any = None
    description: str | None = None


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": status, ...}``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Signal:
    """Wakes every coroutine waiting for 'something changed' (a new call or a new update)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters; later waiters wait for the next notification."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` is true; return False if ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def chat_key(chat_id: Any) -> int | str | None:
    """Normalise a chat id so that 42, "42" and 42.0 compare equal; "@channel" stays a string."""
    if chat_id is None or isinstance(chat_id, int):
        return chat_id
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


def decode_form_value(key: str, value: str) -> Any:
    """Undo PTB's form encoding: JSON-decode non-string parameters, keep text as it is."""
    if key in STRING_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def command_entities(text: str) -> list[JSONDict]:
    """The bot_command entity Telegram adds to a message starting with "/"."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


def ok(result: Any) -> web.Response:
    """A successful Bot API answer."""
    return web.json_response({"ok": True, "result": result})


def error_response(error: ApiError) -> web.Response:
    """An error Bot API answer with the HTTP status equal to ``error_code``, as Telegram does."""
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status)


class FakeBotAPI:
    """An in-process fake of the Telegram Bot API server (aiohttp, 127.0.0.1, a free port).

    Args:
        token: if given, requests with any other token are answered 401 Unauthorized.
        bot_username: the bot's username (without "@") returned by getMe.
        bot_first_name: the bot's first name returned by getMe.
    """

    def __init__(
        self, token: str | None = None, bot_username: str = "test_bot", bot_first_name: str = "Test Bot"
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.calls: list[RecordedCall] = []
        self.webhook: JSONDict = {"url": "", "secret_token": None, "max_connections": 40}
        self.commands: dict[str, list[JSONDict]] = {}
        self._updates: deque[JSONDict] = deque()
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)  # callback query ids, file ids
        self._last_message_ids: dict[Any, int] = {}
        self._last_token: str | None = None
        self._messages: dict[tuple[Any, int], JSONDict] = {}
        self._chats: dict[Any, JSONDict] = {}
        self._callback_chats: dict[str, Any] = {}
        self._files: dict[str, UploadedFile] = {}
        self._file_paths: dict[str, str] = {}
        self._failures: dict[str, deque[int]] = {}
        self._calls_changed = _Signal()
        self._updates_changed = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers = self._method_table()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on 127.0.0.1 at a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file_download)
        # A short shutdown timeout: a test must not hang on a connection PTB left open.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered with no updates first."""
        self._closing = True
        self._updates_changed.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_file_url(...)``, used by ``File.download_*``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ test-side: updates

    def inject_update(self, update: JSONDict) -> int:
        """Queue a raw Update dict for getUpdates; an ``update_id`` is assigned if missing.

        Use it for anything the other helpers do not build (forwarded messages with
        ``forward_origin``, my_chat_member, inline queries, ...). Returns the update_id.
        """
        update = dict(update)
        if "update_id" in update:
            # Keep later automatic ids above an explicit one, as Telegram's ids only grow.
            self._update_ids = itertools.count(max(next(self._update_ids), update["update_id"] + 1))
        else:
            update["update_id"] = next(self._update_ids)
        self._remember_update_content(update)
        self._updates.append(update)
        self._updates_changed.notify()
        return update["update_id"]

    def inject_message(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "Test",
        chat_type: str = "private",
        entities: list[JSONDict] | None = None,
        reply_to_message: JSONDict | int | None = None,
        message_id: int | None = None,
        *,
        language_code: str | None = None,
        username: str | None = None,
    ) -> int:
        """Queue an Update with a text message from a user; returns the update_id.

        Commands ("/start", "/help@test_bot arg") get a bot_command entity unless ``entities``
        is given. ``reply_to_message`` is a Message dict or the id of a message in this chat.
        A ``chat_type`` of "channel" produces a ``channel_post`` without a sender.
        """
        message = self._user_message(
            chat_id, user_id, first_name, chat_type, message_id, language_code, username
        )
        message["text"] = text
        message_entities = command_entities(text) if entities is None else entities
        if message_entities:
            message["entities"] = message_entities
        replied = self._resolve_reply(chat_id, reply_to_message)
        if replied:
            message["reply_to_message"] = replied
        kind = "channel_post" if chat_type == "channel" else "message"
        return self.inject_update({kind: message})

    def inject_edited_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        user_id: int | None = None,
        first_name: str = "Test",
        chat_type: str = "private",
        entities: list[JSONDict] | None = None,
    ) -> int:
        """Queue an ``edited_message`` Update: the user changed message ``message_id`` to ``text``."""
        original = self._messages.get((chat_key(chat_id), message_id))
        message = self._user_message(chat_id, user_id, first_name, chat_type, message_id)
        if original:
            message["date"] = original["date"]
        message["edit_date"] = int(time.time())
        message["text"] = text
        message_entities = command_entities(text) if entities is None else entities
        if message_entities:
            message["entities"] = message_entities
        kind = "edited_channel_post" if chat_type == "channel" else "edited_message"
        return self.inject_update({kind: message})

    def inject_callback_query(
        self,
        chat_id: int,
        data: str,
        user_id: int | None = None,
        message_id: int | None = None,
        *,
        first_name: str = "Test",
    ) -> int:
        """Queue a callback_query Update: the user pressed an inline button with ``data``.

        The button belongs to bot message ``message_id``, by default the last message the bot
        sent to the chat (a placeholder bot message is created if there is none). The presser
        is ``user_id`` with ``first_name`` (several people in a group press the same button).
        """
        key = chat_key(chat_id)
        message = self._callback_message(key, message_id)
        query_id = str(next(self._ids) * 1000003)
        self._callback_chats[query_id] = key
        sender = self._user(self._default_user_id(key, user_id), first_name)
        callback = {
            "id": query_id,
            "from": sender,
            "chat_instance": f"ci-{key}",
            "data": data,
            "message": message,
        }
        return self.inject_update({"callback_query": callback})

    def inject_non_text(
        self,
        chat_id: int,
        kind: str,
        user_id: int | None = None,
        first_name: str = "Test",
        chat_type: str = "private",
    ) -> int:
        """Queue a message without text: kind is sticker, photo, voice, document, location or contact."""
        builders: dict[str, Callable[[int | None], JSONDict]] = {
            "sticker": lambda uid: {"sticker": self._file_object("sticker", emoji="👍")},
            "photo": lambda uid: {
                "photo": self._photo_sizes(self._register_file(b"\x89PNG fake", "image/jpeg"))
            },
            "voice": lambda uid: {"voice": self._file_object("voice")},
            "document": lambda uid: {
                "document": self._file_object("document", file_name="test.pdf", mime_type="application/pdf")
            },
            "location": lambda uid: {"location": {"latitude": 25.0330, "longitude": 121.5654}},
            "contact": lambda uid: {
                "contact": {"phone_number": "+15555550123", "first_name": first_name, "user_id": uid}
            },
        }
        if kind not in builders:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(builders)}")
        message = self._user_message(chat_id, user_id, first_name, chat_type)
        message.update(builders[kind](message.get("from", {}).get("id")))
        return self.inject_update({"channel_post" if chat_type == "channel" else "message": message})

    def picture_message(
        self,
        chat_id: int,
        data: bytes,
        *,
        as_document: bool = False,
        mime_type: str = "image/png",
        file_name: str = "screenshot.png",
        caption: str | None = None,
        chat_type: str = "private",
        user_id: int | None = None,
        file_size: int | None = None,
    ) -> JSONDict:
        """A user's message carrying the picture `data`, as a photo or as a file (document).

        The bytes are served by getFile and the file URL; `file_size` overrides the size
        Telegram reports (to test a limit without sending megabytes).
        """
        message = self._user_message(chat_id, user_id, "Test", chat_type)
        file_id = self._register_file(data, mime_type, file_name if as_document else None)
        if as_document:
            document = {**self._file_fields(file_id), "file_name": file_name, "mime_type": mime_type}
            message["document"] = document
        else:
            message["photo"] = self._photo_sizes(file_id)
        if file_size is not None:
            for item in message.get("photo") or [message.get("document")]:
                item["file_size"] = file_size
        if caption is not None:
            message["caption"] = caption
            entities = command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return message

    def inject_picture(self, chat_id: int, data: bytes, reply_text: str | None = None, **options: Any) -> int:
        """Queue a picture message (see `picture_message`); with `reply_text`, queue instead a text
        message (a command, say) that replies to the picture."""
        message = self.picture_message(chat_id, data, **options)
        if reply_text is None:
            return self.inject_update({"message": message})
        return self.inject_message(
            chat_id, reply_text, chat_type=options.get("chat_type", "private"), reply_to_message=message
        )

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet acknowledged by a getUpdates offset."""
        return list(self._updates)

    # ------------------------------------------------------------------ test-side: assertions

    def sent(self, chat_id: Any = None, method: str | None = "sendMessage") -> list[JSONDict]:
        """Params of the successful calls of ``method`` (None: any method), optionally for one chat.

        Failed calls (e.g. answered 429 by ``fail_next``) are not included; see ``calls``.
        """
        return [call.params for call in self._successful_calls(chat_id, method)]

    async def wait_for(
        self,
        predicate_or_count: int | CallPredicate = 1,
        chat_id: Any = None,
        method: str | None = "sendMessage",
        timeout: float = 10.0,
    ) -> list[JSONDict]:
        """Wait until enough successful matching calls have arrived; return their params.

        An int waits for at least that many calls; a callable ``predicate(params) -> bool``
        waits for at least one call it accepts and returns only the accepted ones.
        Raises AssertionError listing what was recorded if ``timeout`` seconds pass first.
        """
        if callable(predicate_or_count):
            predicate, needed = predicate_or_count, 1
        else:
            predicate, needed = (lambda params: True), int(predicate_or_count)

        def matching() -> list[JSONDict]:
            return [params for params in self.sent(chat_id, method) if predicate(params)]

        if await self._calls_changed.wait_until(lambda: len(matching()) >= needed, timeout):
            return matching()
        raise AssertionError(
            f"timed out after {timeout}s waiting for {needed} matching {method or 'any'} call(s)"
            f" (chat_id={chat_id}); matching: {matching()!r}\nrecorded calls:\n{self.describe_calls()}"
        )

    def describe_calls(self) -> str:
        """A readable one-line-per-call list of everything recorded, for failure messages."""
        lines = []
        for call in self.calls:
            params = {key: value for key, value in call.params.items() if key != "chat_id"}
            lines.append(f"  {call.method} chat={call.chat_id} status={call.status} {params!r:.200}")
        return "\n".join(lines) or "  (none)"

    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 (flood control)."""
        self._failures.setdefault(method.lower(), deque()).extend([retry_after] * times)

    def clear_calls(self) -> None:
        """Forget the recorded calls (the chat state and queued updates stay)."""
        self.calls.clear()

    # ------------------------------------------------------------------ test-side: webhooks

    async def post_to_webhook(
        self, url: str, update_dict: JSONDict, secret_token: str | None = None, timeout: float = 10.0
    ) -> tuple[int, str]:
        """POST an Update to a webhook as Telegram does; returns (HTTP status, response body)."""
        update = dict(update_dict)
        update.setdefault("update_id", next(self._update_ids))
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token is not None else {}
        async with (
            ClientSession(timeout=ClientTimeout(total=timeout)) as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def flush_to_webhook(self) -> list[tuple[int, str]]:
        """Deliver the queued updates to the webhook registered by setWebhook, with its secret.

        Updates answered 2xx leave the queue, as Telegram would; the others stay queued.
        """
        if not self.webhook["url"]:
            raise AssertionError("no webhook is set (the bot has not called setWebhook)")
        results = []
        for update in list(self._updates):
            status, body = await self.post_to_webhook(
                self.webhook["url"], update, self.webhook["secret_token"]
            )
            if 200 <= status < 300:
                self._updates.remove(update)
            results.append((status, body))
        return results

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.Response:
        """Record a Bot API request and answer it."""
        method = request.match_info["method"]
        call = RecordedCall(
            method=method,
            params={},
            token=request.match_info["token"],
            time=time.time(),
            monotonic=time.monotonic(),
            http_method=request.method,
        )
        self.calls.append(call)
        try:
            call.params, call.files = await self._parse_params(request)
            call.chat_id = self._chat_of_call(call)
            response = await self._answer(call)
        except ApiError as error:
            call.description = error.description
            response = error_response(error)
        except (ValueError, TypeError) as exc:
            # A malformed parameter (e.g. a non-numeric message_id): Telegram answers 400.
            call.description = f"Bad Request: {exc}"
            response = error_response(ApiError(400, call.description))
        except Exception as exc:
            # A bug in the fake itself: answer something PTB reports, with the cause in it.
            call.description = f"Internal Server Error in FakeBotAPI: {exc!r}"
            response = error_response(ApiError(500, call.description))
        call.status = response.status
        self._calls_changed.notify()
        return response

    async def _answer(self, call: RecordedCall) -> web.Response:
        """Check the token and injected failures, then run the method's handler."""
        if self.token is not None and call.token != self.token:
            raise ApiError(401, "Unauthorized")
        self._last_token = call.token
        failures = self._failures.get(call.method.lower())
        if failures:
            retry_after = failures.popleft()
            raise ApiError(429, TOO_MANY_REQUESTS.format(retry_after), {"retry_after": retry_after})
        handler = self._handlers.get(call.method.lower())
        if handler is None:
            handler = self._send_media if call.method.lower().startswith("send") else self._m_true
        call.result = await handler(call)
        return ok(call.result)

    async def _parse_params(self, request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
        """Parse query string plus a JSON, urlencoded or multipart body into params and files."""
        params: JSONDict = {key: decode_form_value(key, value) for key, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse JSON body: {exc}") from exc
            params.update(body if isinstance(body, dict) else {})
            return params, files
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                upload = UploadedFile(key, value.filename, value.content_type, value.file.read())
                files[key] = params[key] = upload
            else:
                params[key] = decode_form_value(key, value)
        return params, files

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        """Serve the bytes of a file whose path getFile handed out."""
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        upload = self._files[file_id]
        return web.Response(body=upload.data, content_type=upload.content_type or "application/octet-stream")

    def _method_table(self) -> dict[str, Callable[[RecordedCall], Awaitable[Any]]]:
        """Handlers by lower-cased method name: the Bot API treats method names case-insensitively."""
        table = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "answerCallbackQuery": self._m_answer_callback_query,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "sendMediaGroup": self._m_send_media_group,
            "sendChatAction": self._m_true,
            "copyMessage": self._m_copy_message,
            "deleteMessage": self._m_delete_message,
            "getFile": self._m_get_file,
            "close": self._m_true,
            "logOut": self._m_true,
        }
        return {name.lower(): handler for name, handler in table.items()}

    # ------------------------------------------------------------------ Bot API methods

    async def _m_true(self, call: RecordedCall) -> bool:
        """Methods whose only result is True (sendChatAction, close, logOut, anything unknown)."""
        return True

    async def _m_get_me(self, call: RecordedCall) -> JSONDict:
        """getMe: the bot's User, with the bot-only fields PTB exposes."""
        return {
            **self._bot_user(call.token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, call: RecordedCall) -> list[JSONDict]:
        """getUpdates: acknowledge below ``offset``, then long-poll up to ``timeout`` seconds."""
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        self._acknowledge(int(params.get("offset") or 0))
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        await self._updates_changed.wait_until(lambda: bool(self._updates) or self._closing, timeout)
        return list(itertools.islice(self._updates, limit))

    async def _m_send_message(self, call: RecordedCall) -> JSONDict:
        """sendMessage: validate the text as Telegram does and return the new Message."""
        text = call.params.get("text")
        text = "" if text is None else str(text)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return self._bot_message(call, {"text": text})

    async def _m_edit_message_text(self, call: RecordedCall) -> JSONDict | bool:
        """editMessageText: edit a stored bot message; inline messages just get True."""
        if call.params.get("inline_message_id"):
            return True
        message = self._editable_message(call)
        text = str(call.params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._inline_markup(call.params)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.update(text=text, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    async def _m_answer_callback_query(self, call: RecordedCall) -> bool:
        """answerCallbackQuery: only ids of injected callback queries are valid."""
        if str(call.params.get("callback_query_id")) not in self._callback_chats:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return True

    async def _m_set_my_commands(self, call: RecordedCall) -> bool:
        """setMyCommands: store the list per (scope, language_code)."""
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands[self._commands_key(call.params)] = commands
        return True

    async def _m_get_my_commands(self, call: RecordedCall) -> list[JSONDict]:
        """getMyCommands: the list stored for (scope, language_code), else an empty list."""
        return self.commands.get(self._commands_key(call.params), [])

    async def _m_delete_my_commands(self, call: RecordedCall) -> bool:
        """deleteMyCommands: forget the list for (scope, language_code)."""
        self.commands.pop(self._commands_key(call.params), None)
        return True

    async def _m_set_webhook(self, call: RecordedCall) -> bool:
        """setWebhook: store the URL and options; an empty URL removes the webhook."""
        self.webhook = {
            "url": str(call.params.get("url") or ""),
            "secret_token": call.params.get("secret_token"),
            "max_connections": int(call.params.get("max_connections") or 40),
            "allowed_updates": call.params.get("allowed_updates"),
        }
        self._drop_pending_if_asked(call.params)
        return True

    async def _m_delete_webhook(self, call: RecordedCall) -> bool:
        """deleteWebhook: remove the webhook, optionally dropping pending updates."""
        self.webhook = {"url": "", "secret_token": None, "max_connections": 40}
        self._drop_pending_if_asked(call.params)
        return True

    async def _m_get_webhook_info(self, call: RecordedCall) -> JSONDict:
        """getWebhookInfo: the current webhook and the number of pending updates."""
        info: JSONDict = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _m_send_photo(self, call: RecordedCall) -> JSONDict:
        """sendPhoto: store an uploaded photo (or reuse a file_id) and return the Message."""
        file_id = self._file_id_of(call, "photo", default_type="image/jpeg")
        return self._bot_message(call, {"photo": self._photo_sizes(file_id), **self._caption(call)})

    async def _m_send_document(self, call: RecordedCall) -> JSONDict:
        """sendDocument: store an uploaded document (or reuse a file_id) and return the Message."""
        file_id = self._file_id_of(call, "document", default_type="application/octet-stream")
        upload = self._files[file_id]
        document = {
            **self._file_fields(file_id),
            "file_name": upload.filename or "document",
            "mime_type": upload.content_type or "application/octet-stream",
        }
        return self._bot_message(call, {"document": document, **self._caption(call)})

    async def _send_media(self, call: RecordedCall) -> JSONDict | bool:
        """Any other send* method: a Message carrying the kind of content that was sent.

        Methods without a chat (sendGift to a user_id, ...) fall back to the plain True.
        """
        if call.params.get("chat_id") is None:
            return True
        kind = self._snake_case(call.method.removeprefix("send").removeprefix("Send"))
        content: JSONDict = dict(self._caption(call))
        if kind in MEDIA_DEFAULTS:
            file_id = self._file_id_of(call, kind, default_type="application/octet-stream")
            content[kind] = {**self._file_fields(file_id), **MEDIA_DEFAULTS[kind]}
        elif kind == "location":
            content["location"] = {
                "latitude": call.params.get("latitude"),
                "longitude": call.params.get("longitude"),
            }
        elif kind == "contact":
            content["contact"] = {
                "phone_number": str(call.params.get("phone_number")),
                "first_name": str(call.params.get("first_name")),
            }
        elif kind == "dice":
            content["dice"] = {"emoji": call.params.get("emoji") or "🎲", "value": 4}
        return self._bot_message(call, content)

    async def _m_send_media_group(self, call: RecordedCall) -> list[JSONDict]:
        """sendMediaGroup: one Message per item, sharing a media_group_id."""
        items = call.params.get("media")
        if not isinstance(items, list) or not items:
            raise ApiError(400, 'Bad Request: parameter "media" is required')
        group_id = str(next(self._ids))
        messages = []
        for item in items:
            content = {"media_group_id": group_id}
            if item.get("caption"):
                content["caption"] = item["caption"]
            messages.append(self._bot_message(call, content))
        return messages

    async def _m_copy_message(self, call: RecordedCall) -> JSONDict:
        """copyMessage: a MessageId of the copy in the target chat."""
        copy = self._bot_message(call, {"text": "(copy)"})
        return {"message_id": copy["message_id"]}

    async def _m_delete_message(self, call: RecordedCall) -> bool:
        """deleteMessage: remove a stored message; unknown ones fail as on Telegram."""
        key = (chat_key(call.params.get("chat_id")), int(call.params.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _m_get_file(self, call: RecordedCall) -> JSONDict:
        """getFile: a File whose file_path is served under ``file_base_url``."""
        file_id = str(call.params.get("file_id"))
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path = f"files/{file_id}"
        self._file_paths[path] = file_id
        return {**self._file_fields(file_id), "file_path": path}

    # ------------------------------------------------------------------ state helpers

    def _acknowledge(self, offset: int) -> None:
        """Forget confirmed updates; a negative offset keeps only the last -offset updates."""
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    def _drop_pending_if_asked(self, params: JSONDict) -> None:
        """Honour ``drop_pending_updates`` of setWebhook/deleteWebhook."""
        if params.get("drop_pending_updates") is True:
            self._updates.clear()

    def _bot_id(self, token: str | None = None) -> int:
        """The bot's user id: the numeric part of its token, as on Telegram."""
        prefix = (token or self.token or self._last_token or "").split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID

    def _bot_user(self, token: str | None = None) -> JSONDict:
        """The bot as a User object."""
        return {
            "id": self._bot_id(token),
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @staticmethod
    def _user(
        user_id: int, first_name: str, language_code: str | None = None, username: str | None = None
    ) -> JSONDict:
        """A human User object."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return user

    def _chat(self, chat_id: Any, chat_type: str | None = None, first_name: str = "Test") -> JSONDict:
        """The Chat object for ``chat_id``, created on first use.

        Without an explicit type, negative ids are groups ("-100..." supergroups), as on Telegram.
        """
        key = chat_key(chat_id)
        if key in self._chats and (chat_type is None or self._chats[key]["type"] == chat_type):
            return self._chats[key]
        if chat_type is None:
            is_negative = isinstance(key, int) and key < 0
            chat_type = (
                ("supergroup" if str(key).startswith("-100") else "group") if is_negative else "private"
            )
        chat: JSONDict = {"id": key, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = {"channel": "Test Channel"}.get(chat_type, "Test Group")
        self._chats[key] = chat
        return chat

    def _default_user_id(self, key: Any, user_id: int | None) -> int:
        """The sender: an explicit user, else the chat's user in private chats, else a fixed member."""
        if user_id is not None:
            return user_id
        if isinstance(key, int) and key > 0:
            return key
        return DEFAULT_GROUP_USER_ID

    def _next_message_id(self, chat_id: Any) -> int:
        """Message ids count up per chat, shared between the user's and the bot's messages."""
        key = chat_key(chat_id)
        self._last_message_ids[key] = self._last_message_ids.get(key, 0) + 1
        return self._last_message_ids[key]

    def _note_message_id(self, chat_id: Any, message_id: int) -> None:
        """Keep automatic ids above an explicit one, so they never collide with it."""
        key = chat_key(chat_id)
        self._last_message_ids[key] = max(self._last_message_ids.get(key, 0), message_id)

    def _user_message(
        self,
        chat_id: Any,
        user_id: int | None,
        first_name: str,
        chat_type: str,
        message_id: int | None = None,
        language_code: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """The common part of a message a user sends (channel posts have no sender)."""
        key = chat_key(chat_id)
        message: JSONDict = {
            "message_id": message_id if message_id is not None else self._next_message_id(key),
            "date": int(time.time()),
            "chat": self._chat(key, chat_type, first_name),
        }
        if chat_type != "channel":
            user_id = self._default_user_id(key, user_id)
            message["from"] = self._user(user_id, first_name, language_code, username)
        return message

    def _bot_message(self, call: RecordedCall, content: JSONDict) -> JSONDict:
        """A new message from the bot in the call's chat, stored so it can be edited or replied to."""
        key = chat_key(call.params.get("chat_id"))
        if key is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        message: JSONDict = {
            "message_id": self._next_message_id(key),
            "from": self._bot_user(call.token),
            "chat": self._chat(key),
            "date": int(time.time()),
            **content,
        }
        markup = self._inline_markup(call.params)
        if markup:
            message["reply_markup"] = markup
        replied = self._replied_message(call.params, key)
        if replied:
            message["reply_to_message"] = replied
        self._messages[(key, message["message_id"])] = message
        return message

    @staticmethod
    def _inline_markup(params: JSONDict) -> JSONDict | None:
        """The reply_markup Telegram echoes back: only inline keyboards are part of a Message."""
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def _replied_message(self, params: JSONDict, key: Any) -> JSONDict | None:
        """The stored message a bot reply points at (reply_parameters or legacy reply_to_message_id)."""
        reply = params.get("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if message_id is None:
            return None
        return self._shallow(self._messages.get((key, int(message_id))))

    def _resolve_reply(self, chat_id: Any, reply: JSONDict | int | None) -> JSONDict | None:
        """A user's reply target: a Message dict as given, or a stored message of the chat by id."""
        if isinstance(reply, dict) or reply is None:
            return reply
        return self._shallow(self._messages.get((chat_key(chat_id), reply)))

    @staticmethod
    def _shallow(message: JSONDict | None) -> JSONDict | None:
        """A copy without its own reply_to_message: Telegram nests replies only one level deep."""
        if message is None:
            return None
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    def _editable_message(self, call: RecordedCall) -> JSONDict:
        """The stored bot message an edit refers to, with Telegram's errors otherwise."""
        key = chat_key(call.params.get("chat_id"))
        message = self._messages.get((key, int(call.params.get("message_id") or 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.get("from", {}).get("is_bot"):
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _callback_message(self, key: Any, message_id: int | None) -> JSONDict:
        """The bot message carrying the pressed button (created if the test did not send one)."""
        if message_id is None:
            ours = [
                mid
                for (chat, mid), msg in self._messages.items()
                if chat == key and msg.get("from", {}).get("is_bot")
            ]
            message_id = max(ours) if ours else None
        message = self._messages.get((key, message_id)) if message_id is not None else None
        if message is None:
            token = self.token or self._last_token or ""
            placeholder = RecordedCall("sendMessage", {"chat_id": key}, token, 0.0, 0.0)
            message = self._bot_message(placeholder, {"text": "(message with an inline keyboard)"})
        return self._shallow(message) or {}

    def _remember_update_content(self, update: JSONDict) -> None:
        """Store messages and callback ids from any injected update, so later calls can refer to them."""
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(kind)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                key = chat_key(message["chat"].get("id"))
                self._chats.setdefault(key, message["chat"])
                self._note_message_id(key, int(message["message_id"]))
                self._messages[(key, message["message_id"])] = message
        callback = update.get("callback_query")
        if isinstance(callback, dict) and "id" in callback:
            chat = (callback.get("message") or {}).get("chat") or {}
            self._callback_chats[str(callback["id"])] = chat_key(chat.get("id"))

    def _chat_of_call(self, call: RecordedCall) -> Any:
        """The chat a call concerns; callback answers are attributed to the query's chat."""
        if "chat_id" in call.params:
            return chat_key(call.params["chat_id"])
        query_id = call.params.get("callback_query_id")
        return self._callback_chats.get(str(query_id)) if query_id is not None else None

    def _successful_calls(self, chat_id: Any, method: str | None) -> list[RecordedCall]:
        """Calls answered 200, filtered by method (case-insensitively) and chat."""
        key = chat_key(chat_id)
        return [
            call
            for call in self.calls
            if call.status == 200
            and (method is None or call.method.lower() == method.lower())
            and (chat_id is None or call.chat_id == key)
        ]

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        """Commands are stored per scope and language, like Telegram does."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    @staticmethod
    def _caption(call: RecordedCall) -> JSONDict:
        """The caption part of a media message, validated for length."""
        caption = call.params.get("caption")
        if not caption:
            return {}
        if len(str(caption)) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        return {"caption": str(caption)}

    @staticmethod
    def _snake_case(name: str) -> str:
        """ "VideoNote" -> "video_note"."""
        return "".join(f"_{char.lower()}" if char.isupper() else char for char in name).lstrip("_")

    # ------------------------------------------------------------------ file helpers

    def _register_file(self, data: bytes, content_type: str | None, filename: str | None = None) -> str:
        """Keep file bytes under a new file_id so getFile and downloads can serve them."""
        file_id = f"fake-file-{next(self._ids)}"
        self._files[file_id] = UploadedFile(file_id, filename, content_type, data)
        return file_id

    def _file_id_of(self, call: RecordedCall, field_name: str, default_type: str) -> str:
        """The file_id for a send* media parameter: an upload, a known file_id or a URL."""
        value = call.params.get(field_name)
        if isinstance(value, UploadedFile):
            return self._register_file(value.data, value.content_type or default_type, value.filename)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if str(value) in self._files:
            return str(value)
        # A URL or a file_id from elsewhere: Telegram would fetch it; we store a stand-in.
        return self._register_file(b"", default_type, str(value).rsplit("/", 1)[-1])

    def _file_fields(self, file_id: str) -> JSONDict:
        """file_id, file_unique_id and file_size of a stored file."""
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self._files[file_id].data),
        }

    def _file_object(self, kind: str, **extra: Any) -> JSONDict:
        """A media object of ``kind`` with placeholder bytes behind its file_id."""
        mime_type = extra.get("mime_type") or MEDIA_DEFAULTS.get(kind, {}).get("mime_type")
        file_id = self._register_file(f"fake {kind} bytes".encode(), mime_type, extra.get("file_name"))
        return {**self._file_fields(file_id), **MEDIA_DEFAULTS.get(kind, {}), **extra}

    def _photo_sizes(self, file_id: str) -> list[JSONDict]:
        """A photo as Telegram sends it: several sizes; both here point at the same bytes."""
        fields = self._file_fields(file_id)
        small = {**fields, "file_unique_id": f"{fields['file_unique_id']}-s", "width": 90, "height": 90}
        return [small, {**fields, "width": 800, "height": 800}]


@asynccontextmanager
async def polling(application, post_init: bool = False):
    """A python-telegram-bot `application` initialised, started and polling the fake server until
    the block ends, then stopped cleanly; `post_init` runs the application's post_init hook."""
    async with application:
        if post_init:
            await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
