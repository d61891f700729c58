"""The knowledge model: entries, topics and the knowledge base that holds them.

Loading and validating the YAML files is `bot.data.knowledge`'s work.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("warning", "case", "advice", "law", "figure", "channel")


class KnowledgeError(ValueError):
    """One or more entries are invalid; `problems` lists each as a `Problem`."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one entry."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry!r}: field {self.field!r}: {self.message}"


@dataclass(frozen=True)
class Source:
    """Where an entry's facts come from."""

    name: str
    date: str  # publication date
    url: str
    accessed: str = ""  # when the page was last checked, if recorded


@dataclass(frozen=True)
class Topic:
    """One topic of the fixed vocabulary (TOPICS.md), with its names in both languages."""

    id: str
    zh: str
    en: str = ""

    def name(self, lang: str) -> str:
        """The topic's name in `lang`."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Entry:
    """One thing a citizen might need: a warning, case, advice, law, figure or channel."""

    id: str
    topic: str
    kind: str
    title: dict[str, str]
    answer: dict[str, str]
    questions: tuple[str, ...]
    source: Source
    facts: dict[str, dict[str, str]] | None = None
    file: str = ""
    # Court cases (kind "case") that are evidence for this entry's advice, shown under its answer.
    cases: tuple[str, ...] = ()

    def passage(self) -> str:
        """The entry's short text for the dense index: its titles in both languages.

        Whole answers cost ten times the embedding time (about 2 ms a token
        here) and measured no better on the development set; the lexical
        index reads the whole answer instead.
        """
        return f"{self.title['zh']}\n{self.title['en']}"

    def content_hash(self) -> str:
        """A hash of everything that is indexed, so unchanged entries are not embedded again."""
        data = {"passage": self.passage(), "questions": list(self.questions), "topic": self.topic}
        return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass
class KnowledgeBase:
    """All entries, by id, with the topic vocabulary."""

    entries: dict[str, Entry]
    topics: dict[str, Topic]
    files: list[str] = field(default_factory=list)
    # Example questions by kind, compared with a question by similarity:
    # "outside" (not the bot's field), "harmful" and "protective" requests.
    anchors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def by_topic(self, topic: str) -> list[Entry]:
        """The entries of one topic, in file order."""
        return [e for e in self.entries.values() if e.topic == topic]

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts of entries per topic and per kind."""
        return {
            "topic": dict(Counter(e.topic for e in self.entries.values())),
            "kind": dict(Counter(e.kind for e in self.entries.values())),
        }
