"""Start-up against Telegram: a rejected token and no route are one sentence each, never the token."""

from __future__ import annotations

import asyncio
import os
import sys

from bot.adapters.telegram.connect import probe
from bot.settings import REPO_ROOT, Settings
from tests.support.chroma_server import free_port
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.telegram import TOKEN

WRONG_TOKEN = "999999:WRONG-token-that-must-never-be-printed"


async def _telegram(env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m bot telegram` with `env`, standard input closed; (code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "telegram",
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode(), err.decode()


async def test_a_rejected_token_is_one_sentence_that_never_shows_the_token(tmp_path):
    async with FakeBotAPI(token=TOKEN) as api:
        code, out, err = await _telegram(
            {
                "TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "BOT_DATA_DIR": str(tmp_path),
            }
        )
    assert code == 2
    assert "WRONG-token" not in out + err and "999999" not in out + err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: Telegram rejected the bot token: copy it again from @BotFather into TELEGRAM_BOT_TOKEN"
    ]
    assert "Traceback" not in err


async def test_no_route_names_the_address_and_the_proxy_setting(tmp_path):
    base = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    code, out, err = await _telegram(
        {"TELEGRAM_BOT_TOKEN": WRONG_TOKEN, "TELEGRAM_API_BASE_URL": base, "BOT_DATA_DIR": str(tmp_path)}
    )
    assert code == 2 and "Traceback" not in err and "WRONG-token" not in out + err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert base.removesuffix("/bot") in line and "TELEGRAM_PROXY" in line


async def test_the_probe_names_the_bot_when_the_token_is_accepted():
    async with FakeBotAPI(token=TOKEN, bot_username="pi_guard_bot") as api:
        settings = Settings(telegram_token=TOKEN, telegram_api_base_url=api.base_url)
        assert await probe(settings) == "@pi_guard_bot"
        assert [c.method for c in api.calls] == ["getMe"]


async def test_the_proxy_carries_the_probe():
    # A proxy that is down: the failure names it (without its password), proving it was used.
    async with FakeBotAPI(token=TOKEN) as api:
        proxy = f"http://user:secret@127.0.0.1:{free_port()}"
        settings = Settings(telegram_token=TOKEN, telegram_api_base_url=api.base_url, telegram_proxy=proxy)
        try:
            await probe(settings)
        except Exception as exc:
            message = str(exc)
        else:
            raise AssertionError("the probe ignored the proxy")
        assert (
            api.calls == [] and "TELEGRAM_PROXY is http://127.0.0.1:" in message and "secret" not in message
        )
