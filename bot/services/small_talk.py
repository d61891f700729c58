"""Greetings, thanks and "who are you": a short friendly reply, and questions freed of their pleasantries.

The patterns and replies are data (`prompts/small_talk.yaml`). A message that
is only small talk gets its kind's reply with example questions; a greeting
before a question or thanks after it is removed before the question is
searched, so "你好，请问快递面单怎么处理？谢谢" is searched as the question alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.text import to_simplified
from bot.data.templates import PromptError, checked_templates, read_mapping

KINDS = ("greeting", "thanks", "about")


@dataclass(frozen=True)
class SmallTalk:
    """The small-talk patterns and replies."""

    openers: tuple[re.Pattern, ...]
    closers: tuple[re.Pattern, ...]
    kinds: dict[str, tuple[re.Pattern, ...]]
    replies: dict[str, dict[str, str]]

    def read(self, text: str) -> tuple[str | None, str]:
        """The small-talk kind of the whole message (or None), and the part of it to search.

        The kind is 'greeting', 'thanks' or 'about' when the message is only small
        talk; the part to search is the text without a leading greeting and
        trailing thanks (the text itself when nothing is left).
        """
        folded = to_simplified(text).strip().lower()
        rest, closed = self._strip(text)
        for name, patterns in self.kinds.items():
            if any(p.search(folded) for p in patterns):
                return name, text
        if not rest.strip(" ,，。.!！?？~～"):
            return ("thanks" if closed else "greeting"), text  # only openers and closers: "哈啰，你好"
        return None, rest.strip(" ,，。.!！") or text

    def kind(self, text: str) -> str | None:
        """'greeting', 'thanks' or 'about' when the whole message is small talk, else None."""
        return self.read(text)[0]

    def question_part(self, text: str) -> str:
        """`text` without a leading greeting and trailing thanks; the text itself when nothing is left."""
        return self.read(text)[1]

    def _strip(self, text: str) -> tuple[str, bool]:
        """The text between the openers and closers, and whether a closer (thanks) was removed."""
        folded = to_simplified(text)
        start, end, closed = 0, len(text), False
        changed = True
        while changed and start < end:
            changed = False
            for pattern in self.openers:
                m = pattern.match(folded, start, end)
                if m and m.end() > start:
                    start, changed = m.end(), True
            for pattern in self.closers:
                m = pattern.search(folded, start, end)
                if m and m.start() < end and m.end() == end:
                    end, changed, closed = m.start(), True, True
        return text[start:end], closed


def load_small_talk(directory: Path) -> SmallTalk:
    """Read and check `small_talk.yaml` in `directory`."""
    path = directory / "small_talk.yaml"
    data = read_mapping(path)
    kinds = data.get("kinds")
    if not isinstance(kinds, dict) or set(kinds) != set(KINDS):
        raise PromptError(f"{path}: 'kinds' must be exactly {', '.join(KINDS)}")
    replies = {name: kinds[name].get("reply") for name in KINDS}
    replies = checked_templates(replies, path, {name: set() for name in KINDS})
    try:
        compiled = {
            name: tuple(re.compile(p, re.IGNORECASE) for p in kinds[name].get("patterns") or [])
            for name in KINDS
        }
        openers = tuple(re.compile(p, re.IGNORECASE) for p in data.get("openers") or [])
        closers = tuple(re.compile(p, re.IGNORECASE) for p in data.get("closers") or [])
    except re.error as exc:
        raise PromptError(f"{path}: invalid pattern: {exc}") from None
    if not all(compiled.values()):
        raise PromptError(f"{path}: every kind needs at least one pattern")
    return SmallTalk(openers, closers, compiled, replies)
