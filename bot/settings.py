"""Typed settings, read from the environment in one place and passed down."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parent.parent

EmbeddingBackend = Literal["bundled", "sentence-transformers"]
BotMode = Literal["polling", "webhook"]
# A bot token as BotFather issues it: the bot's numeric id, a colon, 35 characters.
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


class SettingsError(ValueError):
    """The environment holds a value the bot cannot use."""


class Settings(BaseModel):
    """Everything configurable, with the defaults of the offline embedded path."""

    model_config = ConfigDict(frozen=True)

    knowledge_dir: Path = REPO_ROOT / "knowledge"
    prompts_dir: Path = REPO_ROOT / "prompts"
    data_dir: Path = REPO_ROOT / ".data"

    embedding_backend: EmbeddingBackend = "bundled"
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
    bot_mode: BotMode = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(default=8080, ge=1, le=65535)
    # Questions one user may ask per minute, and how long a chat's context lives.
    user_questions_per_minute: int = Field(default=10, ge=1)
    context_ttl_s: int = Field(default=900, ge=0)
    # Secret key for pseudonymous ids in logs; generated into the data directory if unset.
    pepper: SecretStr | None = None

    # Community-worker demo kit (quiz, demo, usage statistics). Statistics are counts only;
    # None means the SQLite file in the data directory. `/stats` answers these users only.
    stats_database_url: str | None = None
    admin_user_ids: frozenset[int] = frozenset()

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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `BOT_*` variables; a bad value is a `SettingsError`."""
        env = {**read_dotenv(Path.cwd() / ".env"), **os.environ} if environ is None else environ
        names = {
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
            "BOT_MODE": "bot_mode",
            "WEBHOOK_URL": "webhook_url",
            "WEBHOOK_SECRET": "webhook_secret",
            "PORT": "port",
            "BOT_USER_QUESTIONS_PER_MINUTE": "user_questions_per_minute",
            "BOT_CONTEXT_TTL_S": "context_ttl_s",
            "BOT_PEPPER": "pepper",
            "STATS_DATABASE_URL": "stats_database_url",
            "ADMIN_USER_IDS": "admin_user_ids",
        }
        values = {field: env[var] for var, field in names.items() if env.get(var, "") != ""}
        if values.get("embedding_backend") == "sentence-transformers" and "embedding_model" not in values:
            raise SettingsError(
                "BOT_EMBEDDING_BACKEND=sentence-transformers needs BOT_EMBEDDING_MODEL "
                "(a model name or a local path)"
            )
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{_env_name(names, err['loc'][0])}: {err['msg']}" for err in exc.errors())
            raise SettingsError(f"invalid configuration: {problems}") from None


def _env_name(names: Mapping[str, str], field: object) -> str:
    for var, name in names.items():
        if name == field:
            return var
    return str(field)


def check_telegram(settings: Settings) -> None:
    """Raise `SettingsError` unless the settings can run the Telegram bot."""
    if settings.telegram_token is None:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram and "
            "put its token in the environment or in a .env file."
        )
    if not TOKEN_RE.match(settings.telegram_token.get_secret_value()):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then 35 letters, "
            "digits, '-' or '_'). Copy it again from @BotFather."
        )
    if settings.bot_mode == "webhook":
        if not settings.webhook_url or not settings.webhook_url.startswith("https://"):
            raise SettingsError("BOT_MODE=webhook needs WEBHOOK_URL, an https:// address Telegram can reach")
        if settings.webhook_secret is None or len(settings.webhook_secret.get_secret_value()) < 16:
            raise SettingsError(
                "BOT_MODE=webhook needs WEBHOOK_SECRET, at least 16 characters (A-Z, a-z, 0-9, _ -)"
            )


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
