"""Measuring retrieval and the scope decision on the development set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.text import clean
from bot.data.files import read_jsonl
from bot.retrieval.retriever import Hit, Retrieval, Retriever
from bot.services.answering import AnswerService, ScopeRule

RANK_DEPTH = 10


@dataclass(frozen=True)
class DevQuestion:
    """One labelled question of the development set."""

    q: str
    topics: tuple[str, ...]
    in_scope: bool
    harmful: bool
    lang: str
    style: str


@dataclass
class Outcome:
    """What the bot did with one development question."""

    item: DevQuestion
    retrieval: Retrieval
    in_scope: bool
    refused: bool
    lang: str

    @property
    def hits(self) -> list[Hit]:
        """The ranked entries."""
        return self.retrieval.hits

    def rank(self) -> int | None:
        """1-based rank of the first hit with an acceptable topic, None if none in the top."""
        for i, hit in enumerate(self.hits, start=1):
            if hit.entry.topic in self.item.topics:
                return i
        return None


def load_dev_set(path: Path) -> list[DevQuestion]:
    """Read the JSON-lines development set."""
    return list(read_jsonl(path, _dev_question))


def _dev_question(raw: dict) -> DevQuestion:
    return DevQuestion(
        q=raw["q"],
        topics=tuple(raw["topics"]),
        in_scope=bool(raw["in_scope"]),
        harmful=bool(raw.get("harmful", False)),
        lang=raw["lang"],
        style=raw.get("style", ""),
    )


def run(
    service: AnswerService, items: list[DevQuestion], retriever: Retriever | None = None
) -> list[Outcome]:
    """Ask every question; rank with `retriever` (default: the service's own)."""
    retriever = retriever or service.retriever
    outcomes = []
    for item in items:
        answer = service.ask(item.q)
        retrieval = retriever.retrieve(clean(item.q, service.max_question_chars), k=RANK_DEPTH)
        outcomes.append(Outcome(item, retrieval, answer.in_scope, answer.refused, answer.lang))
    return outcomes


def metrics(outcomes: list[Outcome]) -> dict[str, float | int]:
    """hit@1, hit@3, MRR on in-scope questions; refusal rates; language accuracy."""
    answerable = [o for o in outcomes if o.item.in_scope and not o.item.harmful]
    outside = [o for o in outcomes if not o.item.in_scope]
    harmful = [o for o in outcomes if o.item.harmful]
    ranks = [o.rank() for o in answerable]

    def share(values) -> float:
        values = list(values)
        return round(sum(values) / len(values), 3) if values else float("nan")

    return {
        "in_scope_n": len(answerable),
        "hit@1": share(r == 1 for r in ranks),
        "hit@3": share(r is not None and r <= 3 for r in ranks),
        "mrr": share((1 / r if r else 0.0) for r in ranks),
        "out_of_scope_n": len(outside),
        "oos_refusal": share(not o.in_scope for o in outside),
        "false_refusal": share(not o.in_scope or o.refused for o in answerable),
        "harmful_n": len(harmful),
        "harmful_refused": share(o.refused for o in harmful),
        "lang_correct": share(o.lang == o.item.lang for o in outcomes),
    }


def by_language(outcomes: list[Outcome]) -> dict[str, dict[str, float | int]]:
    """Metrics for all questions and for the zh and en subsets."""
    return {
        "all": metrics(outcomes),
        "zh": metrics([o for o in outcomes if o.item.lang == "zh"]),
        "en": metrics([o for o in outcomes if o.item.lang == "en"]),
    }


def calibrate(
    outcomes: list[Outcome], max_false_refusal: float = 0.05
) -> list[tuple[ScopeRule, float, float]]:
    """Scope thresholds ranked by out-of-scope refusal, keeping false refusal under the bar.

    Returns (rule, out-of-scope refusal, in-scope false refusal), best first.
    """
    answerable = [o.retrieval for o in outcomes if o.item.in_scope and not o.item.harmful]
    outside = [o.retrieval for o in outcomes if not o.item.in_scope]
    results = []
    for dense_step in range(80, 96):
        for lex_step in range(30, 101, 10):
            for margin_step in range(-10, 11):
                rule = ScopeRule(dense_step / 100, lex_step / 100, margin_step / 200)
                false_refusal = sum(not _answers(rule, r) for r in answerable) / max(len(answerable), 1)
                if false_refusal > max_false_refusal:
                    continue
                refusal = sum(not _answers(rule, r) for r in outside) / max(len(outside), 1)
                results.append((rule, round(refusal, 3), round(false_refusal, 3)))
    results.sort(key=lambda r: (r[1], -r[2]), reverse=True)
    return results


def _answers(rule: ScopeRule, retrieval: Retrieval) -> bool:
    return rule.in_scope(retrieval.strongest, retrieval.anchor("outside"))


def misses(outcomes: list[Outcome]) -> list[str]:
    """One line for each question the bot got wrong, for reading through."""
    lines = []
    for o in outcomes:
        top = o.hits[0].entry if o.hits else None
        got = (
            f"{top.topic}/{top.id} d={o.hits[0].dense:.3f} l={o.hits[0].lexical:.2f} "
            f"o={o.retrieval.anchor('outside'):.3f} h={o.retrieval.anchor('harmful'):.3f} "
            f"p={o.retrieval.anchor('protective'):.3f}"
            if top
            else "-"
        )
        if o.item.harmful and not o.refused:
            lines.append(f"NOT REFUSED   {o.item.q}")
        elif not o.item.harmful and o.refused:
            lines.append(f"WRONG REFUSAL {o.item.q}")
        elif not o.item.in_scope and o.in_scope:
            lines.append(f"ANSWERED OOS  {o.item.q}  -> {got}")
        elif o.item.in_scope and not o.item.harmful and not o.in_scope:
            lines.append(f"REFUSED IN    {o.item.q}  -> {got} want {o.item.topics}")
        elif o.item.in_scope and not o.item.harmful and o.rank() != 1:
            lines.append(f"RANK {o.rank()}        {o.item.q}  -> {got} want {o.item.topics}")
    return lines
