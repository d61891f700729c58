"""The composition root: the one place that builds the heavy objects and wires them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import chromadb
from langchain_core.embeddings import Embeddings

from bot.answering import AnswerService, ScopeRule
from bot.checking import MessageChecker, load_check_rules
from bot.embeddings import fingerprint, make_embeddings
from bot.index import (
    Index,
    IndexUnavailable,
    Progress,
    SyncReport,
    open_client,
    open_server_client,
    verify_collection,
)
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.lexical import LexicalIndex, Tokenizer
from bot.prompts import Replies, load_replies
from bot.retrieval import Retriever
from bot.safety import HarmRule, load_safety_rules
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.grounded import GroundedAnswerer

# Calibrated on tests/data/dev_questions.jsonl with `python -m bot eval --calibrate`
# (see README, "Evaluation"). Another model has other similarity levels: set
# BOT_SCOPE_MIN_DENSE, BOT_SCOPE_MIN_LEXICAL and BOT_SCOPE_MIN_MARGIN after
# calibrating it.
CALIBRATED_SCOPE = {
    "bundled": ScopeRule(min_dense=0.84, min_lexical=0.6, min_margin=0.015),
    "sentence-transformers": ScopeRule(min_dense=0.55, min_lexical=0.6, min_margin=0.0),
}
CALIBRATED_HARM = {
    "bundled": HarmRule(min_similarity=0.90, min_margin=0.01),
    "sentence-transformers": None,
}


@dataclass
class App:
    """Everything a command or adapter needs, built once."""

    settings: Settings
    kb: KnowledgeBase
    replies: Replies
    embeddings: Embeddings
    index: Index
    retriever: Retriever
    answers: AnswerService
    index_report: SyncReport
    checker: MessageChecker
    # Set when a language model is configured (LLM_PROVIDER); evaluation keeps to `answers`.
    grounded: GroundedAnswerer | None = None

    @property
    def answerer(self) -> AnswerService | GroundedAnswerer:
        """What the adapters ask: the grounded answerer when a model is configured, else the curated one."""
        return self.grounded or self.answers


def scope_rule(settings: Settings) -> ScopeRule:
    """The calibrated scope thresholds of the configured backend, with overrides applied."""
    base = CALIBRATED_SCOPE[settings.embedding_backend]
    return ScopeRule(
        min_dense=base.min_dense if settings.scope_min_dense is None else settings.scope_min_dense,
        min_lexical=base.min_lexical if settings.scope_min_lexical is None else settings.scope_min_lexical,
        min_margin=base.min_margin if settings.scope_min_margin is None else settings.scope_min_margin,
    )


def open_store(settings: Settings) -> chromadb.ClientAPI:
    """The Chroma client of the configured store: the shared server if CHROMA_HOST is set, else embedded."""
    if settings.chroma_host:
        return open_server_client(settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
    return open_client(settings.index_dir)


def open_index(settings: Settings, embeddings: Embeddings) -> Index:
    """The index of the configured store and embedding model."""
    return Index(open_store(settings), embeddings, fingerprint(settings))


def sync_index(
    index: Index, kb: KnowledgeBase, rebuild: bool = False, progress: Progress | None = None
) -> SyncReport:
    """Bring the index up to date, turning a damaged store into a clear `IndexUnavailable`."""
    try:
        return index.sync(kb, rebuild=rebuild, progress=progress)
    except IndexUnavailable:
        raise
    except Exception as exc:  # a damaged SQLite file or segment surfaces as many types
        raise IndexUnavailable(
            f"the index could not be read or written ({type(exc).__name__}: {exc}). "
            "Rebuild it with: python -m bot index --rebuild"
        ) from exc


def build_app(
    settings: Settings,
    embeddings: Embeddings | None = None,
    progress: Progress | None = None,
) -> App:
    """Load the knowledge, build the index if needed, and wire the answer service.

    With a shared Chroma server (CHROMA_HOST) the bot only reads: `python -m bot
    index` writes the index, and a collection built with another model or
    knowledge base is refused (`IndexMismatch`) instead of answering wrongly.
    """
    kb = load_knowledge(settings.knowledge_dir)
    replies = load_replies(settings.prompts_dir)
    safety = load_safety_rules(
        settings.knowledge_dir / "harmful_requests.yaml", CALIBRATED_HARM[settings.embedding_backend]
    )
    if settings.chroma_host:
        client = open_store(settings)
        # Checked before the model loads: a misconfigured replica is refused within seconds.
        report = verify_collection(client, kb, fingerprint(settings), settings.index_location)
        embeddings = embeddings or make_embeddings(settings)
        index = Index(client, embeddings, fingerprint(settings))
    else:
        embeddings = embeddings or make_embeddings(settings)
        index = open_index(settings, embeddings)
        report = sync_index(index, kb, progress=progress)
    tokenizer = Tokenizer(settings.data_dir / "jieba", settings.knowledge_dir / "lexicon.txt")
    retriever = Retriever(kb, index, embeddings, LexicalIndex(kb, tokenizer))
    answers = AnswerService(kb, retriever, replies, safety, scope_rule(settings), settings.max_question_chars)
    checker = MessageChecker(
        load_check_rules(settings.knowledge_dir, settings.prompts_dir), retriever, settings.max_question_chars
    )
    grounded = build_grounded(settings, answers) if settings.llm_provider != "none" else None
    return App(settings, kb, replies, embeddings, index, retriever, answers, report, checker, grounded)


def build_grounded(settings: Settings, answers: AnswerService, streaming: bool = False) -> GroundedAnswerer:
    """The answerer that asks the configured language model, with `answers` as its safety net.

    The prompts are checked here, at start-up; the integrations are imported only now.
    """
    from bot.chat_models import make_chat_model
    from bot.generation import AnswerGenerator
    from bot.grounded import GroundedAnswerer
    from bot.prompts import load_llm_prompts

    prompts = load_llm_prompts(settings.prompts_dir)
    generator = AnswerGenerator(prompts, make_chat_model(settings, streaming=streaming))
    return GroundedAnswerer(answers, generator, settings.llm_timeout_s)
