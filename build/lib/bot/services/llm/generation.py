"""Fluent answers from a language model, grounded in retrieved entries (LangChain).

Two chains, each `prompt | model | StrOutputParser()` with the prompts of
`prompts/llm.yaml`: one answers a question from numbered entries, one rewrites
a follow-up into a standalone question. Retrieval stays outside the chains so
the caller knows which entries the answer may cite. Every model call runs on
one event loop of its own and is cancelled at its deadline, whatever the
client does; any failure is a `GenerationFailed` with a short reason, never
with the text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langsmith import tracing_context

from bot.core.knowledge import Entry
from bot.data.files import LANGS
from bot.services.llm.grounding import as_plain_text, enforce_citations, unsupported_numbers

logger = logging.getLogger("bot.generation")

# Time past its deadline a call may take to be cancelled before the caller stops waiting.
CANCEL_MARGIN_S = 0.5
# A rewritten question longer than this is not a question any more.
MAX_REWRITE_CHARS = 300


class GenerationFailed(Exception):
    """The model gave no usable answer; `reason` says why in one word (logged, never the text)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Generated:
    """A grounded answer: plain text whose markers [1], [2], ... are the `cited` entries in order."""

    text: str
    cited: list[Entry]


class ModelCalls:
    """One event loop in a daemon thread where model calls run, each cancelled at its deadline.

    Cancelling the task closes the HTTP request, so a slow model does not keep
    a worker busy; the caller stops waiting `CANCEL_MARGIN_S` later at most.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model-calls", daemon=True)
        self._thread.start()

    def run(self, call: Callable[[], Awaitable[str]], timeout_s: float) -> str:
        """Run `call()` on the loop; `GenerationFailed` when it fails or outlives `timeout_s`."""
        if timeout_s <= 0:
            raise GenerationFailed("timeout")

        async def bounded() -> str:
            # Prompts hold the user's (masked) question: never send them to a tracing service.
            with tracing_context(enabled=False):
                return await asyncio.wait_for(call(), timeout_s)

        future = asyncio.run_coroutine_threadsafe(bounded(), self._loop)
        try:
            return future.result(timeout=timeout_s + CANCEL_MARGIN_S)
        except (TimeoutError, concurrent.futures.TimeoutError):
            future.cancel()
            raise GenerationFailed("timeout") from None
        except Exception as exc:
            raise GenerationFailed(failure_reason(exc)) from exc

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


def failure_reason(exc: BaseException) -> str:
    """One word for why a model call failed, from the client's exception (OpenAI, Ollama, httpx)."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 429:
        return "rate_limited"
    if isinstance(status, int) and status >= 500:
        return "server_error"
    if isinstance(status, int) and status >= 400:
        return "http_error"
    name = type(exc).__name__.lower()
    if isinstance(exc, TimeoutError) or "timeout" in name:
        return "timeout"
    if "connect" in name or isinstance(exc, ConnectionError):
        return "connection"
    return "error"


class AnswerGenerator:
    """Answers from numbered entries and rewrites follow-ups, through a LangChain chat model."""

    def __init__(
        self, prompts: dict[str, dict[str, str]], model: BaseChatModel, calls: ModelCalls | None = None
    ):
        self._entry = prompts["entry"]
        self._answer = {
            lang: _chain(prompts["system"][lang], prompts["answer"][lang], model) for lang in LANGS
        }
        self._rewrite = {
            lang: _chain(prompts["rewrite_system"][lang], prompts["rewrite"][lang], model) for lang in LANGS
        }
        self._calls = calls or ModelCalls()

    def format_entries(self, entries: list[Entry], lang: str) -> str:
        """The entries as numbered blocks [1], [2], ... with title, answer text and source."""
        blocks = []
        for number, entry in enumerate(entries, start=1):
            source = f"{entry.source.name} ({entry.source.date}) {entry.source.url}"
            blocks.append(
                self._entry[lang].format(
                    number=number, title=entry.title[lang], answer=entry.answer[lang], source=source
                )
            )
        return "\n\n".join(blocks)

    def answer(self, question: str, entries: list[Entry], lang: str, timeout_s: float) -> Generated:
        """A cited answer to `question` (already masked) from `entries`, or `GenerationFailed`.

        The reply must cite an entry; markers naming no entry are dropped; a
        number found in no entry and not in the question fails it.
        """
        if not entries:
            raise GenerationFailed("no_entries")
        material = self.format_entries(entries, lang)
        chain = self._answer[lang]
        raw = self._calls.run(lambda: chain.ainvoke({"question": question, "entries": material}), timeout_s)
        text = as_plain_text(raw or "")
        if not text:
            raise GenerationFailed("empty")
        cited = enforce_citations(text, len(entries))
        if cited is None:
            raise GenerationFailed("no_citation")
        if unsupported_numbers(cited.text, material + "\n" + question):
            raise GenerationFailed("unsupported_number")
        return Generated(text=cited.text, cited=[entries[i] for i in cited.entries])

    def rewrite(self, previous: str, question: str, lang: str, timeout_s: float) -> str:
        """`question` rewritten to stand alone after `previous` (both masked), or `GenerationFailed`."""
        chain = self._rewrite[lang]
        raw = self._calls.run(lambda: chain.ainvoke({"previous": previous, "question": question}), timeout_s)
        lines = [line.strip().strip("\"'“”「」") for line in (raw or "").splitlines() if line.strip()]
        if not lines or len(lines[0]) > MAX_REWRITE_CHARS:
            raise GenerationFailed("bad_rewrite")
        return lines[0]

    def close(self) -> None:
        """Stop the event loop the model calls run on."""
        self._calls.close()


def _chain(system: str, human: str, model: BaseChatModel) -> Runnable:
    prompt = ChatPromptTemplate.from_messages([("system", system), ("human", human)])
    return prompt | model | StrOutputParser()
