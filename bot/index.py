"""The dense index: every entry's text and each of its example questions in Chroma.

Each vector points back to its entry (`entry_id`). Building is incremental: an
entry whose content hash has not changed is not embedded again. The collection
records which embedding model made its vectors; another model means a full
rebuild, never a mix of vectors from two models.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.knowledge import Entry, KnowledgeBase

COLLECTION = "knowledge"
SCHEMA = "1"

Progress = Callable[[int, int], None]


class IndexUnavailable(RuntimeError):
    """The index cannot be opened; the message names the directory and the fix."""


@dataclass(frozen=True)
class SyncReport:
    """What one build did."""

    embedded_entries: int
    removed_entries: int
    unchanged_entries: int
    vectors: int
    seconds: float
    rebuilt: bool


@dataclass(frozen=True)
class DenseHit:
    """One stored vector near the question."""

    entry_id: str
    role: str  # "passage" or "question"
    similarity: float


class _QueryRole(Embeddings):
    """Embeds texts in the query role: example questions are matched question to question."""

    def __init__(self, inner: Embeddings):
        self._inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._inner.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


def open_client(index_dir: Path) -> chromadb.ClientAPI:
    """The embedded Chroma client for `index_dir`, telemetry off."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
    except Exception as exc:  # chromadb raises many kinds for a damaged store
        raise IndexUnavailable(
            f"cannot open the index in {index_dir} ({type(exc).__name__}: {exc}). "
            "Rebuild it with: python -m bot index --rebuild"
        ) from exc


class Index:
    """The Chroma collection of one knowledge base, embedded with one model."""

    def __init__(self, client: chromadb.ClientAPI, embeddings: Embeddings, fingerprint: str):
        self._client = client
        self._embeddings = embeddings
        self.fingerprint = fingerprint
        self._store: Chroma | None = None

    def _open(self, create: bool) -> Chroma:
        return Chroma(
            client=self._client,
            collection_name=COLLECTION,
            embedding_function=self._embeddings,
            collection_metadata={"embedding": self.fingerprint, "schema": SCHEMA},
            collection_configuration={"hnsw": {"space": "cosine"}},
            create_collection_if_not_exists=create,
        )

    def stored_fingerprint(self) -> str | None:
        """The embedding fingerprint the stored collection was built with (None: no collection)."""
        try:
            collection = self._client.get_collection(COLLECTION)
        except Exception:  # NotFoundError in chromadb 1.x, ValueError in older ones
            return None
        return (collection.metadata or {}).get("embedding")

    def is_current(self, kb: KnowledgeBase) -> bool:
        """True when the stored vectors match this model and every entry's current text."""
        if self.stored_fingerprint() != self.fingerprint:
            return False
        to_embed, to_remove, _ = _plan(kb, self._stored_hashes(self._open(create=False)))
        return not to_embed and not to_remove

    def sync(self, kb: KnowledgeBase, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        """Bring the collection in line with `kb`, embedding only what changed."""
        start = time.perf_counter()
        stored = self.stored_fingerprint()
        rebuilt = rebuild or (stored is not None and stored != self.fingerprint)
        if rebuilt and stored is not None:
            self._client.delete_collection(COLLECTION)
        store = self._open(create=True)
        questions = Chroma(
            client=self._client,
            collection_name=COLLECTION,
            embedding_function=_QueryRole(self._embeddings),
            create_collection_if_not_exists=False,
        )
        hashes = self._stored_hashes(store)
        to_embed, to_remove, unchanged = _plan(kb, hashes)
        for entry_id in to_remove:
            store.delete(ids=hashes[entry_id][1])
        for done, entry in enumerate(to_embed, start=1):
            if entry.id in hashes:
                store.delete(ids=hashes[entry.id][1])
            meta = {"entry_id": entry.id, "hash": entry.content_hash(), "topic": entry.topic}
            store.add_texts([entry.passage()], [{**meta, "role": "passage"}], ids=[f"{entry.id}:p"])
            questions.add_texts(
                list(entry.questions),
                [{**meta, "role": "question"} for _ in entry.questions],
                ids=[f"{entry.id}:q{i}" for i in range(len(entry.questions))],
            )
            if progress:
                progress(done, len(to_embed))
        self._store = store
        return SyncReport(
            embedded_entries=len(to_embed),
            removed_entries=len(to_remove),
            unchanged_entries=unchanged,
            vectors=store._collection.count(),
            seconds=time.perf_counter() - start,
            rebuilt=rebuilt,
        )

    def search(self, vector: list[float], k: int) -> list[DenseHit]:
        """The `k` stored vectors nearest to a question's vector, most similar first."""
        if self._store is None:
            self._store = self._open(create=False)
        found = self._store.similarity_search_by_vector_with_relevance_scores(vector, k=k)
        return [
            DenseHit(doc.metadata["entry_id"], doc.metadata.get("role", ""), 1.0 - float(distance))
            for doc, distance in found
        ]

    @staticmethod
    def _stored_hashes(store: Chroma) -> dict[str, tuple[str, list[str]]]:
        got = store.get(include=["metadatas"])
        out: dict[str, tuple[str, list[str]]] = {}
        for doc_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            entry_id = (meta or {}).get("entry_id", "")
            prev = out.get(entry_id, ((meta or {}).get("hash", ""), []))
            prev[1].append(doc_id)
            out[entry_id] = prev
        return out


def _plan(kb: KnowledgeBase, stored: dict[str, tuple[str, list[str]]]) -> tuple[list[Entry], list[str], int]:
    to_embed = [e for e in kb.entries.values() if stored.get(e.id, ("",))[0] != e.content_hash()]
    to_remove = [entry_id for entry_id in stored if entry_id not in kb.entries]
    unchanged = len(kb.entries) - len(to_embed)
    return to_embed, to_remove, unchanged


def remove_index_dir(index_dir: Path) -> None:
    """Delete a damaged embedded index so that it can be built afresh."""
    if index_dir.exists():
        shutil.rmtree(index_dir)


def print_progress(done: int, total: int) -> None:
    """A one-line progress bar on standard error."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} entries")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
