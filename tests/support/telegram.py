"""Running the real bot against the fake Bot API server, for the Telegram tests and the benchmarks."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager

from bot.adapters.telegram.server import make_application
from bot.settings import Settings
from tests.support.fake_bot_api import FakeBotAPI, polling

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"


@asynccontextmanager
async def running_bot(app, tmp_path, **overrides):
    """A polling bot against a fresh fake server; yields (api, application)."""
    async with FakeBotAPI(token=TOKEN) as api:
        settings = Settings(
            data_dir=tmp_path, telegram_token=TOKEN, telegram_api_base_url=api.base_url, **overrides
        )
        application = make_application(settings, app)
        async with polling(application, post_init=True):
            yield api, application


@asynccontextmanager
async def bot_with_answers(app, tmp_path, answers):
    """A polling bot whose answer service is replaced by `answers`; yields (api, services)."""
    from bot.adapters.telegram.application import build_application, make_services

    async with FakeBotAPI(token=TOKEN) as api:
        settings = Settings(data_dir=tmp_path, telegram_token=TOKEN, telegram_api_base_url=api.base_url)
        services = make_services(app, settings)
        services.answers = answers(services)
        async with polling(build_application(TOKEN, api.base_url, services)):
            yield api, services


def texts(api, chat_id):
    return [call["text"] for call in api.sent(chat_id)]


def last_message_id(api, chat_id) -> int:
    """The id Telegram gave the bot's latest message in a chat."""
    sent = [c for c in api.calls if c.method == "sendMessage" and c.chat_id == chat_id and c.status == 200]
    return sent[-1].result["message_id"]


class FailingAnswers:
    """An answer service that always fails, to exercise the error handler."""

    def __init__(self, real):
        self.kb = real.kb
        self.max_question_chars = real.max_question_chars

    def ask(self, question, lang=None, previous=None):
        raise RuntimeError("the index went away")

    def empty_reply(self, lang="zh"):
        return ""


@contextmanager
def get_me_server(token: str = TOKEN) -> Iterator[str]:
    """A threaded stand-in answering Telegram's getMe (for synchronous start-up code): its base URL.

    `token` is accepted; any other is answered 401 Unauthorized, as Telegram does.
    """

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            known = self.path == f"/bot{token}/getMe"
            me = {"id": 1, "is_bot": True, "first_name": "Test", "username": "test_bot"}
            refused = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            self.send_response(200 if known else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"ok": True, "result": me} if known else refused).encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()
