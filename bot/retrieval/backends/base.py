"""What a backend declares: how it is built, its fingerprint, its calibration, its install hint.

The rules a backend must follow are in this package's docstring (`__init__.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from langchain_core.embeddings import Embeddings


@dataclass(frozen=True)
class BackendOptions:
    """The embedding settings a backend may read (plain values: backends never see `Settings`).

    `query_prefix` and `passage_prefix` are None when not configured: the
    backend guesses them from the model name.
    """

    model: str = ""
    query_prefix: str | None = None
    passage_prefix: str | None = None


@dataclass(frozen=True)
class Calibration:
    """Thresholds measured for a backend's default model (`python -m bot eval --calibrate`).

    The scope thresholds feed `ScopeRule`. `harm_threshold` is the probability
    at which the harmful-request classifier (bot/services/classifiers.py) refuses;
    the classifier is trained on each backend's own vectors, so its probabilities
    mean the same across backends. `field_threshold` is the probability at which
    the field classifier lets a question through that the scope thresholds turn away.
    `harm_ngram_scale` is the weight of the request's character n-grams in the harm
    classifier (0: the embedding and the patterns alone).
    """

    scope_min_dense: float
    scope_min_lexical: float
    scope_min_margin: float
    harm_threshold: float = 0.9
    field_threshold: float = 0.9
    harm_ngram_scale: float = 0.0


@dataclass(frozen=True)
class Backend:
    """One embedding backend, as the registry lists it."""

    name: str
    build: Callable[[BackendOptions], Embeddings]
    fingerprint: Callable[[BackendOptions], str]
    calibration: Calibration
    install_hint: str
    # Whether BOT_EMBEDDING_MODEL must be set for this backend.
    needs_model: bool = False


def e5_prefixes(options: BackendOptions) -> tuple[str, str]:
    """The query and passage prefixes: the configured ones, else E5's roles for a model named *e5*.

    Only the model's own name counts (a hub name, or the last two parts of a local path): a
    temporary directory above it ("/tmp/tmp.Xe5K/…/all-minilm/model") says nothing about the model.
    """
    guess_e5 = "e5" in "/".join(PurePath(options.model).parts[-2:]).lower()
    query = options.query_prefix
    passage = options.passage_prefix
    if query is None:
        query = "query: " if guess_e5 else ""
    if passage is None:
        passage = "passage: " if guess_e5 else ""
    return query, passage
