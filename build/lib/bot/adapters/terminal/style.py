"""Colours for the terminal adapters (chat, quiz, demo)."""

from __future__ import annotations

import os
from typing import TextIO


class Style:
    """ANSI colours, or nothing when the output is not a terminal (or NO_COLOR is set)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    @classmethod
    def for_output(cls, stdout: TextIO) -> Style:
        """Colours when `stdout` is a terminal and NO_COLOR is not set."""
        return cls(stdout.isatty() and "NO_COLOR" not in os.environ)
