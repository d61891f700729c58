"""The grounded answerer: the curated answer first, then a fluent one from a language model.

It wraps the answer service and keeps its interface, so the adapters (CLI,
terminal chat, Telegram) use either one. The curated answer is always worked
out first and is what the user gets whenever the model is not asked (a refused
or out-of-scope question) or fails (timeout, connection error, rate limit,
server error, empty output, no valid citation, an invented number). Only the
masked question and the curated entries are ever sent to the model.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from bot.core.knowledge import KnowledgeBase
from bot.core.masking import mask
from bot.core.memory import is_follow_up
from bot.core.text import clean
from bot.services.answering import Answer, AnswerService
from bot.services.llm.generation import AnswerGenerator, GenerationFailed
from bot.services.replies import Replies

logger = logging.getLogger("bot.generation")

# Share of the time limit a follow-up's rewrite may use; the answer gets the rest.
REWRITE_SHARE = 0.4


class GroundedAnswerer:
    """Answers like `AnswerService`, in the model's words when the model behaves."""

    def __init__(self, service: AnswerService, generator: AnswerGenerator, timeout_s: float):
        self.service = service
        self.generator = generator
        self.timeout_s = timeout_s

    def __getattr__(self, name: str):
        # Anything else an adapter asks of the answer service (a reply text, a setting)
        # is the curated service's, so the two stay interchangeable as it grows.
        return getattr(self.service, name)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base behind the answers."""
        return self.service.kb

    @property
    def replies(self) -> Replies:
        """The fixed reply texts."""
        return self.service.replies

    @property
    def max_question_chars(self) -> int:
        """Longest question read."""
        return self.service.max_question_chars

    def ask(self, question: str, lang: str | None = None, previous: str | None = None) -> Answer:
        """Answer one question; `previous` is the chat's last question, for follow-ups.

        Raises `EmptyQuestion` like `AnswerService.ask`.
        """
        start = time.perf_counter()
        curated = self.service.ask(question, lang, previous)
        if curated.refused or not curated.in_scope or not curated.evidence:
            return curated  # the curated reply stands; the model is not asked
        deadline = time.monotonic() + self.timeout_s
        grounding, model_question = curated, mask(curated.question)
        if previous and is_follow_up(curated.question):
            standalone = self._standalone(curated, previous, deadline)
            if standalone is None:
                curated.latency_ms = (time.perf_counter() - start) * 1000
                return curated
            grounding, model_question = standalone
        entries = [self.kb.entries[ref.id] for ref in grounding.evidence if ref.id in self.kb.entries]
        try:
            generated = self.generator.answer(
                model_question, entries, curated.lang, deadline - time.monotonic()
            )
        except GenerationFailed as exc:
            logger.info("curated answer kept: %s", exc.reason)
            curated.latency_ms = (time.perf_counter() - start) * 1000
            return curated
        refs = {ref.id: ref for ref in grounding.evidence}
        cited = [refs[entry.id] for entry in generated.cited]
        cited_ids = {ref.id for ref in cited}
        return dataclasses.replace(
            curated,
            answer=generated.text,
            topic=grounding.topic,
            sources=cited,
            related=[r for r in grounding.related if r.id not in cited_ids],
            evidence=grounding.evidence,
            generated=True,
            latency_ms=(time.perf_counter() - start) * 1000,
        )

    def _standalone(self, curated: Answer, previous: str, deadline: float) -> tuple[Answer, str] | None:
        """The grounding and the model's question for a follow-up; None when it must not be generated.

        The model rewrites the follow-up; the rewrite is answered by the curated
        path again (scope and harmful-request checks included). A rewrite that
        fails or falls out of scope leaves the existing context rule in charge.
        """
        context = mask(clean(previous, self.max_question_chars))
        question = mask(curated.question)
        budget = (deadline - time.monotonic()) * REWRITE_SHARE
        try:
            rewritten = self.generator.rewrite(context, question, curated.lang, budget)
        except GenerationFailed as exc:
            logger.info("follow-up not rewritten: %s", exc.reason)
            return curated, f"{context} {question}"
        candidate = self.service.ask(rewritten, curated.lang)
        if candidate.refused:
            return None  # never generate around a harmful reading; the curated answer stands
        if not candidate.in_scope or not candidate.evidence:
            return curated, f"{context} {question}"
        return candidate, mask(candidate.question)

    def empty_reply(self, lang: str = "zh") -> str:
        """What to say to an empty question."""
        return self.service.empty_reply(lang)

    def close(self) -> None:
        """Stop the model calls' event loop."""
        self.generator.close()
