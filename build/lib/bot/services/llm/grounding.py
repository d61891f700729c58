"""Checking a model's answer against the entries it was given: citations, numbers, plain text.

These are the rules the code enforces whatever the prompt says: an answer must
cite at least one entry by its marker ([1], [2], ...); markers that point to no
entry are removed; a number of three or more digits (a hotline, a figure, a
date) that appears in no entry and not in the question is taken as invented.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# [1], [1, 2], [1][2], and the full-width brackets Chinese text often uses: ［1］【1】.
_MARKER_RE = re.compile(r"[\[［【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]］】]")
# A space left in front of punctuation once a marker is removed.
_SPACE_BEFORE_PUNCT_RE = re.compile(r"[ \t]+(?=[。，、；：！？.,;:!?)）])")
# "9,300" and "9300" are the same figure.
_THOUSANDS_RE = re.compile(r"(?<=\d)[,，](?=\d{3})")
_LONG_NUMBER_RE = re.compile(r"\d{3,}")
# Markdown a model adds although asked for plain text; Telegram would show it raw.
_EMPHASIS_RE = re.compile(r"(\*\*|__|`+)")
_HEADING_RE = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_BULLET_RE = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)


@dataclass(frozen=True)
class Cited:
    """An answer whose markers all point to entries, renumbered in the order they are first cited."""

    text: str
    # Positions (0-based) of the cited entries in the list the model was given, first cited first.
    entries: list[int]


def enforce_citations(text: str, count: int) -> Cited | None:
    """Keep the markers that name one of `count` entries, renumbered [1], [2], ... by first citation.

    Returns None when no marker names an entry: such an answer is not grounded.
    """
    order: list[int] = []

    def renumber(match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= count))
        for number in valid:
            if number not in order:
                order.append(number)
        return "".join(f"[{order.index(n) + 1}]" for n in valid)

    renumbered = _MARKER_RE.sub(renumber, text)
    if not order:
        return None
    tidy = _SPACE_BEFORE_PUNCT_RE.sub("", renumbered)
    tidy = re.sub(r"[ \t]{2,}", " ", tidy).strip()
    return Cited(text=tidy, entries=[n - 1 for n in order])


def unsupported_numbers(text: str, evidence: str) -> list[str]:
    """Numbers of three or more digits in `text` that `evidence` does not contain.

    Markers are ignored; full-width digits and thousands separators are folded
    on both sides first.
    """
    body = _numbers_folded(_MARKER_RE.sub(" ", text))
    known = _numbers_folded(evidence)
    return [number for number in _LONG_NUMBER_RE.findall(body) if number not in known]


def as_plain_text(text: str) -> str:
    """The model's answer without Markdown emphasis, headings and bullets (it is shown as plain text)."""
    text = _HEADING_RE.sub("", text)
    text = _BULLET_RE.sub(r"\1· ", text)
    return _EMPHASIS_RE.sub("", text).strip()


def _numbers_folded(text: str) -> str:
    return _THOUSANDS_RE.sub("", unicodedata.normalize("NFKC", text))
