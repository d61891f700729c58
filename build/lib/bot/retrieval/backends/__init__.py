"""Embedding backends: each one a module, all of them listed in `registry.py`.

How to add a backend: write `bot/retrieval/backends/<name>.py` with a
LangChain `Embeddings` class and a module-level `BACKEND = Backend(...)`, then
add one line to `registry.BACKENDS`. Nothing else in the code names a backend.

The rules a backend must follow (the rest of the bot relies on them):

- **Unit-length vectors.** `embed_query` and `embed_documents` return vectors
  of length 1. The scope and harm checks compare questions with example
  vectors by a raw dot product (`Retriever`), which is the cosine only then.
- **Two roles.** `embed_query` embeds a question, `embed_documents` the stored
  passages (titles and example questions). Models trained with roles (E5's
  "query: " / "passage: ") must apply them here, not in callers.
- **Thread safety.** The Telegram adapter embeds from worker threads, several
  at a time. Either the model is safe to call concurrently, or the class holds
  a lock around it (see `bundled.py`).
- **No downloads you did not ask for.** Import the model library inside
  `build`, never at module level: the default path must not import torch, and
  `python -m bot` must start without the optional backend installed.
- **A fingerprint without the model.** `fingerprint(options)` names the
  vectors (backend, model, prefixes) without loading anything: a replica whose
  index was built with another model is refused within seconds, before a
  model loads. Two configurations whose vectors differ must have different
  fingerprints.
- **Calibrated thresholds.** `calibration` holds the scope and harm thresholds
  measured with `python -m bot eval --calibrate` for the backend's default
  model; similarity levels differ between models, so there is no shared default.
- **An install hint.** `install_hint` is shown by `python -m bot doctor` when
  the backend cannot be loaded.
"""
