"""Pseudonymous ids: HMAC-SHA256 of a user or chat id with a secret pepper.

Logs and counters see only these, never a raw Telegram id. The pepper comes
from BOT_PEPPER or, if unset, is generated once into the data directory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

PEPPER_FILE = "pepper"


class Pseudonymizer:
    """Maps ids to stable, non-reversible tokens."""

    def __init__(self, pepper: bytes):
        if len(pepper) < 16:
            raise ValueError("the pepper must be at least 16 bytes")
        self._pepper = pepper

    def __call__(self, kind: str, raw_id: int | str) -> str:
        """A short token for `raw_id`; `kind` ("user", "chat") keeps the two spaces apart."""
        digest = hmac.new(self._pepper, f"{kind}:{raw_id}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0]}_{digest[:16]}"

    def __repr__(self) -> str:
        return "Pseudonymizer(pepper=<hidden>)"


def load_pepper(configured: str | None, data_dir: Path) -> bytes:
    """The configured pepper, else the one stored in `data_dir` (created, owner-only, on first use)."""
    if configured:
        return configured.encode()
    path = data_dir / PEPPER_FILE
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value
