"""Character n-grams of a request, hashed: evidence for the harm classifier that a small embedding blurs.

The trade's own words (料, 四件套, 接码, 猫池) are a few characters each; a 4-bit e5-small
puts "收车主料" near "车主信息泄露了". Each text, folded to simplified lower case as the
patterns read it, gives its character 1- to 3-grams, hashed with CRC-32 into `FEATURES`
columns and L2-normalised. CRC-32 is stable across processes (Python's `hash` is not), so
a model saved by one process scores the same in the next. Scoring needs numpy only; building
the training matrix needs scipy, which comes with scikit-learn.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.core.text import to_simplified

FEATURES = 2**18
LONGEST = 3


def features(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The text's hashed n-gram columns and their L2-normalised counts (empty for an empty text)."""
    folded = to_simplified(text).lower()
    counts: Counter[int] = Counter()
    for n in range(1, LONGEST + 1):
        for start in range(len(folded) - n + 1):
            counts[zlib.crc32(folded[start : start + n].encode("utf-8")) % FEATURES] += 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    return columns, values / np.linalg.norm(values)


def score(text: str, weights: np.ndarray) -> float:
    """The dot product of the text's n-gram row with `weights` (length `FEATURES`)."""
    columns, values = features(text)
    return float(values @ weights[columns]) if columns.size else 0.0


def matrix(texts: Sequence[str]):
    """One row per text (a scipy CSR matrix of `len(texts)` × `FEATURES`), for training."""
    from scipy import sparse

    rows = [features(t) for t in texts]
    indptr = np.cumsum([0] + [columns.size for columns, _ in rows])
    columns = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
    values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
    return sparse.csr_matrix((values, columns, indptr), shape=(len(texts), FEATURES))
