"""The answer service: a question in, a cited answer (or a plain "not my field") out.

No language model is involved: the answer is the best entry's curated text in
the asker's language, with related entries and the source of the facts.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import asdict, dataclass, field

import bot.services.regions as regions
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.masking import detect, labelled, mask, sensitive_kinds
from bot.core.memory import is_follow_up
from bot.core.text import (
    clean,
    detect_language,
    is_traditional,
    looks_like_pinyin,
    to_traditional,
    traditional_variant,
)
from bot.retrieval.retriever import Hit, Retrieval, Retriever, merged
from bot.services.classifiers import LinearModel
from bot.services.replies import Replies
from bot.services.safety import SafetyRules
from bot.services.small_talk import SmallTalk

# How many entries may follow the best one as "see also".
MAX_RELATED = 2
# A question that asks for a court case itself; any other question found a case only as
# evidence, and gets the advice the case illustrates (with the case shown under it).
_ASKS_FOR_CASE_RE = re.compile(
    r"案例|案子|案件|判例|真实的?例子|新闻|报道|有没有人.{0,12}(被抓|被判|判刑|坐牢)|哪些人.{0,6}被判"
    r"|\b(cases?|court|convicted|sentenced|examples?|real[- ]life)\b",
    re.IGNORECASE,
)
# Nearer the out-of-scope examples and not in the field: "那股票呢" after an answer is a new question.
PLAINLY_OUTSIDE = 0.5
# What is left of a follow-up without these carries something new ("已经扔掉了").
_BARE_FOLLOW_UP_RE = re.compile(
    r"那么?|怎么办|咋办|怎么弄|然后|还有|呢|吗|啊"
    r"|\b(what now|then what|and then|what should i do|so)\b|[\W_]+",
    re.IGNORECASE,
)


class EmptyQuestion(ValueError):
    """The question holds nothing to answer once cleaned."""


@dataclass(frozen=True)
class ScopeRule:
    """A question is in scope when the evidence of the entries found is strong enough.

    The answering service passes `Retrieval.strongest`: the best entry carrying the
    strongest evidence of any entry found. `min_dense` is the cosine similarity of the
    nearest vector; `min_lexical` is the BM25 score relative to a perfect match; either may
    carry the question. `min_margin` is how much closer the question must be to
    the entries than to the nearest out-of-scope example (knowledge/out_of_scope.yaml),
    which is what separates "how do I renew my passport" from "my passport
    number leaked". All three are calibrated on the development set with
    `python -m bot eval --calibrate`. Failing them, the field classifier
    (bot/services/classifiers.py) may still say, from the question's `vector`,
    that it is about personal information or fraud.
    """

    min_dense: float
    min_lexical: float
    min_margin: float = -1.0
    field_model: LinearModel | None = None

    def in_scope(self, hit: Hit | None, outside: float, vector=None) -> bool:
        """Whether `hit` answers a question whose nearest out-of-scope example is `outside` similar."""
        if hit is None:
            return False
        strong = hit.dense >= self.min_dense or hit.lexical >= self.min_lexical
        if strong and hit.dense - outside >= self.min_margin:
            return True
        return self.field_model is not None and vector is not None and self.field_model.decides(vector)

    def plainly_outside(self, retrieval: Retrieval) -> bool:
        """Nearer an out-of-scope example than any entry, and (with the field classifier) almost
        surely outside the field: "怎么做红烧肉？" is a new question, not a follow-up."""
        if retrieval.best is None:
            return True
        if retrieval.anchor("outside") < retrieval.strongest.dense:
            return False
        if self.field_model is None or retrieval.vector is None:
            return True
        return self.field_model.probability(retrieval.vector) < PLAINLY_OUTSIDE


@dataclass(frozen=True)
class SourceRef:
    """An entry the answer stands on, as the JSON contract shows it."""

    id: str
    title: str
    topic: str
    score: float
    source: dict[str, str]


@dataclass(frozen=True)
class Related:
    """A "see also" entry."""

    id: str
    title: str


@dataclass
class Answer:
    """What the bot says to one question, with everything an adapter needs to show it."""

    question: str
    answer: str
    lang: str
    in_scope: bool
    refused: bool
    topic: str | None
    sources: list[SourceRef] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    latency_ms: float = 0.0
    # Kinds of the sender's own numbers found (and masked) in the question, and the kind warning.
    personal_data: list[str] = field(default_factory=list)
    privacy_warning: str | None = None
    # The court case that is evidence for the answer's advice (its entry's `cases`), if any.
    case: Related | None = None
    # For askers outside mainland China (English or traditional script): which numbers are
    # mainland-only and where to turn instead.
    region_note: str | None = None
    # "greeting", "thanks" or "about" when the message was small talk (then in_scope is false).
    small_talk: str | None = None
    # True when a language model wrote `answer` from the cited `sources` (bot/services/llm/grounded.py).
    generated: bool = False
    # The OpenCC conversion ("s2t", "s2twp", "s2hk") when the answer is in traditional characters:
    # the adapters write their own labels ("see also", "source") in the same script.
    script: str | None = None
    # True when the question was read as a follow-up of the chat's previous one (`ask(previous=...)`).
    follow_up: bool = False
    # The in-scope entries behind an answer, best first (the source, then the "see also"
    # ones), with their scores: what a language model may ground on. Not in the JSON.
    evidence: list[SourceRef] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        """The JSON object of `ask --json`."""
        data = asdict(self)
        del data["evidence"]
        data["latency_ms"] = round(self.latency_ms, 1)
        return data


class AnswerService:
    """Answers questions from the knowledge base through the retriever."""

    def __init__(
        self,
        kb: KnowledgeBase,
        retriever: Retriever,
        replies: Replies,
        safety: SafetyRules,
        scope: ScopeRule,
        max_question_chars: int = 2000,
        small_talk: SmallTalk | None = None,
    ):
        self.kb = kb
        self.retriever = retriever
        self.replies = replies
        self.safety = safety
        self.scope = scope
        self.max_question_chars = max_question_chars
        self.small_talk = small_talk

    def ask(self, question: str, lang: str | None = None, previous: str | None = None) -> Answer:
        """Answer one question; `lang` forces the reply language ('zh' or 'en').

        `previous` is the chat's last question: a follow-up that cannot be
        answered alone ("那怎么办？", "what about my parents?") is searched
        together with it.
        """
        start = time.perf_counter()
        text = clean(question, self.max_question_chars)
        if not text:
            raise EmptyQuestion("the question is empty")
        # Only the masked text is processed, echoed or remembered from here on; the
        # search sees the kind of each number ("银行卡号") instead of its stars.
        findings = detect(text)
        kinds = sensitive_kinds(findings)
        lang = lang if lang in ("zh", "en") else detect_language(text)
        traditional = is_traditional(text)
        # Greetings and thanks around the question are not what is searched.
        talk, core = self.small_talk.read(text) if self.small_talk else (None, text)
        if talk:
            answer = self._small_talk(mask(text), lang, talk)
        else:
            core_findings = findings if core == text else detect(core)
            search = labelled(core, self.replies.personal_data_labels(lang), core_findings)
            text = mask(text)
            context = None
            if previous and is_follow_up(text):
                context = mask(clean(previous, self.max_question_chars))
            # A short follow-up is read with the last question; a longer one only when it
            # cannot be answered alone ("身份证丢了怎么办" stands on its own).
            answer = self._decide(text, search, lang, context if _short(text) else None)
            if context and not answer.in_scope and not answer.refused and not _short(text):
                answer = self._decide(text, f"{context} {search}", lang)
                answer.follow_up = answer.in_scope and not answer.refused
            if not answer.refused and regions.likely_abroad(text, lang, bool(traditional)):
                local = self._local_channels if answer.in_scope else self._numbers_note
                answer = local(answer, lang)
            if not answer.in_scope and not answer.refused and looks_like_pinyin(text):
                # Whoever types pinyin reads Chinese: say it in both languages.
                answer.answer = "\n".join(self.replies.render("pinyin", code) for code in ("zh", "en"))
        if kinds:
            answer.personal_data = kinds
            answer.privacy_warning = self.replies.personal_data_warning(kinds, lang)
        if traditional and lang == "zh":
            _in_traditional(answer, traditional_variant(question))
        answer.latency_ms = (time.perf_counter() - start) * 1000
        return answer

    def _decide(self, text: str, search_text: str, lang: str, context: str | None = None) -> Answer:
        k = 1 + MAX_RELATED + 2
        retrieval = alone = self.retriever.retrieve(search_text, k=k)
        together = None
        if context is not None and not self.scope.plainly_outside(retrieval):
            # A follow-up: what answers both it alone and it after the last question
            # ("老是收到垃圾短信" + "能举报吗" is 12321, not any reporting hotline).
            # The entry that answered the last question has been read already: a follow-up
            # wants the next thing ("已经扔掉了，那怎么办？" after the delivery-label advice).
            # A bare "那怎么办？" asks the same again, and gets the same answer.
            new = _BARE_FOLLOW_UP_RE.sub("", text)
            answered = self.retriever.retrieve(context, k=1).best if new else None
            together = self.retriever.retrieve(f"{context} {search_text}", k=2 * k)
            retrieval = merged(retrieval, together, k, skip=answered.entry.id if answered else None)
        if self.safety.is_harmful(text, retrieval, self.retriever.embed):
            if self.safety.is_override_attempt(text):
                return self._override(text, lang)
            return self._refusal(text, lang)
        if self.scope.in_scope(retrieval.strongest, retrieval.anchor("outside"), retrieval.vector) or (
            # The thread was answered; a short follow-up nearer an entry than any out-of-scope
            # example goes on with it: "我爸妈呢" after the delivery labels ("那股票呢" does not).
            together is not None and alone.anchor("outside") < alone.strongest.dense
        ):
            answer = self._from_hits(text, lang, retrieval)
            answer.follow_up = together is not None
            return answer
        return self._out_of_scope(text, lang)

    def empty_reply(self, lang: str = "zh") -> str:
        """What to say to an empty question."""
        return self.replies.render("empty_question", lang)

    def _from_hits(self, text: str, lang: str, retrieval: Retrieval) -> Answer:
        best = retrieval.hits[0]
        entry = self._advice_for(best.entry, text, retrieval)
        outside = retrieval.anchor("outside")
        others = [
            h
            for h in retrieval.hits
            if h.entry.id != entry.id
            and self.scope.in_scope(h, outside)
            and h.entry.answer[lang] != entry.answer[lang]
            and h.entry.id not in entry.cases
        ][:MAX_RELATED]
        related = [Related(h.entry.id, h.entry.title[lang]) for h in others]
        case = self.kb.entries.get(entry.cases[0]) if entry.cases else None
        return Answer(
            question=text,
            answer=entry.answer[lang],
            lang=lang,
            in_scope=True,
            refused=False,
            topic=entry.topic,
            sources=[_source_ref(entry, lang, best.score)],
            related=related,
            evidence=[
                _source_ref(entry, lang, best.score),
                *(_source_ref(h.entry, lang, h.score) for h in others),
            ],
            case=Related(case.id, case.title[lang]) if case else None,
        )

    def _advice_for(self, found: Entry, text: str, retrieval: Retrieval) -> Entry:
        """The entry to answer with: a case found for a question that does not ask for one gives way
        to the advice it is evidence for (the best-ranked such entry), and is shown under it."""
        if found.kind != "case" or _ASKS_FOR_CASE_RE.search(text):
            return found
        citing = [h.entry for h in retrieval.hits if found.id in h.entry.cases]
        citing = citing or [e for e in self.kb.entries.values() if found.id in e.cases]
        return citing[0] if citing else found

    def _local_channels(self, answer: Answer, lang: str) -> Answer:
        """For an asker outside mainland China, an answer that names mainland-only numbers or services
        keeps its advice and adds the local channels in full, as a second source; without that entry in
        the knowledge base, a note on the numbers (bot/services/regions.py)."""
        outside_id = regions.OUTSIDE_MAINLAND_ENTRY
        outside, found = self.kb.entries.get(outside_id), answer.sources[0] if answer.sources else None
        if found is None or found.id == outside_id or not regions.names_mainland_services(answer.answer):
            return answer
        if outside is None:
            return self._numbers_note(answer, lang)
        ref = _source_ref(outside, lang, found.score)
        return dataclasses.replace(
            answer,
            sources=[found, ref],
            related=[r for r in answer.related if r.id != outside.id],
            evidence=[found, ref, *(e for e in answer.evidence if e.id not in (found.id, outside.id))],
            region_note=outside.answer[lang],
        )

    def _numbers_note(self, answer: Answer, lang: str) -> Answer:
        """For an asker abroad, a reply naming mainland numbers (110, 96110) also names the local lines."""
        if numbers := ("、" if lang == "zh" else ", ").join(regions.mainland_numbers(answer.answer)):
            answer.region_note = self.replies.render("outside_mainland", lang, numbers=numbers)
        return answer

    def _refusal(self, text: str, lang: str) -> Answer:
        entry = self.kb.entries.get(self.safety.refer_to_entry)
        return Answer(
            question=text,
            answer=self.replies.render("refusal", lang),
            lang=lang,
            in_scope=True,
            refused=True,
            topic=entry.topic if entry else "legal",
            sources=[_source_ref(entry, lang, 1.0)] if entry else [],
            related=[Related(entry.id, entry.title[lang])] if entry else [],
        )

    def _override(self, text: str, lang: str) -> Answer:
        """An attempt to change the rules: declined with a neutral reply, no law, no topic."""
        return Answer(
            question=text,
            answer=self.replies.render("override", lang),
            lang=lang,
            in_scope=False,
            refused=True,
            topic=None,
        )

    def _small_talk(self, text: str, lang: str, kind: str) -> Answer:
        examples = "\n".join(f"· {q}" for q in self.replies.scope_examples[lang])
        return Answer(
            question=text,
            answer=f"{self.small_talk.replies[kind][lang]}\n{examples}",
            lang=lang,
            in_scope=False,
            refused=False,
            topic=None,
            small_talk=kind,
        )

    def _out_of_scope(self, text: str, lang: str) -> Answer:
        examples = "\n".join(f"· {q}" for q in self.replies.scope_examples[lang])
        return Answer(
            question=text,
            answer=self.replies.render("out_of_scope", lang, examples=examples),
            lang=lang,
            in_scope=False,
            refused=False,
            topic=None,
        )


def _short(text: str) -> bool:
    """A follow-up short enough to mean nothing without the last question."""
    if detect_language(text) == "zh":
        return len(text) <= 12
    return len(text.split()) <= 8


def _in_traditional(answer: Answer, variant: str) -> None:
    """Every text of a Chinese answer in traditional characters, for a traditional-script asker."""
    answer.script = variant
    answer.answer = to_traditional(answer.answer, variant)
    for field_name in ("privacy_warning", "region_note"):
        value = getattr(answer, field_name)
        if value:
            setattr(answer, field_name, to_traditional(value, variant))
    answer.related = [Related(r.id, to_traditional(r.title, variant)) for r in answer.related]
    if answer.case:
        answer.case = Related(answer.case.id, to_traditional(answer.case.title, variant))
    answer.sources = [dataclasses.replace(s, title=to_traditional(s.title, variant)) for s in answer.sources]


def _source_ref(entry: Entry, lang: str, score: float) -> SourceRef:
    return SourceRef(
        id=entry.id,
        title=entry.title[lang],
        topic=entry.topic,
        score=round(float(score), 4),
        source={"name": entry.source.name, "date": entry.source.date, "url": entry.source.url},
    )
