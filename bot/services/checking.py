"""The "is this a scam?" checker: warning signs found in a message, the scheme it resembles, a risk level.

The signs and their patterns are data (`knowledge/scam_signs.yaml`); the score
is the sum of the weights of the signs found, plus one when the message is
close to a known scam in the knowledge base. The schemes are data too
(`knowledge/scam_schemes.yaml`): each has a name, why its shape is the pattern,
the entry with the advice, and example messages we wrote. The risk comes from a
calibrated classifier over the message's embedding and the signs
(bot/services/classifiers.py, trained at start-up on data whose origin the
files state), with the sign score as a floor. Every piece of evidence shown is
masked, and the message is never logged or stored.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlparse

import numpy as np

from bot.core.masking import mask
from bot.core.text import clean, detect_language, to_simplified
from bot.retrieval.retriever import Retrieval, Retriever
from bot.services.check_rules import CheckRules, Scheme
from bot.services.classifiers import LinearModel, train_linear

# Topics whose entries describe scam schemes a message can resemble.
SCAM_TOPICS = {"fake_sms", "telecom_fraud", "unknown_links", "elderly_scams", "app_overcollection"}
# The sign score's levels, calibrated on tests/data/check_messages.jsonl (written by us).
HIGH_AT = 5
MEDIUM_AT = 3
# The classifier's probability levels, chosen on the development part of
# tests/data/real_messages.jsonl (`python -m bot eval --messages-only`, see README).
# High needs the classifier's near-certainty, or a high sign score it agrees with. A high sign
# score alone is medium; a medium one counts only when the classifier does not find the
# message plainly ordinary.
HIGH_P = 0.99
MEDIUM_P = 0.5
SIGNS_NEED_P = 0.3
# The index's example kinds the scam classifier learns: scams (label 1) and legitimate messages.
SCAM_KINDS = ("scheme", "scam_message")
LEGIT_KINDS = ("legit_message",)
KNOWN_SCHEME_BONUS = 1
KNOWN_SCHEME_SIMILARITY = 0.88

# Links, also where Chinese is written right against them ("请登录cmb-jf.top兑换"): a link
# starts after anything but an ASCII letter, digit or link character, and stops at Chinese.
_NOT_IN_LINK = "\\s<>\"'，。！？\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_URL_RE = re.compile(
    rf"(?:https?://|www\.)[^{_NOT_IN_LINK}]+"
    rf"|(?<![@a-z0-9_.-])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?::\d+)?(?:/[^{_NOT_IN_LINK}]*)?"
    rf"|(?<![@a-z0-9_.-])[a-z0-9][a-z0-9-]{{0,62}}(?:\.[a-z0-9-]{{1,63}})*\.[a-z]{{2,12}}(?![a-z0-9-])"
    rf"(?:/[^{_NOT_IN_LINK}]*)?",
    re.IGNORECASE,
)
_SENDER_TAG_RE = re.compile(r"【[^】/\s]{1,20}】")
_IP_HOST_RE = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
_HOTLINE_RE = re.compile(r"\d{5}")
_CJK_SPACE_RE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


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
    # The scheme the message resembles (knowledge/scam_schemes.yaml), when it is rated high or medium.
    scheme: str | None = None
    scheme_name: str | None = None
    scheme_why: str | None = None
    # The scam classifier's probability, when it ran.
    probability: float | None = None

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
            "scheme": (
                {"id": self.scheme, "name": self.scheme_name, "why": self.scheme_why} if self.scheme else None
            ),
            "probability": None if self.probability is None else round(self.probability, 3),
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True)
class SchemeBank:
    """The vectors of the schemes' examples, row for row with the scheme each belongs to."""

    ids: tuple[str, ...]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray, k: int = 3) -> tuple[str | None, float]:
        """The scheme whose `k` nearest examples are, on average, nearest to `vector`, and that average."""
        if not self.ids or self.vectors.shape[1] != len(vector):
            return None, 0.0
        similarities = self.vectors @ vector
        best_id, best = None, -1.0
        for scheme_id in dict.fromkeys(self.ids):
            mine = np.sort(similarities[[i for i, s in enumerate(self.ids) if s == scheme_id]])[-k:]
            if mine.mean() > best:
                best_id, best = scheme_id, float(mine.mean())
        return best_id, best


class MessageChecker:
    """Rates a forwarded message and explains why."""

    def __init__(
        self,
        rules: CheckRules,
        retriever: Retriever | None = None,
        max_chars: int = 2000,
        model: LinearModel | None = None,
        bank: SchemeBank | None = None,
    ):
        self.rules = rules
        self.retriever = retriever
        self.max_chars = max_chars
        self.model = model
        self.bank = bank

    def trained(self, examples: dict[str, tuple[list[str], np.ndarray]]) -> MessageChecker:
        """A copy with its classifier and scheme bank fitted on `examples` (kind -> texts, vectors)."""
        model = train_linear(examples, SCAM_KINDS, LEGIT_KINDS, self.flags, MEDIUM_P)
        scheme_of = {text: s.id for s in self.rules.schemes.values() for text in s.examples}
        texts, vectors = examples.get("scheme", ([], None))
        known = [i for i, text in enumerate(texts) if text in scheme_of]
        bank = SchemeBank(tuple(scheme_of[texts[i]] for i in known), vectors[known]) if known else self.bank
        return MessageChecker(self.rules, self.retriever, self.max_chars, model, bank)

    def flags(self, text: str) -> tuple[float, ...]:
        """The classifier's sign features: 1.0 for each sign of the signs file found in `text`."""
        return self._flag_vector(self._found(text, _folded(text)))

    def _flag_vector(self, found: list[Sign]) -> tuple[float, ...]:
        ids = {s.id for s in found}
        return tuple(float(sign_id in ids) for sign_id in self.rules.signs)

    def _found(self, text: str, folded: str) -> list[Sign]:
        """The signs in a (masked, cleaned) message, its patterns matched against `folded`."""
        return self._pattern_signs(text, folded) + self._link_signs(text)

    def check(self, message: str, lang: str | None = None) -> CheckResult:
        """Check one message; an empty one raises `ValueError`."""
        start = time.perf_counter()
        # Only the masked message is processed: a forwarded text may carry the user's own numbers.
        text = mask(clean(message, self.max_chars))
        if not text:
            raise ValueError("the message is empty")
        lang = lang if lang in ("zh", "en") else detect_language(text)
        # Spaces inside Chinese ("验 证 码") are a trick to dodge filters: folded away once.
        folded = _folded(text)
        found = self._found(text, folded)
        score = sum(self.rules.signs[s.id].weight for s in found)
        retrieval = self.retriever.retrieve(text, k=3) if self.retriever is not None else None
        topic, match = self._known(retrieval, lang)
        if match is not None and found:
            score += KNOWN_SCHEME_BONUS
        risk = "high" if score >= HIGH_AT else "medium" if score >= MEDIUM_AT else "low"
        probability = None
        if self.model is not None and retrieval is not None and retrieval.vector is not None:
            probability = self.model.probability(retrieval.vector, self._flag_vector(found))
            high = probability >= HIGH_P or (risk == "high" and probability >= MEDIUM_P)
            # Several strong signs together are never overruled to low.
            medium = (
                probability >= MEDIUM_P
                or risk == "high"
                or (risk == "medium" and probability >= SIGNS_NEED_P)
            )
            risk = "high" if high else "medium" if medium else "low"
        signs = self._labelled(found, lang)
        advice_key = "low_signs" if risk == "low" and signs else risk
        result = CheckResult(risk, score, signs, topic, match, self.rules.advice[advice_key][lang], lang)
        result.probability = probability
        if risk != "low" and retrieval is not None and retrieval.vector is not None:
            self._name_scheme(result, retrieval.vector, folded, lang)
        result.latency_ms = (time.perf_counter() - start) * 1000
        return result

    def link_signs(self, link: str, lang: str) -> list[Sign]:
        """The link rules' signs for one address alone (a QR code's content), labelled in `lang`."""
        return self._labelled(self._link_signs(mask(clean(link, self.max_chars))), lang)

    def _labelled(self, found: list[Sign], lang: str) -> list[Sign]:
        rules = self.rules.signs
        return [Sign(s.id, rules[s.id].label[lang], s.evidence, rules[s.id].explain[lang]) for s in found]

    def _name_scheme(self, result: CheckResult, vector: np.ndarray, folded: str, lang: str) -> None:
        """The scheme of the nearest examples (or its variant, by the marks), and its entry as the match."""
        scheme_id, _ = self.bank.nearest(vector) if self.bank else (None, 0.0)
        scheme = self.rules.schemes.get(scheme_id or "")
        if scheme is None:
            return
        scheme = self._variant(scheme, folded)
        result.scheme, result.scheme_name, result.scheme_why = scheme.id, scheme.name[lang], scheme.why[lang]
        entry = self.retriever.kb.entries.get(scheme.entry) if self.retriever else None
        if entry is not None:
            result.topic = entry.topic
            result.match = {"id": entry.id, "title": entry.title[lang], "source": asdict(entry.source)}

    def _variant(self, scheme: Scheme, folded: str) -> Scheme:
        """The variant of `scheme`'s family whose marks the message shows, else the family's parent."""
        parent = scheme.variant_of or scheme.id
        for other in self.rules.schemes.values():
            if other.variant_of == parent and any(m.search(folded) for m in other.marks):
                return other
        return self.rules.schemes.get(parent, scheme)

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
        # A sender's signature in brackets is not a link to tap: "【G.CN】“G-000000”是您的 Google 验证码"
        text = _SENDER_TAG_RE.sub(" ", text)
        links = [m.group().rstrip(",.;:!?)]}'\"") for m in _URL_RE.finditer(text)]
        links = [link for link in links if not link[0].isdigit() or "." in link]
        links = [link for link in links if self._real_tld(link)]
        links = [link for link in links if _host(link) and not self._official(_host(link))]
        if not links:
            return []
        signs = [Sign("link", "", mask(links[0][:80]))]
        suspicious = next((link for link in links if self._suspicious(_host(link))), None)
        if suspicious:
            signs.append(Sign("suspicious_link", "", mask(suspicious[:80])))
        return signs

    def _real_tld(self, link: str) -> bool:
        """Whether a bare "name.tld" ends in a real top-level domain; other links need not.

        "dinner.msg", "Tmorrow.pls" and "57.Available" are typing in a chat or a bank alert, not
        links. An address with "http://", "www.", a path or three parts counts whatever it ends in.
        """
        if not self.rules.link_tlds or re.match(r"(?i)https?://|www\.", link):
            return True
        host = _host(link)
        if _IP_HOST_RE.match(host) or "/" in link or host.count(".") >= 2:
            return True  # a path, or three parts ("skjh.fisag.hih"): warnings mask real addresses so
        return host.rsplit(".", 1)[-1] in self.rules.link_tlds

    def _official(self, host: str) -> bool:
        """A host of the senders' own domains (knowledge/scam_signs.yaml)."""
        return any(host == d or host.endswith("." + d) for d in self.rules.official_domains)

    def _suspicious(self, host: str) -> bool:
        if host in self.rules.short_link_domains or _IP_HOST_RE.match(host):
            return True
        if host.rsplit(".", 1)[-1] in self.rules.unusual_tlds:
            return True
        # A brand or hotline glued into a domain with a hyphen: icbc-95588.com, 95533-ccb.cn.
        name = host.rsplit(".", 1)[0]
        branded = any(word in name for word in self.rules.brand_words)
        return branded and ("-" in name or bool(_HOTLINE_RE.search(name)))

    def _known(self, retrieval: Retrieval | None, lang: str) -> tuple[str | None, dict[str, object] | None]:
        """The scam entry of the knowledge base the message is close to, if any."""
        if retrieval is None:
            return None, None
        hit = next((h for h in retrieval.hits if h.entry.topic in SCAM_TOPICS), None)
        if hit is None or hit.dense < KNOWN_SCHEME_SIMILARITY:
            return None, None
        entry = hit.entry
        source = asdict(entry.source)
        return entry.topic, {"id": entry.id, "title": entry.title[lang], "source": source}


def _folded(text: str) -> str:
    """What patterns are matched against: simplified, lower case, no spaces inside Chinese ("验 证 码")."""
    return _CJK_SPACE_RE.sub("", to_simplified(text).lower())


def _host(link: str) -> str:
    url = link if "://" in link else f"http://{link}"
    try:
        host = (urlparse(url).hostname or "").lower().strip(".")
    except ValueError:
        return ""
    return host if "." in host else ""
