"""Any sentence-transformers model, by name (needs a model hub) or by local path.

torch and sentence-transformers are imported only when this backend is built.
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from bot.retrieval.backends.base import Backend, BackendOptions, Calibration, e5_prefixes


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model on the CPU, with optional query and passage prefixes."""

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


def _build(options: BackendOptions) -> Embeddings:
    query_prefix, passage_prefix = e5_prefixes(options)
    return SentenceTransformerEmbeddings(options.model, query_prefix, passage_prefix)


def _fingerprint(options: BackendOptions) -> str:
    query_prefix, passage_prefix = e5_prefixes(options)
    return f"sentence-transformers:{options.model}:{query_prefix!r}:{passage_prefix!r}"


BACKEND = Backend(
    name="sentence-transformers",
    build=_build,
    fingerprint=_fingerprint,
    # Calibrated for multilingual-e5-small; the harm similarity rule is off (never calibrated here).
    calibration=Calibration(scope_min_dense=0.55, scope_min_lexical=0.6, scope_min_margin=0.0),
    install_hint=(
        "install the backend (pip install torch==2.13.0, then pip install -e '.[sentence-transformers]') "
        "and set BOT_EMBEDDING_MODEL to a local model directory or a name a reachable model hub serves"
    ),
    needs_model=True,
)
