"""Shared, expensive fixtures: the real embedding model and a real index, built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.retrieval.backends.bundled import BundledE5Embeddings
from bot.settings import Settings
from tests.support.chroma_server import ChromaServer
from tests.support.knowledge import write_small_knowledge
from tests.support.postgres_server import PostgresServer, PostgresUnavailable

# Offline, always: a test that reaches for a model hub must fail, not download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def bundled_embeddings() -> BundledE5Embeddings:
    """The packaged multilingual-e5-small, loaded once."""
    return BundledE5Embeddings()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A data directory of the session's own, so the developer's .data/ is never touched."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(data_dir) -> Settings:
    """Default settings pointed at the session's data directory."""
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def app(settings, bundled_embeddings) -> App:
    """The whole answer service over the real knowledge base and a real Chroma index."""
    return build_app(settings, embeddings=bundled_embeddings)


@pytest.fixture(scope="session")
def env(data_dir, app) -> dict[str, str]:
    """Environment for CLI runs that reuse the session's index."""
    return {"BOT_DATA_DIR": str(data_dir)}


@pytest.fixture
def small_knowledge(tmp_path) -> Path:
    """A copy of the knowledge base with three entries: fast to index in tests that rebuild."""
    return write_small_knowledge(tmp_path / "knowledge")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[ChromaServer]:
    """A real Chroma server (`chroma run` from the chromadb package), shared by the session."""
    with ChromaServer(tmp_path_factory.mktemp("chroma") / "db") as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a throwaway PostgreSQL cluster; skipped when PostgreSQL cannot start."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.skip(f"PostgreSQL could not start: {exc}")
    try:
        yield server.url
    finally:
        server.stop()
