"""Reaching Telegram: the proxy, and one sentence when the token is rejected or Telegram is out of reach.

Telegram is blocked in some places where the bot's operators live, so both the
Bot API calls and getUpdates can go through a proxy: `TELEGRAM_PROXY`, or the
standard `HTTPS_PROXY` (honoured by httpx when TELEGRAM_PROXY is unset). The
token is never part of a message here: PTB's own errors may contain it, so they
are replaced, not chained.
"""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.settings import Settings, TelegramUnavailable

# What getMe may take before Telegram counts as unreachable.
PROBE_TIMEOUT_S = 10.0


def request(settings: Settings, timeout_s: float | None = None) -> HTTPXRequest:
    """An HTTP client for the Bot API, through TELEGRAM_PROXY when set."""
    options: dict = {"proxy": settings.telegram_proxy} if settings.telegram_proxy else {}
    if timeout_s is not None:
        options.update(connect_timeout=timeout_s, read_timeout=timeout_s)
    return HTTPXRequest(**options)


def where(settings: Settings) -> str:
    """The Bot API address tried, without the token (PTB appends it)."""
    return settings.telegram_api_base_url.rstrip("/").removesuffix("/bot") or settings.telegram_api_base_url


async def probe(settings: Settings) -> str:
    """Ask Telegram who the bot is (getMe): its @username, or `TelegramUnavailable` with the fix."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    bot = Bot(token, base_url=settings.telegram_api_base_url, request=request(settings, PROBE_TIMEOUT_S))
    try:
        me = await bot.get_me()
    except InvalidToken:
        raise TelegramUnavailable(
            "Telegram rejected the bot token: copy it again from @BotFather into TELEGRAM_BOT_TOKEN"
        ) from None
    except NetworkError:
        proxy = (
            "TELEGRAM_PROXY is " + _safe(settings.telegram_proxy)
            if settings.telegram_proxy
            else (
                "set TELEGRAM_PROXY=http://host:port (or HTTPS_PROXY) if Telegram is blocked on this network"
            )
        )
        raise TelegramUnavailable(f"cannot reach Telegram at {where(settings)}: {proxy}") from None
    except TelegramError as exc:
        raise TelegramUnavailable(f"Telegram answered getMe with an error ({type(exc).__name__})") from None
    finally:
        with contextlib.suppress(TelegramError):
            await bot.shutdown()
    return f"@{me.username}"


def check_reachable(settings: Settings) -> str:
    """`probe`, from synchronous code (start-up, doctor)."""
    return asyncio.run(probe(settings))


def _safe(url: str | None) -> str:
    """A proxy URL without its user:password."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[1]}"
