"""Running the Telegram bot: logging, polling, or a webhook server with a health endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from urllib.parse import urlparse

from aiohttp import web
from langchain_core.embeddings import Embeddings
from telegram import Update
from telegram.ext import Application

from bot.adapters.telegram.application import build_application, make_services
from bot.adapters.telegram.connect import check_reachable
from bot.app import App, build_app
from bot.retrieval.index import Index, print_progress
from bot.settings import Settings, check_telegram

logger = logging.getLogger("bot.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr; httpx at WARNING, because its INFO lines carry the URL and so the token."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # The OpenAI client logs whole requests (the masked question) at DEBUG.
    logging.getLogger("openai").setLevel(logging.WARNING)
    # python-telegram-bot logs whole updates (message texts) at DEBUG.
    logging.getLogger("telegram").setLevel(max(level, logging.INFO))


def make_application(settings: Settings, app: App | None = None) -> Application:
    """The configured python-telegram-bot Application (not started)."""
    check_telegram(settings)
    app = app or build_app(settings, progress=print_progress)
    return build_application(
        settings.telegram_token.get_secret_value(),
        settings.telegram_api_base_url,
        make_services(app, settings),
        proxy=settings.telegram_proxy,
        base_file_url=settings.telegram_file_url,
    )


class ReadinessProbe:
    """Can this replica answer? Its model is loaded and its index answers, built with that model."""

    def __init__(self, index: Index, embeddings: Embeddings | None, timeout_s: float = 3.0) -> None:
        self._index = index
        self._embeddings = embeddings
        self._timeout_s = timeout_s

    async def problem(self) -> str | None:
        """None when ready, else a short reason (no secrets, no addresses)."""
        if self._embeddings is None:
            return "embedding model not loaded"
        try:
            # Chroma's client blocks (HTTP to the server, or SQLite): never on the event loop.
            vectors, stored = await asyncio.wait_for(asyncio.to_thread(self._index.status), self._timeout_s)
        except TimeoutError:
            return "index not answering"
        except Exception as exc:  # a stopped server, a dropped collection: not ready, say which
            logger.warning("readiness: index unreachable (%s)", type(exc).__name__)
            return "index unreachable"
        if stored != self._index.fingerprint:
            return "index built with another model"
        return None if vectors > 0 else "index empty"


def run(settings: Settings) -> int:
    """Run the bot until SIGINT/SIGTERM; an answer in progress is still sent before exit."""
    check_telegram(settings)
    configure_logging()
    # Before the model loads: a rejected token or no route is one sentence within seconds.
    logger.info("connected to Telegram as %s", check_reachable(settings))
    app = build_app(settings, progress=print_progress)
    application = make_application(settings, app)
    if settings.bot_mode == "webhook":
        asyncio.run(serve_webhook(application, settings, probe=ReadinessProbe(app.index, app.embeddings)))
    else:
        logger.info("polling for updates")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def webhook_app(
    application: Application,
    secret: str,
    path: str,
    ready: dict[str, bool],
    probe: ReadinessProbe | None = None,
) -> web.Application:
    """The aiohttp app: POST `path` for updates (secret checked), /healthz and /readyz.

    /healthz says the process serves HTTP (liveness: restart me if not);
    /readyz also asks `probe` whether the index and model can answer
    (readiness: send me no traffic if not), 503 with the reason otherwise.
    """

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except Exception:  # malformed body: say so, never crash the server
            return web.Response(status=400, text="bad update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        if not ready.get("ready"):
            return web.Response(status=503, text="starting")
        problem = await probe.problem() if probe is not None else None
        return web.Response(text="ready") if problem is None else web.Response(status=503, text=problem)

    server = web.Application(client_max_size=1 << 20)
    server.router.add_post(path, receive)
    server.router.add_get("/healthz", healthz)
    server.router.add_get("/readyz", readyz)
    return server


async def serve_webhook(
    application: Application,
    settings: Settings,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
    register: bool = True,
    probe: ReadinessProbe | None = None,
) -> None:
    """Serve Telegram's webhook calls until `stop` is set (or SIGINT/SIGTERM); `probe` backs /readyz."""
    secret = settings.webhook_secret.get_secret_value()
    path = urlparse(settings.webhook_url).path or "/telegram"
    ready: dict[str, bool] = {"ready": False}
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(webhook_app(application, secret, path, ready, probe))
    await runner.setup()
    site = web.TCPSite(runner, host, settings.port)
    await site.start()
    async with application:
        if register:
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
        await application.start()
        ready["ready"] = True
        logger.info("webhook server listening on port %s", settings.port)
        await stop.wait()
        ready["ready"] = False
        await application.stop()
    await runner.cleanup()
