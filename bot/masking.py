"""Masking personal numbers in anything the bot echoes back: ID, phone and card numbers, e-mail."""

from __future__ import annotations

import re

# Digits may be separated by spaces or dashes, as people type them.
_SEP = r"[\s-]?"
_ID_RE = re.compile(
    r"(?<![0-9a-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9xX](?![0-9a-z])",
    re.I,
)
_CARD_RE = re.compile(r"(?<!\d)(?:\d" + _SEP + r"){15,18}\d(?!\d)")
_PHONE_RE = re.compile(
    r"(?<!\d)(?:(?:\+|00)86" + _SEP + r")?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?!\d)"
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def mask(text: str) -> str:
    """`text` with ID, card and phone numbers and e-mail addresses masked (never raises)."""
    text = _ID_RE.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], text)
    text = _CARD_RE.sub(_mask_digits, text)
    text = _PHONE_RE.sub(_mask_digits, text)
    return _EMAIL_RE.sub(lambda m: m.group()[0] + "***@" + m.group().split("@", 1)[1], text)


def _mask_digits(match: re.Match) -> str:
    """Keep the first three and last two digits, star the rest, keep separators."""
    raw = match.group()
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    keep = set(digits[:3] + digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(raw))
