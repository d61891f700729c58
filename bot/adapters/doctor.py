"""`python -m bot doctor`: can this configuration run? Each check is ok, a warning, a failure or skipped,
and every warning and failure comes with the fix. Secrets are never printed."""

from __future__ import annotations

import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TextIO
from urllib.parse import urlsplit

from langchain_core.embeddings import Embeddings

from bot.app import embedding_backend, fingerprint, make_embeddings, open_store
from bot.core.commands import bot_command
from bot.core.knowledge import KnowledgeBase, KnowledgeError
from bot.data.knowledge import load_knowledge
from bot.retrieval.index import IndexUnavailable, verify_collection
from bot.settings import Settings, TelegramUnavailable, token_problem, webhook_problem

Status = Literal["ok", "warn", "fail", "skip"]
LABELS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
# An LLM endpoint that does not answer within this is as good as down for a chat bot.
LLM_TIMEOUT_S = 5.0
_SAME_SETTINGS = "(with the same BOT_KNOWLEDGE_DIR, BOT_EMBEDDING_* and CHROMA_* settings as the bot)"
INDEX_FIX = f"{bot_command('index')} {_SAME_SETTINGS}"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check."""

    check: str
    status: Status
    detail: str
    fix: str = ""


@dataclass
class _Context:
    """What later checks need from earlier ones."""

    settings: Settings
    environ: Mapping[str, str]
    embeddings: Embeddings | None
    kb: KnowledgeBase | None = None
    chroma_down: bool = False


def diagnose(
    settings: Settings, environ: Mapping[str, str], embeddings: Embeddings | None = None
) -> list[Finding]:
    """Run every check in order; `embeddings` (optional) is an already loaded model to reuse."""
    ctx = _Context(settings, environ, embeddings)
    checks: list[Callable[[_Context], Finding]] = [
        check_token,
        check_telegram_api,
        check_webhook,
        check_data_dir,
        check_knowledge,
        check_chroma_server,
        check_index,
        check_embedding_model,
        check_llm_endpoint,
        check_picture_reading,
    ]
    return [check(ctx) for check in checks]


def check_token(ctx: _Context) -> Finding:
    """TELEGRAM_BOT_TOKEN has BotFather's shape; missing is only a failure when a bot mode is asked for."""
    name = "telegram token"
    fix = "create a bot with @BotFather in Telegram; put its token in TELEGRAM_BOT_TOKEN (environment, .env)"
    token = ctx.settings.telegram_token
    if token is None:
        if ctx.settings.bot_mode == "webhook" or ctx.environ.get("BOT_MODE"):
            detail = f"BOT_MODE={ctx.settings.bot_mode} but TELEGRAM_BOT_TOKEN is not set"
            return Finding(name, "fail", detail, fix)
        detail = f"TELEGRAM_BOT_TOKEN is not set (only {bot_command('telegram')} needs it)"
        return Finding(name, "warn", detail, fix)
    problem = token_problem(ctx.settings)
    if problem:
        return Finding(
            name,
            "fail",
            problem.split(". ")[0],
            "copy the token again from @BotFather (/mybots, API Token), without quotes or spaces",
        )
    return Finding(name, "ok", "has the shape of a bot token (Telegram is asked below)")


def check_telegram_api(ctx: _Context) -> Finding:
    """Ask Telegram itself (getMe, through TELEGRAM_PROXY when set): is it reachable, is the token valid?"""
    name = "telegram api"
    if ctx.settings.telegram_token is None or token_problem(ctx.settings):
        return Finding(name, "skip", "no usable TELEGRAM_BOT_TOKEN to ask with")
    from bot.adapters.telegram.connect import check_reachable

    try:
        username = check_reachable(ctx.settings)
    except TelegramUnavailable as exc:
        fix = 'see the sentence above; the README\'s "Telegram" section covers tokens and proxies'
        return Finding(name, "fail", str(exc), fix)
    return Finding(name, "ok", f"Telegram accepts the token: the bot is {username}")


def check_webhook(ctx: _Context) -> Finding:
    """In webhook mode: an https WEBHOOK_URL and a WEBHOOK_SECRET of at least 16 characters."""
    name = "webhook"
    s = ctx.settings
    if s.bot_mode != "webhook":
        return Finding(name, "skip", f"BOT_MODE={s.bot_mode}: no webhook needed")
    problem = webhook_problem(s)
    if problem and "WEBHOOK_URL" in problem:
        return Finding(
            name,
            "fail",
            "BOT_MODE=webhook needs WEBHOOK_URL, an https:// address"
            + (f" (it is {_origin(s.webhook_url)}...)" if s.webhook_url else " (it is not set)"),
            "set WEBHOOK_URL to the public https address of your reverse proxy, e.g. https://bot.example.org/tg",
        )
    if problem:
        return Finding(
            name,
            "fail",
            problem,
            "set WEBHOOK_SECRET to 16 or more random characters, e.g. the output of: "
            'python -c "import secrets; print(secrets.token_urlsafe(24))"',
        )
    return Finding(name, "ok", f"{_origin(s.webhook_url)}/... with a secret, listening on port {s.port}")


def check_data_dir(ctx: _Context) -> Finding:
    """The data directory exists (or can be made) and this user can write into it."""
    data_dir = ctx.settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(
            "data directory",
            "fail",
            f"cannot write into {data_dir} ({type(exc).__name__}: {exc.strerror or exc})",
            f"set BOT_DATA_DIR to a writable directory, or give user {_user()} write access to {data_dir}",
        )
    return Finding("data directory", "ok", f"{data_dir} is writable")


def check_knowledge(ctx: _Context) -> Finding:
    """The knowledge base loads and validates."""
    try:
        ctx.kb = load_knowledge(ctx.settings.knowledge_dir)
    except KnowledgeError as exc:
        return Finding(
            "knowledge base",
            "fail",
            f"{ctx.settings.knowledge_dir}: {len(exc.problems)} problem(s), first: {exc.problems[0]}",
            f"{bot_command('validate')} lists them all; fix the files it names "
            "(or correct BOT_KNOWLEDGE_DIR)",
        )
    except OSError as exc:  # the directory or its TOPICS.md is missing
        return Finding(
            "knowledge base",
            "fail",
            f"cannot read {ctx.settings.knowledge_dir} ({type(exc).__name__}: {exc.strerror or exc})",
            "set BOT_KNOWLEDGE_DIR to the knowledge folder (the one holding TOPICS.md and entries/)",
        )
    return Finding("knowledge base", "ok", f"{len(ctx.kb.entries)} entries in {ctx.settings.knowledge_dir}")


def check_chroma_server(ctx: _Context) -> Finding:
    """With CHROMA_HOST: the server answers its heartbeat."""
    s = ctx.settings
    if not s.chroma_host:
        return Finding("chroma server", "skip", "CHROMA_HOST not set: the index is embedded in the data dir")
    try:
        open_store(s).heartbeat()
    except Exception as exc:  # IndexUnavailable, or an httpx error mid-call: the same to the user
        ctx.chroma_down = True
        return Finding(
            "chroma server",
            "fail",
            f"{s.index_location} does not answer ({_reason(exc)})",
            "start it (chroma run --path DIR --host 0.0.0.0 --port PORT, or the chroma service of "
            "docker-compose.yml) or correct CHROMA_HOST, CHROMA_PORT and CHROMA_SSL",
        )
    return Finding("chroma server", "ok", f"{s.index_location} answers")


def check_index(ctx: _Context) -> Finding:
    """The index exists and was built from this knowledge base with this embedding configuration."""
    s = ctx.settings
    if ctx.kb is None:
        return Finding("index", "skip", "the knowledge base did not load")
    if ctx.chroma_down:
        return Finding("index", "skip", "the Chroma server does not answer")
    if not s.chroma_host and not s.index_dir.is_dir():
        return Finding("index", "fail", f"there is no index in {s.index_dir}", INDEX_FIX)
    try:
        verify_collection(open_store(s), ctx.kb, fingerprint(s), s.index_location)
    except IndexUnavailable as exc:
        return Finding("index", "fail", str(exc), INDEX_FIX)
    detail = f"{s.index_location} holds these {len(ctx.kb.entries)} entries, built with {fingerprint(s)}"
    return Finding("index", "ok", detail)


def check_embedding_model(ctx: _Context) -> Finding:
    """The configured embedding model loads and embeds a question."""
    s = ctx.settings
    name = "embedding model"
    start = time.perf_counter()
    try:
        embeddings = ctx.embeddings or make_embeddings(s)
        dimensions = len(embeddings.embed_query("个人信息 personal information"))
    except Exception as exc:  # torch, a missing path, a broken wheel: all mean "cannot load"
        fix = embedding_backend(s).install_hint
        return Finding(name, "fail", f"cannot load {fingerprint(s)} ({type(exc).__name__}: {exc})", fix)
    seconds = time.perf_counter() - start
    return Finding(name, "ok", f"{fingerprint(s)} embeds ({dimensions} dimensions, {seconds:.1f}s)")


def check_llm_endpoint(ctx: _Context) -> Finding:
    """With LLM_PROVIDER and LLM_BASE_URL: the endpoint answers HTTP at all (any status)."""
    name = "llm endpoint"
    provider = (ctx.environ.get("LLM_PROVIDER") or "").strip()
    if provider.lower() in ("", "none", "off"):
        return Finding(name, "skip", "LLM_PROVIDER not set: answers come from the knowledge base alone")
    base_url = (ctx.environ.get("LLM_BASE_URL") or "").strip()
    if not base_url:
        return Finding(
            name,
            "warn",
            f"LLM_PROVIDER={provider} without LLM_BASE_URL: the provider's default endpoint was not checked",
            "set LLM_BASE_URL to check it here",
        )
    shown = _without_credentials(base_url)
    try:
        # No API key is sent: whether the endpoint answers at all is the question here.
        with urllib.request.urlopen(base_url, timeout=LLM_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:  # 401, 404...: something answers HTTP there
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Finding(
            name,
            "fail",
            f"cannot reach {shown} ({reason})",
            f"start the {provider} server, or correct LLM_BASE_URL (scheme, host and port)",
        )
    return Finding(name, "ok", f"{shown} answers (HTTP {status})")


def check_picture_reading(ctx: _Context) -> Finding:
    """The OCR package and OpenCV import (no model is loaded): screenshots and QR codes can be read."""
    name = "picture reading"
    try:
        import cv2  # noqa: F401  (OpenCV needs libGL and libglib from the system)
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        return Finding(
            name,
            "warn",
            f"screenshots and QR codes cannot be read ({str(exc)[:120]}); text checks still work",
            "use Python 3.11 or 3.12 (rapidocr-onnxruntime has no wheel for 3.13) and `make install`; "
            "on a slim Debian, `apt-get install libgl1 libglib2.0-0` for OpenCV",
        )
    return Finding(name, "ok", "offline OCR (PP-OCRv4) and the QR decoder are installed")


def _without_credentials(url: str) -> str:
    """The URL to print: scheme, host, port and path, never user:password or a query (tokens hide there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "LLM_BASE_URL (unparsable)"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _reason(exc: BaseException) -> str:
    """The underlying error in a few words (the client's own message, not our wrapper's)."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {str(cause)[:120]}"


def _origin(url: str) -> str:
    """Scheme and host only: a webhook path may carry a secret."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}"
    except ValueError:
        return "(unparsable)"


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid()) if hasattr(os, "geteuid") else "this user"


def print_findings(findings: list[Finding], out: TextIO) -> int:
    """Print one line per check (and its fix), then a summary; the exit code: 1 if anything failed."""
    width = max(len(f.check) for f in findings)
    for f in findings:
        print(f"[{LABELS[f.status]:<4}] {f.check:<{width}}  {f.detail}", file=out)
        if f.fix and f.status in ("warn", "fail"):
            print(f"       {'':<{width}}  fix: {f.fix}", file=out)
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    if failed:
        print(f"\n{failed} check(s) failed, {warned} warning(s).", file=out)
        return 1
    print(f"\nall checks passed ({warned} warning(s)).", file=out)
    return 0
