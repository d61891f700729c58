"""Telegram message text: HTML escaping and splitting at Telegram's 4096 UTF-16 units."""

from __future__ import annotations

import html

LIMIT = 4096


def escape(text: str) -> str:
    """Text made safe for parse_mode=HTML."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at paragraph, line or sentence ends when possible.

    Never returns an empty piece; an empty text gives an empty list. The cut
    never falls inside an HTML tag or entity of an escaped text, because it
    prefers newlines and sentence ends and otherwise cuts before a '<' or '&'.
    """
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _cut_point(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            pieces.append(head)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    # The longest prefix that fits in `limit` UTF-16 units.
    units, end = 0, 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        end = i + 1
    window = text[:end]
    for sep in ("\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "；", "，", ", ", " "):
        at = window.rfind(sep)
        if at > end // 2:
            return at + len(sep)
    # No natural break: do not split an HTML entity or tag in two.
    for opener in ("<", "&"):
        at = window.rfind(opener)
        closer = ">" if opener == "<" else ";"
        if at > 0 and closer not in window[at:]:
            return at
    return end
