"""Hybrid retrieval: dense (Chroma), centroid and lexical (BM25) evidence fused per entry.

Dense evidence is the nearest of an entry's vectors (its passage or one example question);
centroid evidence is the similarity to the mean of all of them, which stands for what the
entry is about as a whole. A long story that shares a surface word with one example question
("快递", "银行卡") is pulled to that entry by the nearest vector, and toward the entry about
its actual ask by the centroid. The centroid's weight (`CENTROID_WEIGHT`) was chosen on the
development part of tests/data/real_questions.jsonl, where retrieval alone put an acceptable
entry first for 0.355 of the answerable questions with dense and lexical evidence, and for
0.476 with the centroid at weight 2 (0.468 to 0.476 for weights 1.5 to 4).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.text import to_simplified
from bot.retrieval.index import Index
from bot.retrieval.lexical import LexicalIndex

Fusion = Literal["hybrid", "dense", "lexical", "rrf", "centroid"]
# The weight of centroid evidence against the nearest vector's (1) in the hybrid score.
CENTROID_WEIGHT = 2.0


@dataclass(frozen=True)
class Hit:
    """One entry found for a question, with the evidence behind it."""

    entry: Entry
    score: float  # the fused score that orders the hits
    dense: float  # best cosine similarity of any of the entry's vectors
    lexical: float  # BM25 score over the best possible for this question, 0..1
    centroid: float = 0.0  # cosine similarity to the mean of the entry's vectors


@dataclass(frozen=True)
class Retrieval:
    """The entries found for a question, and how close it came to each kind of example."""

    hits: list[Hit]
    # Best similarity to the example questions of each kind in the index
    # ("outside", "harmful", "protective"); 0.0 when none was near.
    anchors: dict[str, float]
    # The question's own vector (what a classifier over the embedding reads).
    vector: np.ndarray | None = None

    @property
    def best(self) -> Hit | None:
        """The best hit, if any."""
        return self.hits[0] if self.hits else None

    @property
    def strongest(self) -> Hit | None:
        """The best hit with the strongest dense and lexical evidence of any hit, if any.

        Whether a question is in the field at all does not hang on which entry ranks first:
        the centroid may rank first an entry whose nearest vector is a little further away
        than another hit's.
        """
        if not self.hits:
            return None
        return dataclasses.replace(
            self.hits[0],
            dense=max(h.dense for h in self.hits),
            lexical=max(h.lexical for h in self.hits),
        )

    def anchor(self, kind: str) -> float:
        """Similarity of the nearest example of `kind`."""
        return self.anchors.get(kind, 0.0)


class Retriever:
    """Finds the entries that answer a question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        index: Index,
        embeddings: Embeddings,
        lexical: LexicalIndex,
        fusion: Fusion = "hybrid",
        lexical_weight: float = 0.25,
        dense_k: int = 40,
        centroid_weight: float = CENTROID_WEIGHT,
    ):
        self._kb = kb
        self._index = index
        self._embeddings = embeddings
        self._lexical = lexical
        self.fusion = fusion
        self.lexical_weight = lexical_weight
        self._dense_k = dense_k
        self.centroid_weight = centroid_weight
        self._anchors: dict[str, np.ndarray] | None = None
        self._centroids: tuple[list[str], np.ndarray] | None = None

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base the entries come from."""
        return self._kb

    def embed(self, text: str) -> np.ndarray:
        """The vector of a cleaned text, as `retrieve` computes it."""
        return self._vector(to_simplified(text))

    def _vector(self, query: str) -> np.ndarray:
        return np.asarray(self._embeddings.embed_query(query), dtype=np.float32)

    def retrieve(self, question: str, k: int = 5) -> Retrieval:
        """The `k` best entries for a cleaned question, best first, with the example evidence."""
        query = to_simplified(question)
        vector = self._vector(query)
        dense, anchors = self._dense_scores(vector)
        lexical = self._lexical.relative_scores(query)
        centroid = self._centroid_scores(vector)
        floor = min(dense.values(), default=0.0)
        candidates = (set(dense) | set(lexical) | set(centroid)) & set(self._kb.entries)
        fused = self._fuse(candidates, dense, lexical, centroid, floor)
        ranked = sorted(candidates, key=lambda e: fused[e], reverse=True)[:k]
        hits = [
            Hit(self._kb.entries[e], fused[e], dense.get(e, floor), lexical.get(e, 0.0), centroid.get(e, 0.0))
            for e in ranked
        ]
        return Retrieval(hits, anchors, vector)

    def _dense_scores(self, vector: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """Best similarity per entry, and per kind of example question."""
        best: dict[str, float] = {}
        for hit in self._index.search(vector.tolist(), k=self._dense_k):
            best[hit.entry_id] = max(hit.similarity, best.get(hit.entry_id, -1.0))
        anchors = {
            kind: float((matrix @ vector).max()) if matrix.size else 0.0
            for kind, matrix in self._anchor_vectors().items()
        }
        return best, anchors

    def _anchor_vectors(self) -> dict[str, np.ndarray]:
        # A few hundred example questions: one matrix product in memory is
        # faster than a filtered Chroma query per kind, on every question.
        if self._anchors is None:
            self._anchors = {kind: self._index.vectors(kind) for kind in self._kb.anchors}
        return self._anchors

    def _centroid_scores(self, vector: np.ndarray) -> dict[str, float]:
        """Similarity of the question to the mean vector of every entry."""
        if self._centroids is None:
            self._centroids = _centroids(*self._index.entry_vectors())
        ids, matrix = self._centroids
        if not ids:
            return {}
        return dict(zip(ids, (matrix @ vector).tolist(), strict=True))

    def _fuse(self, candidates, dense, lexical, centroid, floor) -> dict[str, float]:
        match self.fusion:
            case "dense":
                return {e: dense.get(e, floor) for e in candidates}
            case "lexical":
                return {e: lexical.get(e, 0.0) + 1e-6 * dense.get(e, floor) for e in candidates}
            case "centroid":
                return {e: centroid.get(e, 0.0) for e in candidates}
            case "rrf":
                return _reciprocal_rank(candidates, dense, lexical)
            case _:
                # Divided by the weights' sum, a perfect match still scores about 1.
                lw, cw = self.lexical_weight, self.centroid_weight
                return {
                    e: (dense.get(e, floor) + lw * lexical.get(e, 0.0) + cw * centroid.get(e, 0.0)) / (1 + cw)
                    for e in candidates
                }


def merged(alone: Retrieval, together: Retrieval, k: int, skip: str | None = None) -> Retrieval:
    """The hits of a follow-up ranked by their score alone plus their score after the last question.

    An entry missing from one list counts that list's lowest score; `skip` (the
    entry that answered the last question) is left out. The evidence (anchors,
    vector) is the follow-up read together with the last question.
    """
    best: dict[str, Hit] = {}
    totals: dict[str, float] = {}
    floors = [min((h.score for h in r.hits), default=0.0) for r in (alone, together)]
    ids = {h.entry.id for r in (alone, together) for h in r.hits} - {skip}
    for retrieval, floor in zip((alone, together), floors, strict=True):
        scores = {h.entry.id: h for h in retrieval.hits}
        for entry_id in ids:
            hit = scores.get(entry_id)
            totals[entry_id] = totals.get(entry_id, 0.0) + (hit.score if hit else floor)
            if hit and (entry_id not in best or hit.dense > best[entry_id].dense):
                best[entry_id] = hit
    ranked = sorted(ids, key=lambda e: totals[e], reverse=True)[:k]
    hits = [dataclasses.replace(best[e], score=totals[e] / 2) for e in ranked]
    return Retrieval(hits, together.anchors, together.vector)


def _centroids(entry_ids: list[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each entry's mean vector, normalised (rows in the order of the returned ids)."""
    rows: dict[str, list[np.ndarray]] = {}
    for entry_id, row in zip(entry_ids, vectors, strict=True):
        rows.setdefault(entry_id, []).append(row)
    ids = sorted(rows)
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    means = np.vstack([np.mean(rows[e], axis=0) for e in ids]).astype(np.float32)
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return ids, means


def _reciprocal_rank(candidates, dense, lexical, k: int = 60) -> dict[str, float]:
    out = {e: 0.0 for e in candidates}
    for scores in (dense, lexical):
        for rank, entry_id in enumerate(sorted(scores, key=scores.get, reverse=True), start=1):
            out[entry_id] += 1.0 / (k + rank)
    return out
