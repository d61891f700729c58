"""The message checker's rules, as data: the warning signs (`knowledge/scam_signs.yaml`), the
schemes (`knowledge/scam_schemes.yaml`) and the advice per risk level (`prompts/check.yaml`).

Loading compiles every pattern, and a malformed file is a `CheckRulesError` that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.data.files import read_yaml
from bot.data.templates import PromptError, checked_templates, read_mapping

# \b in a pattern: a boundary of Latin letters and digits only, so that "etc" is found in "ETC卡".
_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"

# The advice per risk level (prompts/check.yaml), templates without variables.
ADVICE_VARIABLES: dict[str, set[str]] = {"high": set(), "medium": set(), "low": set(), "low_signs": set()}


class CheckRulesError(ValueError):
    """The signs file is missing or malformed."""


@dataclass(frozen=True)
class SignRule:
    """A sign's weight, texts and compiled patterns."""

    id: str
    weight: int
    label: dict[str, str]
    explain: dict[str, str]
    patterns: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class Scheme:
    """A fraud scheme a message can resemble, with the entry that has the advice."""

    id: str
    name: dict[str, str]
    why: dict[str, str]
    entry: str
    examples: tuple[str, ...]
    # A variant (亲友换号 of 冒充领导熟人) is named instead of its parent when one of its marks
    # is in the message, and its parent instead of it when none is.
    variant_of: str | None = None
    marks: tuple[re.Pattern, ...] = ()


@dataclass(frozen=True)
class CheckRules:
    """Everything `knowledge/scam_signs.yaml` and `prompts/check.yaml` say."""

    signs: dict[str, SignRule]
    negations: tuple[str, ...]
    short_link_domains: frozenset[str]
    unusual_tlds: frozenset[str]
    brand_words: tuple[str, ...]
    advice: dict[str, dict[str, str]]
    official_domains: frozenset[str] = frozenset()
    schemes: dict[str, Scheme] = field(default_factory=dict)
    # The DNS root zone's top-level domains (knowledge/tlds.txt): a bare "name.tld" is a link
    # only when its last part is one. Empty: every bare name counts.
    link_tlds: frozenset[str] = frozenset()


def load_check_rules(knowledge_dir: Path, prompts_dir: Path) -> CheckRules:
    """Load and compile the signs and the advice texts; errors name the file."""
    path = knowledge_dir / "scam_signs.yaml"
    advice_path = prompts_dir / "check.yaml"
    try:
        advice = read_mapping(advice_path).get("advice")
        advice = checked_templates(advice if isinstance(advice, dict) else {}, advice_path, ADVICE_VARIABLES)
    except PromptError as exc:
        raise CheckRulesError(str(exc)) from None
    try:
        data = read_yaml(path)
        signs = {}
        for sign_id, raw in data["signs"].items():
            for part in ("label", "explain"):
                if set(raw[part]) != {"zh", "en"}:
                    raise ValueError(
                        f"sign {sign_id!r}: {part} must have exactly zh and en (quote text with commas)"
                    )
            patterns = tuple(
                re.compile(p.replace(r"\b", _BOUNDARY), re.IGNORECASE) for p in raw.get("patterns") or []
            )
            signs[sign_id] = SignRule(sign_id, int(raw["weight"]), raw["label"], raw["explain"], patterns)
        return CheckRules(
            signs=signs,
            negations=tuple(n.lower() for n in data["negations"]),
            short_link_domains=frozenset(str(d).lower() for d in data["short_link_domains"]),
            unusual_tlds=frozenset(str(t).lower() for t in data["unusual_tlds"]),
            brand_words=tuple(str(w).lower() for w in data["brand_words"]),
            advice=advice,
            official_domains=frozenset(str(d).lower() for d in data.get("official_domains") or []),
            schemes=load_schemes(knowledge_dir / "scam_schemes.yaml"),
            link_tlds=load_tlds(knowledge_dir / "tlds.txt"),
        )
    except (OSError, KeyError, TypeError, ValueError, re.error) as exc:
        raise CheckRulesError(f"{path} or {prompts_dir / 'check.yaml'}: {exc!r}") from None


def load_tlds(path: Path) -> frozenset[str]:
    """The top-level domains listed in `path` (an optional file; `#` starts a comment)."""
    if not path.exists():
        return frozenset()
    lines = (line.split("#", 1)[0].strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    tlds = frozenset(line for line in lines if line)
    bad = sorted(t for t in tlds if not re.fullmatch(r"[a-z0-9-]{2,63}", t))
    if bad:
        raise ValueError(f"{path}: not top-level domains: {bad[:3]}")
    return tlds


def load_schemes(path: Path) -> dict[str, Scheme]:
    """The schemes of `path` (an optional file); a malformed one is a ValueError naming it."""
    if not path.exists():
        return {}
    schemes = {}
    for scheme_id, raw in (read_yaml(path).get("schemes") or {}).items():
        for part in ("name", "why"):
            if set(raw[part]) != {"zh", "en"}:
                raise ValueError(f"scheme {scheme_id!r}: {part} must have exactly zh and en")
        examples = tuple(str(e).strip() for e in raw["examples"] if str(e).strip())
        if not examples:
            raise ValueError(f"scheme {scheme_id!r}: no examples")
        variant_of = raw.get("variant_of")
        marks = tuple(re.compile(m.replace(r"\b", _BOUNDARY), re.IGNORECASE) for m in raw.get("marks") or [])
        if bool(variant_of) != bool(marks):
            raise ValueError(f"scheme {scheme_id!r}: a variant needs both variant_of and marks")
        schemes[str(scheme_id)] = Scheme(
            str(scheme_id), raw["name"], raw["why"], str(raw["entry"]), examples, variant_of, marks
        )
    for scheme in schemes.values():
        if scheme.variant_of and scheme.variant_of not in schemes:
            raise ValueError(f"scheme {scheme.id!r}: variant_of {scheme.variant_of!r} is not a scheme")
    return schemes
