"""Loading and validating the curated knowledge base (`knowledge/`).

Every problem is reported with the file, the entry and the field it concerns,
so that whoever edits the YAML can find and mend it at once.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from bot.core.knowledge import KINDS, Entry, KnowledgeBase, KnowledgeError, Problem, Source, Topic
from bot.data.files import bilingual, read_yaml

MIN_QUESTIONS = 6
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOPIC_ROW_RE = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*([^|]+?)\s*\|")
_HAN_RE = re.compile(r"[\u3400-\u9fff]")


def load_topics(path: Path, names_path: Path | None = None) -> dict[str, Topic]:
    """The topic ids of the table in `TOPICS.md`, named in both languages by `topics.yaml`.

    `names_path` defaults to `topics.yaml` beside `TOPICS.md`. Every id must
    have a zh and an en name there, and the file may name no other id: a
    missing English name is a load error, never an id shown to users.
    """
    ids = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _TOPIC_ROW_RE.match(line)
        if m:
            ids[m.group(1)] = m.group(2)
    if not ids:
        raise KnowledgeError([Problem(path.name, "-", "-", "no topic rows found")])
    names_path = names_path or path.with_name("topics.yaml")
    problems: list[Problem] = []

    def bad(field_name: str, message: str, topic: str = "-") -> None:
        problems.append(Problem(names_path.name, topic, field_name, message))

    try:
        names = read_yaml(names_path)
    except FileNotFoundError:
        names = None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KnowledgeError([Problem(names_path.name, "-", "-", f"not valid YAML: {exc}")]) from None
    if not isinstance(names, dict):
        raise KnowledgeError([Problem(names_path.name, "-", "-", "missing, or not a mapping of topic ids")])
    for extra in sorted(set(names) - set(ids)):
        bad("id", f"{extra!r} is not a topic of {path.name}", str(extra))
    topics = {}
    for topic in ids:
        named = bilingual(names.get(topic), "name", lambda f, m, t=topic: bad(f, m, t))
        if len(named) == 2:
            topics[topic] = Topic(id=topic, zh=named["zh"], en=named["en"])
    if problems:
        raise KnowledgeError(problems)
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
    _check_cases(entries, problems)
    anchors = {"outside": _load_examples(directory / "out_of_scope.yaml", "questions", problems)}
    for kind in ("harmful", "protective"):
        anchors[kind] = _load_examples(directory / "request_examples.yaml", kind, problems)
    anchors["narrative"] = _load_examples(directory / "benign_narratives.yaml", "questions", problems)
    # The scam checker's examples: the schemes' (written by us), real scams and real or written notices.
    anchors["scheme"] = _scheme_examples(directory / "scam_schemes.yaml", problems)
    anchors["scam_message"] = _load_examples(directory / "message_examples.yaml", "scam", problems)
    anchors["legit_message"] = tuple(
        dict.fromkeys(
            _load_examples(directory / "message_examples.yaml", "legit", problems)
            + _load_examples(directory / "notice_examples.yaml", "legit", problems)
        )
    )
    if problems:
        raise KnowledgeError(problems)
    anchors = {kind: examples for kind, examples in anchors.items() if examples}
    return KnowledgeBase(entries=entries, topics=topics, files=[p.name for p in files], anchors=anchors)


def _check_cases(entries: dict[str, Entry], problems: list[Problem]) -> None:
    """Every id under `cases` names a case entry, and no case lists cases of its own."""
    for entry in entries.values():
        for case_id in entry.cases:
            case = entries.get(case_id)
            if entry.kind == "case":
                problems.append(Problem(entry.file, entry.id, "cases", "a case cannot list cases"))
            elif case is None or case.kind != "case":
                problems.append(Problem(entry.file, entry.id, "cases", f"{case_id!r} is not a case entry"))


def _scheme_examples(path: Path, problems: list[Problem]) -> tuple[str, ...]:
    """Every example message of every scheme in `path` (an optional file)."""
    if not path.exists():
        return ()
    try:
        schemes = read_yaml(path).get("schemes") or {}
        return tuple(
            dict.fromkeys(str(e).strip() for s in schemes.values() for e in s["examples"] if str(e).strip())
        )
    except (yaml.YAMLError, UnicodeDecodeError, AttributeError, KeyError, TypeError) as exc:
        problems.append(Problem(path.name, "-", "examples", f"each scheme needs a list of examples: {exc}"))
        return ()


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
    title = bilingual(item["title"], "title", bad, fold_english=True)
    answer = bilingual(item["answer"], "answer", bad, fold_english=True)
    questions = _questions(item["questions"], bad)
    source = _source(item["source"], bad)
    facts = None
    if item["kind"] == "case":
        facts = _facts(item.get("facts"), bad)
    cases = item.get("cases") or []
    if not isinstance(cases, list) or not all(isinstance(c, str) for c in cases):
        bad("cases", "must be a list of case entry ids")
        cases = []
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
        cases=tuple(cases),
    )


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
    accessed = str(value.get("accessed") or "").strip()
    if accessed:
        try:
            dt.date.fromisoformat(accessed)
        except ValueError:
            bad("source.accessed", f"{accessed!r} is not a YYYY-MM-DD date")
    return Source(name=name, date=date, url=url, accessed=accessed)


def _facts(value: object, bad) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        bad("facts", "a case needs facts with who, what and how_much")
        return {}
    keys = ("who", "what", "how_much")
    return {key: bilingual(value.get(key), f"facts.{key}", bad, fold_english=True) for key in keys}
