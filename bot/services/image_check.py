"""Checking a picture: the text read from it is checked like a typed message, each QR code by what it is.

A QR code's content is sorted into a kind (`knowledge/qr_codes.yaml`: an app
download, a payment code, a group invite, a contact, Wi-Fi, a link, text) and
judged by the kind's rule: links by the checker's link rules, payment codes,
invites and contacts by the picture's own text around them. The picture's risk
is the text's, raised by a suspicious code. Everything shown is masked; the
picture is only ever held in memory.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.masking import mask
from bot.core.text import clean, detect_language, shorten
from bot.data.files import read_yaml
from bot.data.templates import PromptError, checked_templates, read_mapping
from bot.services.checking import CheckResult, MessageChecker, Sign
from bot.services.images import ImageReader, Reading

RISKS = ("low", "medium", "high")
SUSPICIOUS_RULES = ("always", "context", "link", "signs", "never")
# The picture texts of prompts/check.yaml (`image:`) and their variables.
IMAGE_VARIABLES: dict[str, set[str]] = {
    "nothing_read": set(),
    "read_heading": set(),
    "qr_heading": set(),
    "qr_suspicious": set(),
    "not_image": set(),
    "too_large": {"limit_mb"},
    "unavailable": set(),
}
MAX_CODE_CHARS = 120
MAX_TEXT_CHARS = 2000
# Fewer letters, digits or characters than this is a scrap (a logo, a button), not a message:
# it is shown, but no verdict is drawn from it.
MIN_CHECKED_CHARS = 6
_WORD_CHAR_RE = re.compile(r"\w")


@dataclass(frozen=True)
class QRKind:
    """One kind of QR content: how to recognise it, when it is suspicious, what to say."""

    id: str
    suspicious: str
    patterns: tuple[re.Pattern, ...]
    label: dict[str, str]
    advice: dict[str, str]
    suspicious_advice: dict[str, str] | None = None


@dataclass(frozen=True)
class ImageRules:
    """The QR kinds, in the order they are tried, and the picture texts."""

    kinds: tuple[QRKind, ...]
    texts: dict[str, dict[str, str]]

    def kind_of(self, content: str) -> QRKind:
        """The first kind whose pattern matches the start of `content` (the last kind matches anything)."""
        stripped = content.strip()
        return next((k for k in self.kinds if any(p.match(stripped) for p in k.patterns)), self.kinds[-1])


def load_image_rules(knowledge_dir: Path, prompts_dir: Path) -> ImageRules:
    """`knowledge/qr_codes.yaml` and the `image:` texts of `prompts/check.yaml`; errors name the file."""
    path, texts_path = knowledge_dir / "qr_codes.yaml", prompts_dir / "check.yaml"
    texts = read_mapping(texts_path).get("image")
    texts = checked_templates(
        texts if isinstance(texts, dict) else {}, f"{texts_path} (image)", IMAGE_VARIABLES
    )
    kinds = []
    try:
        for kind_id, raw in (read_yaml(path).get("kinds") or {}).items():
            if raw["suspicious"] not in SUSPICIOUS_RULES:
                raise ValueError(f"kind {kind_id!r}: suspicious must be one of {SUSPICIOUS_RULES}")
            for part in ("label", "advice") + (("suspicious_advice",) if "suspicious_advice" in raw else ()):
                if set(raw[part]) != {"zh", "en"}:
                    raise ValueError(f"kind {kind_id!r}: {part} must have exactly zh and en")
            patterns = tuple(re.compile(str(p), re.IGNORECASE) for p in raw["patterns"])
            kinds.append(
                QRKind(
                    str(kind_id),
                    raw["suspicious"],
                    patterns,
                    raw["label"],
                    raw["advice"],
                    raw.get("suspicious_advice"),
                )
            )
    except (OSError, KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
        raise PromptError(f"{path}: {exc!r}") from None
    if not kinds:
        raise PromptError(f"{path}: no QR kinds")
    return ImageRules(tuple(kinds), texts)


@dataclass
class QRFinding:
    """One QR code: its kind, its (masked, shortened) content, and whether it is a warning sign."""

    kind: str
    data: str
    suspicious: bool
    label: str
    advice: str
    signs: list[Sign] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "data": self.data,
            "suspicious": self.suspicious,
            "label": self.label,
            "advice": self.advice,
            "signs": [{"id": s.id, "label": s.label, "evidence": s.evidence} for s in self.signs],
        }


@dataclass
class ImageCheckResult:
    """The verdict on a picture; `risk` is None when nothing could be read (no verdict is invented)."""

    risk: str | None
    lang: str
    advice: str
    text: str = ""
    rows: list[str] = field(default_factory=list)
    qr: list[QRFinding] = field(default_factory=list)
    check: CheckResult | None = None
    latency_ms: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def read_anything(self) -> bool:
        return bool(self.text or self.qr)

    @property
    def signs(self) -> list[Sign]:
        return self.check.signs if self.check else []

    def to_dict(self) -> dict:
        """`check --image --json`: the checker's fields, plus `text` and `qr`."""
        base = (
            self.check.to_dict()
            if self.check
            else {
                "risk": None,
                "score": 0,
                "signs": [],
                "topic": None,
                "match": None,
                "advice": "",
                "lang": self.lang,
                "scheme": None,
                "probability": None,
            }
        )
        base.update(
            risk=self.risk,
            advice=self.advice,
            lang=self.lang,
            text=self.text,
            qr=[finding.to_dict() for finding in self.qr],
            latency_ms=round(self.latency_ms, 1),
        )
        return base


class ImageChecker:
    """Reads a picture and checks what it holds."""

    def __init__(self, reader: ImageReader, checker: MessageChecker, rules: ImageRules):
        self.reader = reader
        self.checker = checker
        self.rules = rules

    def text(self, name: str, lang: str, **values) -> str:
        """One of the picture texts (prompts/check.yaml `image:`) in `lang`."""
        return self.rules.texts[name][lang if lang in ("zh", "en") else "zh"].format(**values)

    def check(self, data: bytes, lang: str | None = None, max_bytes: int | None = None) -> ImageCheckResult:
        """Check the picture in `data`; `ImageError` when it is not one (or too large, or OCR is missing)."""
        start = time.perf_counter()
        reading = self.reader.read(data, max_bytes)
        result = self.judge(reading, lang)
        result.latency_ms = (time.perf_counter() - start) * 1000
        return result

    def judge(self, reading: Reading, lang: str | None = None) -> ImageCheckResult:
        """The verdict on what was read: the text's check, each code's finding, the combined risk."""
        text = mask(clean(reading.text, MAX_TEXT_CHARS))
        lang = lang if lang in ("zh", "en") else detect_language(text) if text else "zh"
        checkable = len(_WORD_CHAR_RE.findall(text)) >= MIN_CHECKED_CHARS
        check = self.checker.check(text, lang) if checkable else None
        text_risk = check.risk if check else None
        codes = [self.judge_code(code, lang, text_risk) for code in reading.codes]
        if check is None and not codes:  # nothing, or only a scrap, was read: no verdict
            return ImageCheckResult(
                None, lang, self.text("nothing_read", lang), timings_ms=reading.timings_ms
            )
        risk = _combined(text_risk, codes)
        advice = check.advice if check and risk == check.risk else self.checker.rules.advice[risk][lang]
        rows = [mask(row) for row in reading.rows]
        return ImageCheckResult(risk, lang, advice, text, rows, codes, check, timings_ms=reading.timings_ms)

    def judge_code(self, content: str, lang: str, text_risk: str | None = None) -> QRFinding:
        """One QR code: its kind, and whether it is suspicious by its kind's rule (`text_risk`: the
        picture's text, for the kinds judged by their context)."""
        kind = self.rules.kind_of(content)
        shown = shorten(mask(clean(content, MAX_CODE_CHARS * 4)), MAX_CODE_CHARS)
        signs: list[Sign] = []
        if kind.suspicious == "link":
            signs = self.checker.link_signs(content, lang)
            suspicious = any(s.id == "suspicious_link" for s in signs)
        elif kind.suspicious == "signs":
            try:
                verdict = self.checker.check(content, lang)
            except ValueError:  # nothing printable in the code
                verdict = None
            signs = verdict.signs if verdict else []
            suspicious = bool(verdict) and verdict.risk != "low"
        else:
            suspicious = kind.suspicious == "always" or (
                kind.suspicious == "context" and text_risk in ("medium", "high")
            )
        advice = (kind.suspicious_advice if suspicious and kind.suspicious_advice else kind.advice)[lang]
        return QRFinding(kind.id, shown, suspicious, kind.label[lang], advice, signs)


def _combined(text_risk: str | None, codes: list[QRFinding]) -> str:
    """The text's risk, raised by suspicious codes: one alone makes it medium; one beside a
    medium or high text, or an app download, makes it high."""
    risk = RISKS.index(text_risk) if text_risk else 0
    for code in codes:
        if not code.suspicious:
            continue
        strong = code.kind == "app_download" or risk >= RISKS.index("medium")
        risk = max(risk, RISKS.index("high") if strong else RISKS.index("medium"))
    return RISKS[risk]
