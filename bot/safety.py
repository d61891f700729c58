"""Recognising harmful requests: asking the bot to help obtain, trade or expose others' data.

The patterns are data (`knowledge/harmful_requests.yaml`). A question about the
law, about prevention or about being a victim is protective and is answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.normalize import to_simplified


class SafetyRulesError(ValueError):
    """The harmful-request file is missing or holds an invalid pattern."""


@dataclass(frozen=True)
class SafetyRules:
    """Compiled harmful and protective patterns, and the entry a refusal points to."""

    harmful: tuple[re.Pattern, ...]
    protective: tuple[re.Pattern, ...]
    refer_to_entry: str

    def is_harmful(self, question: str) -> bool:
        """True when `question` asks for help harming someone's privacy and is not protective."""
        text = to_simplified(question).lower()
        if not any(p.search(text) for p in self.harmful):
            return False
        return not any(p.search(text) for p in self.protective)


def load_safety_rules(path: Path) -> SafetyRules:
    """Compile the patterns of `path`; an invalid one is an error naming it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SafetyRulesError(f"{path}: {exc}") from None
    compiled = {}
    for group in ("harmful", "protective"):
        patterns = []
        for raw in data.get(group) or []:
            try:
                patterns.append(re.compile(raw, re.IGNORECASE))
            except re.error as exc:
                raise SafetyRulesError(f"{path}: {group} pattern {raw!r}: {exc}") from None
        if not patterns:
            raise SafetyRulesError(f"{path}: no {group} patterns")
        compiled[group] = tuple(patterns)
    return SafetyRules(compiled["harmful"], compiled["protective"], str(data.get("refer_to_entry", "")))
