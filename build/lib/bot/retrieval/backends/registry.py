"""Every embedding backend the bot knows: one line each."""

from __future__ import annotations

from bot.retrieval.backends import bundled, sentence_transformers
from bot.retrieval.backends.base import Backend

BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        bundled.BACKEND,
        sentence_transformers.BACKEND,
    )
}
DEFAULT_BACKEND = bundled.BACKEND.name


def backend_named(name: str) -> Backend:
    """The backend called `name`; a `KeyError` naming the known ones otherwise."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown embedding backend {name!r}; known: {', '.join(BACKENDS)}") from None
