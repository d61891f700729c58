"""Loading and validating the curated knowledge base (`knowledge/`).

Every problem is reported with the file, the entry and the field it concerns,
so that whoever edits the YAML can find and mend it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.datafiles import read_yaml

KINDS = ("warning", "case", "advice", "law", "figure", "channel")
LANGS = ("zh", "en")
MIN_QUESTIONS = 4
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOPIC_ROW_RE = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*([^|]+?)\s*\|")
_HAN_RE = re.compile(r"[\u3400-\u9fff]")


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
    date: str
    url: str


@dataclass(frozen=True)
class Topic:
    """One row of the fixed topic vocabulary."""

    id: str
    zh: str


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


def load_topics(path: Path) -> dict[str, Topic]:
    """Read the topic ids from the table in `TOPICS.md`."""
    topics = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _TOPIC_ROW_RE.match(line)
        if m:
            topics[m.group(1)] = Topic(id=m.group(1), zh=m.group(2))
    if not topics:
        raise KnowledgeError([Problem(path.name, "-", "-", "no topic rows found")])
    return topics


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and validate every `entries/*.yaml`; raise `KnowledgeError` listing all problems."""
    topics = load_topics(directory / "TOPICS.md")
    files = sorted((directory / "entries").glob("*.yaml"))
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    if not files:
        problems.append(Problem(str(directory / "entries"), "-", "-", "no *.yaml files"))
    for path in files:
        rel = f"{directory.name}/entries/{path.name}"
        try:
            raw = read_yaml(path)
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, "-", "-", f"not valid YAML: {exc}"))
            continue
        if not isinstance(raw, list):
            problems.append(Problem(rel, "-", "-", "the file must be a YAML list of entries"))
            continue
        for position, item in enumerate(raw, start=1):
            entry = _parse_entry(rel, position, item, topics, problems)
            if entry is None:
                continue
            if entry.id in entries:
                other = entries[entry.id].file
                problems.append(Problem(rel, entry.id, "id", f"duplicate id (also in {other})"))
                continue
            entries[entry.id] = entry
    anchors = {"outside": _load_examples(directory / "out_of_scope.yaml", "questions", problems)}
    for kind in ("harmful", "protective"):
        anchors[kind] = _load_examples(directory / "request_examples.yaml", kind, problems)
    if problems:
        raise KnowledgeError(problems)
    anchors = {kind: examples for kind, examples in anchors.items() if examples}
    return KnowledgeBase(entries=entries, topics=topics, files=[p.name for p in files], anchors=anchors)


def _load_examples(path: Path, key: str, problems: list[Problem]) -> tuple[str, ...]:
    """The list of example questions under `key` in `path` (an optional file)."""
    if not path.exists():
        return ()
    try:
        raw = read_yaml(path)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(path.name, "-", "-", f"not valid YAML: {exc}"))
        return ()
    questions = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        problems.append(Problem(path.name, "-", key, "must be a list of non-empty strings"))
        return ()
    return tuple(dict.fromkeys(q.strip() for q in questions))


def _parse_entry(
    file: str, position: int, item: object, topics: dict[str, Topic], problems: list[Problem]
) -> Entry | None:
    if not isinstance(item, dict):
        problems.append(Problem(file, f"#{position}", "-", "an entry must be a mapping"))
        return None
    name = str(item.get("id") or f"#{position}")
    before = len(problems)

    def bad(field_name: str, message: str) -> None:
        problems.append(Problem(file, name, field_name, message))

    for required in ("id", "topic", "kind", "title", "answer", "questions", "source"):
        if item.get(required) in (None, "", [], {}):
            bad(required, "missing")
    if len(problems) > before:
        return None

    if not _ID_RE.match(str(item["id"])):
        bad("id", "use lowercase letters, digits and single hyphens")
    if item["topic"] not in topics:
        bad("topic", f"unknown topic {item['topic']!r} (see TOPICS.md)")
    if item["kind"] not in KINDS:
        bad("kind", f"unknown kind {item['kind']!r}; one of {', '.join(KINDS)}")
    title = _bilingual(item["title"], "title", bad)
    answer = _bilingual(item["answer"], "answer", bad)
    questions = _questions(item["questions"], bad)
    source = _source(item["source"], bad)
    facts = None
    if item["kind"] == "case":
        facts = _facts(item.get("facts"), bad)
    if len(problems) > before:
        return None
    return Entry(
        id=item["id"],
        topic=item["topic"],
        kind=item["kind"],
        title=title,
        answer=answer,
        questions=questions,
        source=source,
        facts=facts,
        file=file,
    )


def _bilingual(value: object, name: str, bad) -> dict[str, str]:
    if not isinstance(value, dict):
        bad(name, "must have zh and en")
        return {}
    out = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            bad(f"{name}.{lang}", "empty or missing")
        else:
            out[lang] = " ".join(text.split()) if lang == "en" else text.strip()
    return out


def _questions(value: object, bad) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(q, str) and q.strip() for q in value):
        bad("questions", "must be a list of non-empty strings")
        return ()
    if len(value) < MIN_QUESTIONS:
        bad("questions", f"has {len(value)}, needs at least {MIN_QUESTIONS}")
    if not any(not _HAN_RE.search(q) for q in value):
        bad("questions", "needs at least one question in English")
    return tuple(q.strip() for q in value)


def _source(value: object, bad) -> Source:
    if not isinstance(value, dict):
        bad("source", "must have name, date and url")
        return Source("", "", "")
    name, date, url = (str(value.get(k) or "").strip() for k in ("name", "date", "url"))
    if not name:
        bad("source.name", "empty or missing")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        bad("source.date", f"{date!r} is not a YYYY-MM-DD date")
    if not re.match(r"^https?://\S+$", url):
        bad("source.url", f"{url!r} is not an http(s) link")
    return Source(name=name, date=date, url=url)


def _facts(value: object, bad) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        bad("facts", "a case needs facts with who, what and how_much")
        return {}
    return {key: _bilingual(value.get(key), f"facts.{key}", bad) for key in ("who", "what", "how_much")}
