"""Measuring the scam checker on real messages: recall on scams, false alarms on real notices, scheme names.

Each line of the set is a real message (`tests/data/real_messages.jsonl`): its
exact text, `label` (scam or legit), `family` (the scheme a scam belongs to, or
the kind of notice), its source and `split` (dev or holdout, by source).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.data.files import read_jsonl
from bot.services.checking import LEGIT_KINDS, SCAM_KINDS, CheckResult, MessageChecker


@dataclass(frozen=True)
class RealMessage:
    """One real message of the set."""

    id: str
    text: str
    label: str
    family: str
    split: str
    channel: str
    trainable: bool  # whether its licence allows training anything that ships
    site: str = ""  # the source site: the set is split, and the grouped estimate left out, by it


@dataclass(frozen=True)
class MessageOutcome:
    """The checker's verdict on one real message."""

    item: RealMessage
    result: CheckResult

    @property
    def caught(self) -> bool:
        """Rated high or medium."""
        return self.result.risk in ("high", "medium")


def load_messages(path: Path) -> list[RealMessage]:
    """The messages of a JSON-lines set."""
    return list(read_jsonl(path, _message))


def _message(raw: dict) -> RealMessage:
    if raw["label"] not in ("scam", "legit") or raw["split"] not in ("dev", "holdout"):
        raise ValueError("label must be scam or legit, split dev or holdout")
    note = str(raw.get("licence_note", ""))
    return RealMessage(
        str(raw["id"]),
        str(raw["text"]),
        raw["label"],
        str(raw.get("family", "")),
        raw["split"],
        str(raw.get("channel", "")),
        trainable="evaluation only" not in note,
        site=str(raw.get("site", "")),
    )


def run_messages(checker: MessageChecker, items: Iterable[RealMessage]) -> list[MessageOutcome]:
    """Check every message."""
    return [MessageOutcome(item, checker.check(item.text)) for item in items]


def message_metrics(outcomes: list[MessageOutcome], schemes: Collection[str]) -> dict[str, float | int]:
    """Scam recall (high or medium), legitimate messages rated high and medium, schemes named right.

    A scam's family names its scheme when `schemes` has it ("other_scam" has none).
    """

    def share(flags: list[bool]) -> float:
        return round(sum(flags) / len(flags), 3) if flags else float("nan")

    scams = [o for o in outcomes if o.item.label == "scam"]
    legit = [o for o in outcomes if o.item.label == "legit"]
    named = [o for o in scams if o.caught and o.item.family in schemes]
    return {
        "scam_n": len(scams),
        "scam_recall": share([o.caught for o in scams]),
        "scam_high": share([o.result.risk == "high" for o in scams]),
        "legit_n": len(legit),
        "legit_high": share([o.result.risk == "high" for o in legit]),
        "legit_medium": share([o.result.risk == "medium" for o in legit]),
        "scheme_n": len(named),
        "scheme_correct": share([o.result.scheme == o.item.family for o in named]),
    }


def by_split(outcomes: list[MessageOutcome], schemes: Collection[str]) -> dict[str, dict[str, float | int]]:
    """Metrics of the development and the held-out part."""
    return {
        part: message_metrics([o for o in outcomes if o.item.split == part], schemes)
        for part in ("dev", "holdout")
    }


def by_scheme(outcomes: list[MessageOutcome], part: str = "holdout") -> dict[str, dict[str, int]]:
    """Per family of one part's scams: how many, how many caught, how many named after their scheme."""
    table: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if o.item.split != part or o.item.label != "scam":
            continue
        row = table.setdefault(o.item.family, {"n": 0, "caught": 0, "named": 0})
        row["n"] += 1
        row["caught"] += int(o.caught)
        row["named"] += int(o.caught and o.result.scheme == o.item.family)
    return dict(sorted(table.items(), key=lambda kv: -kv[1]["n"]))


def message_misses(outcomes: list[MessageOutcome], part: str = "dev") -> list[str]:
    """One line per message of `part` rated wrongly, for reading through (never the held-out part)."""
    lines = []
    for o in outcomes:
        if o.item.split != part:
            continue
        text = repr(o.item.text[:80])
        if o.item.label == "scam" and not o.caught:
            lines.append(f"MISSED  {o.item.family:<26} p={o.result.probability} {text}")
        elif o.item.label == "legit" and o.caught:
            lines.append(f"ALARM {o.result.risk:<6} {o.item.family:<20} p={o.result.probability} {text}")
        elif o.caught and o.result.scheme not in (None, o.item.family) and o.item.family != "other_scam":
            lines.append(f"SCHEME  {o.item.family:<26} got {o.result.scheme} {text}")
    return lines


def grouped_estimate(
    checker: MessageChecker,
    examples: dict[str, tuple[list[str], np.ndarray]],
    messages: Iterable[RealMessage],
) -> dict[str, dict[str, float | int]]:
    """What the held-out part can expect, from the development part alone.

    The development messages in the training data (`examples`, as the checker was trained)
    are rated by a checker trained without their source site, one site at a time
    ("sites_left_out"). The development messages never trained on are rated by `checker` itself
    ("never_trained"). Leaving a site out also removes a kind of notice whole (the UCI
    collection is one site), so the legitimate figures of the first row run high.
    """
    trained = {_key(text) for kind in SCAM_KINDS + LEGIT_KINDS for text in examples.get(kind, ([], None))[0]}
    dev = [m for m in messages if m.split == "dev"]
    inside = [m for m in dev if _key(m.text) in trained]
    outcomes: list[MessageOutcome] = []
    for site in sorted({m.site for m in inside}):
        mine = [m for m in inside if m.site == site]
        fold = checker.trained(_without(examples, {_key(m.text) for m in mine}))
        outcomes += run_messages(fold, mine)
    never = run_messages(checker, [m for m in dev if _key(m.text) not in trained])
    schemes = set(checker.rules.schemes)
    return {
        "sites_left_out": message_metrics(outcomes, schemes),
        "never_trained": message_metrics(never, schemes),
    }


def _key(text: str) -> str:
    """A message as compared with the training files (their YAML may wrap or trim spaces)."""
    return "".join(text.split())


def _without(examples: dict[str, tuple[list[str], np.ndarray]], keys: set[str]) -> dict:
    """The example sets without the texts of `keys`."""
    out = {}
    for kind, (texts, vectors) in examples.items():
        keep = [i for i, text in enumerate(texts) if _key(text) not in keys]
        out[kind] = ([texts[i] for i in keep], np.asarray(vectors)[keep])
    return out
