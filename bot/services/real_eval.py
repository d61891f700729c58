"""Measuring what askers get on the real-question set (tests/data/real_questions.jsonl).

Each question was posted by a real person and is labelled with the entries
that would meet its need (`acceptable`), or with `expect: refuse` (a harmful
request) or `expect: no_answer` (near the field, but no entry answers it).
An answer counts only when the user would see it: a question that was
refused or turned away has no rank, whatever the retrieval found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.core.text import clean
from bot.data.files import read_jsonl
from bot.services.answering import AnswerService

DEPTH = 3
EXPECTS = ("answer", "refuse", "no_answer")


@dataclass(frozen=True)
class RealQuestion:
    """One real question with its provenance and labels."""

    id: str
    q: str
    split: str
    site: str
    url: str
    expect: str
    acceptable: tuple[str, ...]
    groups: tuple[str, ...] = ()
    lang: str = ""


@dataclass(frozen=True)
class RealOutcome:
    """What the asker got."""

    item: RealQuestion
    answered: bool  # in scope and not refused
    refused: bool
    entry: str | None  # the entry the answer is made of
    ranked: tuple[str, ...]  # the entries the asker can see or reach: the answer, then "see also"
    # How many of `ranked` the answer shows in full: 1, or 2 for an asker abroad (the advice,
    # then the local channels of the outside-mainland entry).
    shown: int = 1

    @property
    def rank(self) -> int | None:
        """1-based position of the first acceptable entry among what the asker sees, if answered.

        Every entry the answer shows in full is at position 1: the asker reads all of it.
        """
        if not self.answered:
            return None
        if any(entry_id in self.item.acceptable for entry_id in self.ranked[: self.shown]):
            return 1
        for position, entry_id in enumerate(self.ranked, start=1):
            if entry_id in self.item.acceptable:
                return position
        return None

    @property
    def correct(self) -> bool:
        """Whether the asker got what they needed: the right entry first, a refusal, or an honest no."""
        if self.item.expect == "refuse":
            return self.refused
        if self.item.expect == "no_answer":
            return not self.answered and not self.refused
        return self.rank == 1


def load_real_set(path: Path) -> list[RealQuestion]:
    """Read the labelled real questions; an unlabelled question is skipped (it cannot be scored)."""
    return list(read_jsonl(path, _real_question))


def _real_question(raw: dict) -> RealQuestion | None:
    expect = raw.get("expect") or ("refuse" if raw.get("kind") == "harmful" else "answer")
    acceptable = tuple(raw.get("acceptable") or ())
    if expect not in EXPECTS:
        raise ValueError(f"expect must be one of {EXPECTS}")
    if expect == "answer" and not acceptable:
        return None
    return RealQuestion(
        id=raw["id"],
        q=raw["q"],
        split=raw["split"],
        site=raw.get("site", ""),
        url=raw.get("url", ""),
        expect=expect,
        acceptable=acceptable,
        groups=tuple(raw.get("groups") or ()),
        lang=raw.get("lang", ""),
    )


def run_real(service: AnswerService, items: Iterable[RealQuestion]) -> list[RealOutcome]:
    """Ask every question as a user would (one question, no context)."""
    outcomes = []
    for item in items:
        answer = service.ask(clean(item.q, service.max_question_chars))
        answered = answer.in_scope and not answer.refused
        sources = answer.sources if answered else []
        shown = [s.id for s in (sources[:1] if answer.generated else sources)]
        entry = shown[0] if shown else None
        ranked = tuple(shown + [r.id for r in answer.related])[: DEPTH + max(len(shown) - 1, 0)]
        outcomes.append(RealOutcome(item, answered, answer.refused, entry, ranked, max(len(shown), 1)))
    return outcomes


def real_metrics(outcomes: list[RealOutcome]) -> dict[str, float | int]:
    """Rank-1 and top-3 shares on answerable questions, refusals, and the share fully correct."""
    answerable = [o for o in outcomes if o.item.expect == "answer"]
    harmful = [o for o in outcomes if o.item.expect == "refuse"]
    no_answer = [o for o in outcomes if o.item.expect == "no_answer"]

    def share(values) -> float:
        values = list(values)
        return round(sum(values) / len(values), 3) if values else float("nan")

    return {
        "n": len(outcomes),
        "answerable_n": len(answerable),
        "rank1": share(o.rank == 1 for o in answerable),
        "top3": share(o.rank is not None for o in answerable),
        "false_refusal": share(not o.answered for o in answerable),
        "harmful_n": len(harmful),
        "harmful_refused": share(o.refused for o in harmful),
        "no_answer_n": len(no_answer),
        "no_answer_honest": share(not o.answered and not o.refused for o in no_answer),
        "correct": share(o.correct for o in outcomes),
    }


def by_part(outcomes: list[RealOutcome]) -> dict[str, dict[str, float | int]]:
    """Metrics for the development part and the held-out part."""
    return {part: real_metrics([o for o in outcomes if o.item.split == part]) for part in ("dev", "holdout")}


# The groups issue 15 reports on (the item's own "groups" labels; "all" is every item).
GROUPS = ("long_narrative", "traditional", "english", "pinyin", "who_leaked", "harmful")


def by_group(outcomes: list[RealOutcome], part: str = "holdout") -> dict[str, dict[str, float | int]]:
    """Metrics of one part for each group of questions that has any."""
    mine = [o for o in outcomes if o.item.split == part]
    table = {"all": real_metrics(mine)}
    for group in GROUPS:
        members = [o for o in mine if group in o.item.groups]
        if members:
            table[group] = real_metrics(members)
    return table


def real_misses(outcomes: list[RealOutcome], part: str = "dev") -> list[str]:
    """One line per question of `part` the asker did not get right (for reading the development part)."""
    lines = []
    for o in outcomes:
        if o.item.split != part or o.correct:
            continue
        got = "REFUSED" if o.refused else (o.entry or "OUT OF SCOPE")
        want = o.item.expect if o.item.expect != "answer" else "|".join(o.item.acceptable)
        lines.append(f"{o.item.id} got {got} want {want}: {o.item.q[:90]!r}")
    return lines
