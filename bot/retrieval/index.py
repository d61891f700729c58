"""The dense index: every entry's text and each of its example questions in Chroma.

Each vector points back to its entry (`entry_id`). Building is incremental: an
entry whose content hash has not changed is not embedded again. The collection
records which embedding model made its vectors; another model means a full
rebuild, never a mix of vectors from two models.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.core.commands import bot_command
from bot.core.knowledge import KnowledgeBase

COLLECTION = "knowledge"
SCHEMA = "1"
# The roles of an entry's own vectors (the rest are example questions).
ENTRY_ROLES = ("passage", "question")


def anchor_key(kind: str) -> str:
    """The entry_id under which the example questions of one kind are stored."""
    return f"__{kind}__"


Progress = Callable[[int, int], None]


class IndexUnavailable(RuntimeError):
    """The index cannot be opened; the message names the directory and the fix."""


class IndexMismatch(IndexUnavailable):
    """The stored index is missing, or was built with another model or knowledge base."""


@dataclass(frozen=True)
class SyncReport:
    """What one build did."""

    embedded_entries: int
    removed_entries: int
    unchanged_entries: int
    vectors: int  # -1 when not counted (nothing had changed)
    seconds: float
    rebuilt: bool


@dataclass(frozen=True)
class DenseHit:
    """One stored vector near the question."""

    entry_id: str  # an entry, or anchor_key(kind) for an example question
    role: str  # "passage", "question", or the kind of example ("outside", "harmful", ...)
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
            f"Rebuild it with: {bot_command('index --rebuild')}"
        ) from exc


def open_server_client(host: str, port: int, ssl: bool = False) -> chromadb.ClientAPI:
    """A client of the shared Chroma server at `host:port`, telemetry off."""
    try:
        # HttpClient asks the server for its tenant and database at once, so an
        # unreachable server fails here, not in the middle of the first answer.
        return chromadb.HttpClient(
            host=host, port=port, ssl=ssl, settings=ChromaSettings(anonymized_telemetry=False)
        )
    except Exception as exc:  # ValueError when nothing listens; httpx errors for a wrong host
        scheme = "https" if ssl else "http"
        raise IndexUnavailable(
            f"cannot reach the Chroma server at {scheme}://{host}:{port} ({type(exc).__name__}: {exc}). "
            "Start it (chroma run --path DIR --port PORT) or correct CHROMA_HOST, CHROMA_PORT and CHROMA_SSL"
        ) from exc


def content_digest(kb: KnowledgeBase) -> str:
    """The digest of everything the index embeds from `kb` (recorded in the collection's metadata)."""
    return _digest(_groups(kb))


def verify_collection(
    client: chromadb.ClientAPI, kb: KnowledgeBase, fingerprint: str, where: str
) -> SyncReport:
    """Check, without embedding anything, that the stored collection holds `kb` embedded with `fingerprint`.

    A reader of a shared index (a bot replica) calls this instead of `Index.sync`:
    another model's vectors would give wrong answers, and entries missing from
    `kb` could not be shown. Raises `IndexMismatch` naming both sides and the fix.
    """
    start = time.perf_counter()
    try:
        metadata = dict(client.get_collection(COLLECTION).metadata or {})
    except Exception as exc:  # NotFoundError in chromadb 1.x
        raise IndexMismatch(
            f"there is no index in {where}. Build it with: {bot_command('index')} "
            "(with the same CHROMA_* and BOT_EMBEDDING_* settings as the bot)"
        ) from exc
    stored = metadata.get("embedding")
    if stored != fingerprint:
        raise IndexMismatch(
            f"the index in {where} was built with the embedding [{stored or 'none recorded'}], but this "
            f"configuration uses [{fingerprint}]. Rebuild it with the same BOT_EMBEDDING_* settings as "
            f"the bot: {bot_command('index')}"
        )
    digest = content_digest(kb)
    if metadata.get("content") != digest:
        raise IndexMismatch(
            f"the index in {where} holds another version of the knowledge base "
            f"(content {metadata.get('content')!r}, this knowledge base {digest!r}), or its build "
            f"was interrupted. Update it from this knowledge directory with: {bot_command('index')}"
        )
    return SyncReport(0, 0, len(kb.entries), -1, time.perf_counter() - start, False)


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
        return self._stored_metadata().get("embedding")

    def _stored_metadata(self) -> dict:
        try:
            collection = self._client.get_collection(COLLECTION)
        except Exception:  # NotFoundError in chromadb 1.x, ValueError in older ones
            return {}
        return dict(collection.metadata or {})

    def status(self) -> tuple[int, str | None]:
        """How many vectors the stored collection holds and its fingerprint (two cheap round trips).

        For the readiness probe: a collection rebuilt with another model while
        this process runs is not this index any more.
        """
        collection = self._client.get_collection(COLLECTION)
        return collection.count(), (collection.metadata or {}).get("embedding")

    def is_current(self, kb: KnowledgeBase) -> bool:
        """True when the stored vectors match this model and every entry's current text."""
        if self.stored_fingerprint() != self.fingerprint:
            return False
        to_embed, to_remove = _plan(_groups(kb), self._stored_hashes(self._open(create=False)))
        return not to_embed and not to_remove

    def sync(self, kb: KnowledgeBase, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        """Bring the collection in line with `kb`, embedding only what changed."""
        start = time.perf_counter()
        groups = _groups(kb)
        digest = _digest(groups)
        metadata = self._stored_metadata()
        stored = metadata.get("embedding")
        if not rebuild and stored == self.fingerprint and metadata.get("content") == digest:
            # The collection says it holds exactly this content: nothing to read or embed.
            return SyncReport(0, 0, len(kb.entries), -1, time.perf_counter() - start, False)
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
        to_embed, to_remove = _plan(groups, hashes)
        for key in to_remove:
            store.delete(ids=hashes[key][1])
        for done, group in enumerate(to_embed, start=1):
            if group.key in hashes:
                store.delete(ids=hashes[group.key][1])
            meta = {"entry_id": group.key, "hash": group.hash}
            for target, docs, role in (
                (store, group.passages, "passage"),
                (questions, group.questions, group.role),
            ):
                if docs:
                    target.add_texts(
                        [text for _, text in docs],
                        [{**meta, "role": role} for _ in docs],
                        ids=[doc_id for doc_id, _ in docs],
                    )
            if progress:
                progress(done, len(to_embed))
        # Recorded last, so that an interrupted build is finished on the next run.
        store._collection.modify(
            metadata={"embedding": self.fingerprint, "schema": SCHEMA, "content": digest}
        )
        self._store = store
        embedded = sum(1 for g in to_embed if g.key in kb.entries)
        return SyncReport(
            embedded_entries=embedded,
            removed_entries=sum(1 for k in to_remove if not k.startswith("__")),
            unchanged_entries=len(kb.entries) - embedded,
            vectors=store._collection.count(),
            seconds=time.perf_counter() - start,
            rebuilt=rebuilt,
        )

    def search(self, vector: list[float], k: int) -> list[DenseHit]:
        """The entries' vectors among the `k` stored vectors nearest to a question's vector, best first.

        No metadata filter: a filtered query costs Chroma ten times more, and
        example questions among the `k` are simply dropped here.
        """
        if self._store is None:
            self._store = self._open(create=False)
        found = self._store.similarity_search_by_vector_with_relevance_scores(vector, k=k)
        return [
            DenseHit(doc.metadata["entry_id"], doc.metadata.get("role", ""), 1.0 - float(distance))
            for doc, distance in found
            if doc.metadata.get("role") in ENTRY_ROLES
        ]

    def vectors(self, role: str) -> np.ndarray:
        """All stored vectors of one role, as rows (for small sets compared in memory)."""
        return self._rows({"role": role})[1]

    def entry_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every entry's stored vectors (its passage and example questions), with the entry of each row."""
        metadatas, vectors = self._rows({"role": {"$in": list(ENTRY_ROLES)}}, "metadatas")
        return [m["entry_id"] for m in metadatas], vectors

    def examples(self, role: str) -> tuple[list[str], np.ndarray]:
        """The stored texts of one role and their vectors, row for row (to train on them)."""
        return self._rows({"role": role}, "documents")

    def _rows(self, where: dict, extra: str | None = None) -> tuple[list, np.ndarray]:
        """The stored vectors that match `where`, as rows, and their `extra` field ("documents" or
        "metadatas") row for row; an empty list and an empty matrix when none match."""
        if self._store is None:
            self._store = self._open(create=False)
        got = self._store.get(where=where, include=["embeddings", *([extra] if extra else [])])
        vectors = got.get("embeddings")
        if vectors is None or len(vectors) == 0:
            return [], np.zeros((0, 0), dtype=np.float32)
        return (list(got[extra]) if extra else []), np.asarray(vectors, dtype=np.float32)

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


@dataclass(frozen=True)
class _Group:
    """Vectors that are embedded and replaced together: one entry, or the out-of-scope examples."""

    key: str
    hash: str
    passages: list[tuple[str, str]]  # (doc id, text), passage role
    questions: list[tuple[str, str]]  # (doc id, text), query role
    role: str  # role recorded for the query-role vectors


def _groups(kb: KnowledgeBase) -> list[_Group]:
    groups = [
        _Group(
            key=e.id,
            hash=e.content_hash(),
            passages=[(f"{e.id}:p", e.passage())],
            questions=[(f"{e.id}:q{i}", q) for i, q in enumerate(e.questions)],
            role="question",
        )
        for e in kb.entries.values()
    ]
    for kind, examples in kb.anchors.items():
        key = anchor_key(kind)
        digest = hashlib.sha256("\n".join(examples).encode()).hexdigest()[:16]
        docs = [(f"{key}:{i}", q) for i, q in enumerate(examples)]
        groups.append(_Group(key=key, hash=digest, passages=[], questions=docs, role=kind))
    return groups


def _digest(groups: list[_Group]) -> str:
    return hashlib.sha256("\n".join(f"{g.key}:{g.hash}" for g in groups).encode()).hexdigest()[:16]


def _plan(groups: list[_Group], stored: dict[str, tuple[str, list[str]]]) -> tuple[list[_Group], list[str]]:
    to_embed = [g for g in groups if stored.get(g.key, ("",))[0] != g.hash]
    wanted = {g.key for g in groups}
    to_remove = [key for key in stored if key not in wanted]
    return to_embed, to_remove


def remove_index_dir(index_dir: Path) -> None:
    """Delete a damaged embedded index so that it can be built afresh."""
    if index_dir.exists():
        shutil.rmtree(index_dir)
    # Chroma keeps one system per path for the life of the process; without
    # this, a client opened on the new directory would reuse the damaged one.
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def print_progress(done: int, total: int) -> None:
    """A one-line progress bar on standard error."""
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} entries")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
