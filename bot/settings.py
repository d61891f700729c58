"""Typed settings, read from the environment in one place and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

REPO_ROOT = Path(__file__).resolve().parent.parent

EmbeddingBackend = Literal["bundled", "sentence-transformers"]


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

    @property
    def index_dir(self) -> Path:
        """Where the embedded Chroma index lives."""
        return self.data_dir / "index"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `BOT_*` variables; a bad value is a `SettingsError`."""
        env = os.environ if environ is None else environ
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
