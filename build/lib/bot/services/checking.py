"""The "is this a scam?" checker: warning signs found in a message, a risk level, what to do.

The signs and their patterns are data (`knowledge/scam_signs.yaml`); the score
is the sum of the weights of the signs found, plus one when the message is
close to a known scam in the knowledge base. Every piece of evidence shown is
masked, and the message is never logged or stored.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.core.masking import mask
from bot.core.text import clean, detect_language, to_simplified
from bot.data.files import read_yaml
from bot.data.templates import PromptError, checked_templates, read_mapping
from bot.retrieval.retriever import Retriever

# Topics whose entries describe scam schemes a message can resemble.
SCAM_TOPICS = {"fake_sms", "telecom_fraud", "unknown_links", "elderly_scams", "app_overcollection"}
# Calibrated on tests/data/check_messages.jsonl (`python -m bot check --jsonl`, see README).
HIGH_AT = 5
MEDIUM_AT = 3
KNOWN_SCHEME_BONUS = 1
KNOWN_SCHEME_SIMILARITY = 0.88

_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。！？]+|(?<![@\w.-])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?:/[^\s，。]*)?"
    r"|(?<![@\w.-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,12}(?:/[^\s，。！？]*)?",
    re.IGNORECASE,
)
_IP_HOST_RE = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_HOTLINE_RE = re.compile(r"\d{5}")
_CJK_SPACE_RE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"


# The advice per risk level (prompts/check.yaml), templates without variables.
ADVICE_VARIABLES: dict[str, set[str]] = {"high": set(), "medium": set(), "low": set()}


class CheckRulesError(ValueError):
    """The signs file is missing or malformed."""


@dataclass(frozen=True)
class Sign:
    """One warning sign found, with the (masked) text that triggered it."""

    id: str
    label: str
    evidence: str
    explanation: str = ""


@dataclass
class CheckResult:
    """The checker's verdict on one message."""

    risk: str
    score: int
    signs: list[Sign]
    topic: str | None
    match: dict[str, object] | None
    advice: str
    lang: str
    latency_ms: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON object of `check --json`."""
        return {
            "risk": self.risk,
            "score": self.score,
            "signs": [{"id": s.id, "label": s.label, "evidence": s.evidence} for s in self.signs],
            "topic": self.topic,
            "match": self.match,
            "advice": self.advice,
            "lang": self.lang,
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True)
class SignRule:
    """A sign's weight, texts and compiled patterns."""

    id: str
    weight: int
    label: dict[str, str]
    explain: dict[str, str]
    patterns: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class CheckRules:
    """Everything `knowledge/scam_signs.yaml` and `prompts/check.yaml` say."""

    signs: dict[str, SignRule]
    negations: tuple[str, ...]
    short_link_domains: frozenset[str]
    unusual_tlds: frozenset[str]
    brand_words: tuple[str, ...]
    advice: dict[str, dict[str, str]]


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
        )
    except (OSError, KeyError, TypeError, ValueError, re.error) as exc:
        raise CheckRulesError(f"{path} or {prompts_dir / 'check.yaml'}: {exc!r}") from None


class MessageChecker:
    """Rates a forwarded message and explains why."""

    def __init__(self, rules: CheckRules, retriever: Retriever | None = None, max_chars: int = 2000):
        self.rules = rules
        self.retriever = retriever
        self.max_chars = max_chars

    def check(self, message: str, lang: str | None = None) -> CheckResult:
        """Check one message; an empty one raises `ValueError`."""
        start = time.perf_counter()
        # Only the masked message is processed: a forwarded text may carry the user's own numbers.
        text = mask(clean(message, self.max_chars))
        if not text:
            raise ValueError("the message is empty")
        lang = lang if lang in ("zh", "en") else detect_language(text)
        # Spaces inside Chinese ("验 证 码") are a trick to dodge filters.
        folded = _CJK_SPACE_RE.sub("", to_simplified(text).lower())
        found = self._pattern_signs(text, folded) + self._link_signs(text)
        score = sum(self.rules.signs[s.id].weight for s in found)
        topic, match = self._scheme(text, lang)
        if match is not None and found:
            score += KNOWN_SCHEME_BONUS
        risk = "high" if score >= HIGH_AT else "medium" if score >= MEDIUM_AT else "low"
        signs = [
            Sign(s.id, self.rules.signs[s.id].label[lang], s.evidence, self.rules.signs[s.id].explain[lang])
            for s in found
        ]
        result = CheckResult(risk, score, signs, topic, match, self.rules.advice[risk][lang], lang)
        result.latency_ms = (time.perf_counter() - start) * 1000
        return result

    def _pattern_signs(self, text: str, folded: str) -> list[Sign]:
        found = []
        for rule in self.rules.signs.values():
            for pattern in rule.patterns:
                hit = next(
                    (m for m in pattern.finditer(folded) if not self._negated(folded, m.start())), None
                )
                if hit:
                    # Show the original characters (folding keeps positions for CJK and ASCII).
                    evidence = text[hit.start() : hit.end()] if len(text) == len(folded) else hit.group()
                    found.append(Sign(rule.id, "", mask(evidence.strip())))
                    break
        return found

    def _negated(self, folded: str, at: int) -> bool:
        before = folded[max(0, at - 16) : at]
        return any(word in before for word in self.rules.negations)

    def _link_signs(self, text: str) -> list[Sign]:
        links = [m.group() for m in _URL_RE.finditer(text) if not m.group()[0].isdigit() or "." in m.group()]
        links = [link for link in links if _host(link)]
        if not links:
            return []
        signs = [Sign("link", "", mask(links[0][:80]))]
        suspicious = next((link for link in links if self._suspicious(_host(link))), None)
        if suspicious:
            signs.append(Sign("suspicious_link", "", mask(suspicious[:80])))
        return signs

    def _suspicious(self, host: str) -> bool:
        if host in self.rules.short_link_domains or _IP_HOST_RE.match(host):
            return True
        if host.rsplit(".", 1)[-1] in self.rules.unusual_tlds:
            return True
        # A brand or hotline glued into a domain with a hyphen: icbc-95588.com, 95533-ccb.cn.
        name = host.rsplit(".", 1)[0]
        branded = any(word in name for word in self.rules.brand_words)
        return branded and ("-" in name or bool(_HOTLINE_RE.search(name)))

    def _scheme(self, text: str, lang: str) -> tuple[str | None, dict[str, object] | None]:
        if self.retriever is None:
            return None, None
        retrieval = self.retriever.retrieve(text, k=3)
        hit = next((h for h in retrieval.hits if h.entry.topic in SCAM_TOPICS), None)
        if hit is None or hit.dense < KNOWN_SCHEME_SIMILARITY:
            return None, None
        entry = hit.entry
        source = asdict(entry.source)
        return entry.topic, {"id": entry.id, "title": entry.title[lang], "source": source}


def _host(link: str) -> str:
    url = link if "://" in link else f"http://{link}"
    try:
        host = (urlparse(url).hostname or "").lower().strip(".")
    except ValueError:
        return ""
    return host if "." in host else ""
