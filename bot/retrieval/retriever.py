"""Hybrid retrieval: dense (Chroma) and lexical (BM25) evidence fused per entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.text import to_simplified
from bot.retrieval.index import Index
from bot.retrieval.lexical import LexicalIndex

Fusion = Literal["hybrid", "dense", "lexical", "rrf"]


@dataclass(frozen=True)
class Hit:
    """One entry found for a question, with the evidence behind it."""

    entry: Entry
    score: float  # the fused score that orders the hits
    dense: float  # best cosine similarity of any of the entry's vectors
    lexical: float  # BM25 score over the best possible for this question, 0..1


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
    ):
        self._kb = kb
        self._index = index
        self._embeddings = embeddings
        self._lexical = lexical
        self.fusion = fusion
        self.lexical_weight = lexical_weight
        self._dense_k = dense_k
        self._anchors: dict[str, np.ndarray] | None = None

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base the entries come from."""
        return self._kb

    def retrieve(self, question: str, k: int = 5) -> Retrieval:
        """The `k` best entries for a cleaned question, best first, with the example evidence."""
        query = to_simplified(question)
        vector = np.asarray(self._embeddings.embed_query(query), dtype=np.float32)
        dense, anchors = self._dense_scores(vector)
        lexical = self._lexical.relative_scores(query)
        floor = min(dense.values(), default=0.0)
        candidates = set(dense) | set(lexical)
        fused = self._fuse(candidates, dense, lexical, floor)
        ranked = sorted(candidates, key=lambda e: fused[e], reverse=True)[:k]
        hits = [
            Hit(self._kb.entries[e], fused[e], dense.get(e, floor), lexical.get(e, 0.0))
            for e in ranked
            if e in self._kb.entries
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

    def _fuse(self, candidates, dense, lexical, floor) -> dict[str, float]:
        match self.fusion:
            case "dense":
                return {e: dense.get(e, floor) for e in candidates}
            case "lexical":
                return {e: lexical.get(e, 0.0) + 1e-6 * dense.get(e, floor) for e in candidates}
            case "rrf":
                return _reciprocal_rank(candidates, dense, lexical)
            case _:
                return {
                    e: dense.get(e, floor) + self.lexical_weight * lexical.get(e, 0.0) for e in candidates
                }


def _reciprocal_rank(candidates, dense, lexical, k: int = 60) -> dict[str, float]:
    out = {e: 0.0 for e in candidates}
    for scores in (dense, lexical):
        for rank, entry_id in enumerate(sorted(scores, key=scores.get, reverse=True), start=1):
            out[entry_id] += 1.0 / (k + rank)
    return out
