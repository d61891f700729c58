"""Recognising harmful requests: asking the bot to help obtain, trade or expose others' data.

The patterns are data (`knowledge/harmful_requests.yaml`). A question about the
law, about prevention or about being a victim is protective and is answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.datafiles import read_yaml
from bot.normalize import to_simplified
from bot.retrieval import Retrieval

# Python's \b sees Chinese characters as word characters, so "\bcomplain" would
# not match in "微信上complain"; the patterns' \b means a boundary of Latin
# letters and digits only.
_ASCII_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"


class SafetyRulesError(ValueError):
    """The harmful-request file is missing or holds an invalid pattern."""


@dataclass(frozen=True)
class HarmRule:
    """When similarity alone marks a request as harmful.

    The nearest harmful example (knowledge/request_examples.yaml) must be at
    least `min_similarity` close, and closer by `min_margin` than both the
    nearest protective example, the nearest out-of-scope example and the best
    knowledge entry. Calibrated on
    the development set with `python -m bot eval --calibrate`.
    """

    min_similarity: float
    min_margin: float

    def harmful(self, retrieval: Retrieval) -> bool:
        """Whether the examples near the question say it is a harmful request."""
        harmful = retrieval.anchor("harmful")
        best_entry = retrieval.best.dense if retrieval.best else 0.0
        rival = max(retrieval.anchor("protective"), retrieval.anchor("outside"), best_entry)
        return harmful >= self.min_similarity and harmful - rival >= self.min_margin


@dataclass(frozen=True)
class SafetyRules:
    """Harmful and protective patterns, the similarity rule, and the entry a refusal points to."""

    harmful: tuple[re.Pattern, ...]
    protective: tuple[re.Pattern, ...]
    refer_to_entry: str
    similarity: HarmRule | None = None

    def is_harmful(self, question: str, retrieval: Retrieval | None = None) -> bool:
        """True when `question` asks for help harming someone's privacy and is not protective.

        A pattern or, given the retrieval evidence, the nearest examples can
        mark it harmful; a protective pattern (legality, prevention, being a
        victim) always wins.
        """
        text = to_simplified(question).lower()
        flagged = any(p.search(text) for p in self.harmful) or (
            self.similarity is not None and retrieval is not None and self.similarity.harmful(retrieval)
        )
        return flagged and not any(p.search(text) for p in self.protective)


def load_safety_rules(path: Path, similarity: HarmRule | None = None) -> SafetyRules:
    """Compile the patterns of `path`; an invalid one is an error naming it."""
    try:
        data = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        raise SafetyRulesError(f"{path}: {exc}") from None
    compiled = {}
    for group in ("harmful", "protective"):
        patterns = []
        for raw in data.get(group) or []:
            try:
                patterns.append(re.compile(raw.replace(r"\b", _ASCII_BOUNDARY), re.IGNORECASE))
            except re.error as exc:
                raise SafetyRulesError(f"{path}: {group} pattern {raw!r}: {exc}") from None
        if not patterns:
            raise SafetyRulesError(f"{path}: no {group} patterns")
        compiled[group] = tuple(patterns)
    return SafetyRules(
        compiled["harmful"], compiled["protective"], str(data.get("refer_to_entry", "")), similarity
    )
