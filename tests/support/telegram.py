"""Running the real bot against the fake Bot API server, for the Telegram tests and the benchmarks."""

from __future__ import annotations

from contextlib import asynccontextmanager

from bot.adapters.telegram.server import make_application
from bot.settings import Settings
from tests.support.fake_bot_api import FakeBotAPI

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"


@asynccontextmanager
async def running_bot(app, tmp_path, **overrides):
    """A polling bot against a fresh fake server; yields (api, application)."""
    async with FakeBotAPI(token=TOKEN) as api:
        settings = Settings(
            data_dir=tmp_path, telegram_token=TOKEN, telegram_api_base_url=api.base_url, **overrides
        )
        application = make_application(settings, app)
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield api, application
            finally:
                await application.updater.stop()
                await application.stop()


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
