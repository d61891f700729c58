"""Typed settings, read from the environment in one place and passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from bot.retrieval.backends.registry import BACKENDS, DEFAULT_BACKEND

REPO_ROOT = Path(__file__).resolve().parent.parent

BotMode = Literal["polling", "webhook"]
LlmProvider = Literal["none", "openai", "ollama"]
# A bot token as BotFather issues it: the bot's numeric id, a colon, 35 characters.
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


# Environment variable -> settings field: the one list of names the bot reads
# (also used by `python -m bot doctor` and the docker-compose test).
ENV_VARS: dict[str, str] = {
    "BOT_KNOWLEDGE_DIR": "knowledge_dir",
    "BOT_PROMPTS_DIR": "prompts_dir",
    "BOT_DATA_DIR": "data_dir",
    "BOT_EMBEDDING_BACKEND": "embedding_backend",
    "BOT_EMBEDDING_MODEL": "embedding_model",
    "BOT_EMBEDDING_QUERY_PREFIX": "embedding_query_prefix",
    "BOT_EMBEDDING_PASSAGE_PREFIX": "embedding_passage_prefix",
    "BOT_MAX_QUESTION_CHARS": "max_question_chars",
    "BOT_SCOPE_MIN_DENSE": "scope_min_dense",
    "BOT_SCOPE_MIN_LEXICAL": "scope_min_lexical",
    "BOT_SCOPE_MIN_MARGIN": "scope_min_margin",
    "TELEGRAM_BOT_TOKEN": "telegram_token",
    "TELEGRAM_API_BASE_URL": "telegram_api_base_url",
    "TELEGRAM_API_BASE_FILE_URL": "telegram_api_base_file_url",
    "TELEGRAM_PROXY": "telegram_proxy",
    "BOT_IMAGE_MAX_MB": "image_max_mb",
    "BOT_MODE": "bot_mode",
    "WEBHOOK_URL": "webhook_url",
    "WEBHOOK_SECRET": "webhook_secret",
    "PORT": "port",
    "BOT_USER_QUESTIONS_PER_MINUTE": "user_questions_per_minute",
    "BOT_USER_UPDATES_PER_MINUTE": "user_updates_per_minute",
    "BOT_CONTEXT_TTL_S": "context_ttl_s",
    "BOT_PEPPER": "pepper",
    "LLM_PROVIDER": "llm_provider",
    "LLM_BASE_URL": "llm_base_url",
    "LLM_MODEL": "llm_model",
    "LLM_API_KEY": "llm_api_key",
    "LLM_TIMEOUT_S": "llm_timeout_s",
    "STATS_DATABASE_URL": "stats_database_url",
    "ADMIN_USER_IDS": "admin_user_ids",
    # Scale-out: a shared Chroma server.
    "CHROMA_HOST": "chroma_host",
    "CHROMA_PORT": "chroma_port",
    "CHROMA_SSL": "chroma_ssl",
}


def file_url_of(base_url: str) -> str:
    """The Bot API's file URL beside its base URL: https://host/bot -> https://host/file/bot."""
    base = base_url.rstrip("/")
    return base.removesuffix("/bot") + "/file/bot"


class SettingsError(ValueError):
    """The environment holds a value the bot cannot use."""


class Settings(BaseModel):
    """Everything configurable, with the defaults of the offline embedded path."""

    model_config = ConfigDict(frozen=True)

    knowledge_dir: Path = REPO_ROOT / "knowledge"
    prompts_dir: Path = REPO_ROOT / "prompts"
    data_dir: Path = REPO_ROOT / ".data"

    # A name in bot/retrieval/backends/registry.py.
    embedding_backend: str = DEFAULT_BACKEND
    # For sentence-transformers: a model name (needs a model hub) or a local path.
    embedding_model: str = "multilingual-e5-small-q4"
    # None means "guess from the model name" (E5 models want these prefixes).
    embedding_query_prefix: str | None = None
    embedding_passage_prefix: str | None = None

    # Longest question the bot reads; the rest is cut before any work is done.
    max_question_chars: int = Field(default=2000, ge=50)

    # Scope decision; None means the calibrated default of the chosen backend.
    scope_min_dense: float | None = None
    scope_min_lexical: float | None = None
    scope_min_margin: float | None = None

    # Telegram (python -m bot telegram). Secrets are SecretStr: never in a repr or log.
    telegram_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    # Where files (pictures sent to the bot) are downloaded from; None follows the base URL:
    # https://host/bot -> https://host/file/bot (a self-hosted Bot API server, the tests' fake one).
    telegram_api_base_file_url: str | None = None
    # A proxy for the Bot API and getUpdates (http://, https:// or socks5://host:port); unset,
    # the standard HTTPS_PROXY is honoured.
    telegram_proxy: str | None = None
    bot_mode: BotMode = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(default=8080, ge=1, le=65535)
    # Largest picture read (check --image, Telegram photos and image documents), in megabytes.
    image_max_mb: float = Field(default=10.0, gt=0, le=20)
    # Questions one user may ask per minute, and how long a chat's context lives.
    user_questions_per_minute: int = Field(default=10, ge=1)
    # Updates of any kind (commands, buttons, stickers) one user may send per minute.
    user_updates_per_minute: int = Field(default=30, ge=1)
    context_ttl_s: int = Field(default=900, ge=0)
    # Secret key for pseudonymous ids in logs; generated into the data directory if unset.
    pepper: SecretStr | None = None

    # Scale-out: when chroma_host is set, the index lives in that Chroma server
    # (`python -m bot index` writes it, the bot only reads it) instead of data_dir.
    chroma_host: str | None = None
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    chroma_ssl: bool = False
    # Optional fluent answers from a language model (bot/services/llm/); off unless LLM_PROVIDER is set.
    # The key is a SecretStr: never in a repr or log.
    llm_provider: LlmProvider = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    # Longest wait for the model per question; past it the curated answer is sent.
    llm_timeout_s: float = Field(default=8.0, gt=0, le=120)
    # Community-worker demo kit (quiz, demo, usage statistics). Statistics are counts only;
    # None means the SQLite file in the data directory. `/stats` answers these users only.
    stats_database_url: str | None = None
    admin_user_ids: frozenset[int] = frozenset()

    @property
    def telegram_file_url(self) -> str:
        """TELEGRAM_API_BASE_FILE_URL, else the file URL beside the Bot API base URL."""
        return self.telegram_api_base_file_url or file_url_of(self.telegram_api_base_url)

    @property
    def image_max_bytes(self) -> int:
        return int(self.image_max_mb * 1_000_000)

    @field_validator("embedding_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        """BOT_EMBEDDING_BACKEND names a backend of the registry."""
        if value not in BACKENDS:
            raise ValueError(f"unknown embedding backend {value!r}; one of {', '.join(BACKENDS)}")
        return value

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        """ADMIN_USER_IDS is "123,456": Telegram user ids separated by commas."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def stats_url(self) -> str:
        """The statistics database: STATS_DATABASE_URL, else SQLite in the data directory."""
        return self.stats_database_url or f"sqlite:///{self.data_dir / 'stats.sqlite3'}"

    @property
    def index_dir(self) -> Path:
        """Where the embedded Chroma index lives."""
        return self.data_dir / "index"

    @property
    def index_location(self) -> str:
        """Where the index lives, in words for messages: the Chroma server or the directory."""
        if self.chroma_host:
            scheme = "https" if self.chroma_ssl else "http"
            return f"the Chroma server at {scheme}://{self.chroma_host}:{self.chroma_port}"
        return str(self.index_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `BOT_*` variables; a bad value is a `SettingsError`."""
        env = read_environment(environ)
        names = ENV_VARS
        values = {field: env[var] for var, field in names.items() if env.get(var, "") != ""}
        backend = BACKENDS.get(values.get("embedding_backend", DEFAULT_BACKEND))
        if backend is not None and backend.needs_model and "embedding_model" not in values:
            raise SettingsError(
                f"BOT_EMBEDDING_BACKEND={backend.name} needs BOT_EMBEDDING_MODEL "
                "(a model name or a local path)"
            )
        _check_llm(values)
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{_env_name(names, err['loc'][0])}: {err['msg']}" for err in exc.errors())
            raise SettingsError(f"invalid configuration: {problems}") from None


def read_environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """`environ` itself, or (None) the process environment over the variables of ./.env."""
    return {**read_dotenv(Path.cwd() / ".env"), **os.environ} if environ is None else environ


def _check_llm(values: Mapping[str, str]) -> None:
    """A configured language model needs a model name, and OpenAI's own endpoint a key."""
    provider = values.get("llm_provider", "none")
    if provider not in ("openai", "ollama"):  # "none", or a typo pydantic reports next
        return
    if "llm_model" not in values:
        raise SettingsError(f"LLM_PROVIDER={provider} needs LLM_MODEL (for example qwen2.5:7b)")
    if provider == "openai" and "llm_base_url" not in values and "llm_api_key" not in values:
        raise SettingsError(
            "LLM_PROVIDER=openai needs LLM_BASE_URL (an OpenAI-compatible server, "
            "e.g. http://localhost:8000/v1) or LLM_API_KEY (for api.openai.com)"
        )


def _env_name(names: Mapping[str, str], field: object) -> str:
    for var, name in names.items():
        if name == field:
            return var
    return str(field)


def token_problem(settings: Settings) -> str | None:
    """What is wrong with TELEGRAM_BOT_TOKEN for running the bot, or None (its shape only)."""
    if settings.telegram_token is None:
        return (
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram and "
            "put its token in the environment or in a .env file."
        )
    if not TOKEN_RE.match(settings.telegram_token.get_secret_value()):
        return (
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then 35 letters, "
            "digits, '-' or '_'). Copy it again from @BotFather."
        )
    return None


def webhook_problem(settings: Settings) -> str | None:
    """What is wrong with the webhook settings in BOT_MODE=webhook, or None."""
    if settings.bot_mode != "webhook":
        return None
    if not settings.webhook_url or not settings.webhook_url.startswith("https://"):
        return "BOT_MODE=webhook needs WEBHOOK_URL, an https:// address Telegram can reach"
    if settings.webhook_secret is None or len(settings.webhook_secret.get_secret_value()) < 16:
        return "BOT_MODE=webhook needs WEBHOOK_SECRET, at least 16 characters (A-Z, a-z, 0-9, _ -)"
    return None


class TelegramUnavailable(RuntimeError):
    """Telegram rejected the token or could not be reached; the message says which setting to fix."""


def check_telegram(settings: Settings) -> None:
    """Raise `SettingsError` unless the settings can run the Telegram bot."""
    problem = token_problem(settings) or webhook_problem(settings)
    if problem:
        raise SettingsError(problem)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (missing file: nothing); the real environment wins over it."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values
