"""How to write a command of this program in a hint, so that it runs exactly as printed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PROJECT = Path(__file__).resolve().parents[2]


def bot_command(args: str) -> str:
    """`args` as a full command: `.venv/bin/python -m bot ARGS` when run from the project's own
    virtual environment (what `make chat` sets up), else `python -m bot ARGS` (an activated
    environment, a container)."""
    return f"{_launcher()} -m bot {args}".rstrip()


def _launcher() -> str:
    venv = _PROJECT / ".venv"
    try:
        inside = Path(sys.prefix).resolve() == venv.resolve()
    except OSError:
        inside = False
    if not inside:
        return "python"
    try:
        relative = os.path.relpath(venv / "bin" / "python", Path.cwd())
    except ValueError:  # another drive (Windows)
        return str(venv / "bin" / "python")
    return relative if not relative.startswith("..") else str(venv / "bin" / "python")
