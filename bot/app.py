"""The composition root: the one place that builds the heavy objects and wires them.

Adapters (CLI, terminal, Telegram, doctor) call the builders here and only
translate; nothing below `bot.app` reads `Settings`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import chromadb
from langchain_core.embeddings import Embeddings

from bot.core.commands import bot_command
from bot.core.knowledge import KnowledgeBase
from bot.data.knowledge import load_knowledge
from bot.retrieval.backends.base import Backend, BackendOptions
from bot.retrieval.backends.registry import backend_named
from bot.retrieval.index import (
    Index,
    IndexUnavailable,
    Progress,
    SyncReport,
    open_client,
    open_server_client,
    remove_index_dir,
    verify_collection,
)
from bot.retrieval.lexical import LexicalIndex, Tokenizer
from bot.retrieval.retriever import Retriever
from bot.services.answering import AnswerService, ScopeRule
from bot.services.check_rules import load_check_rules
from bot.services.checking import LEGIT_KINDS, SCAM_KINDS, MessageChecker
from bot.services.classifiers import (
    FIELD_KINDS,
    HARMFUL_KINDS,
    HARMLESS_KINDS,
    OUTSIDE_KINDS,
    cached_harm_model,
    train_field_model,
)
from bot.services.image_check import ImageChecker, load_image_rules
from bot.services.images import ImageReader
from bot.services.pseudonym import Pseudonymizer, load_pepper
from bot.services.quiz import QuizBank, load_quiz
from bot.services.replies import Replies, load_replies
from bot.services.safety import SafetyRules, load_safety_rules
from bot.services.small_talk import load_small_talk
from bot.services.stats import UsageStats, open_stats
from bot.settings import Settings

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.language_models import BaseChatModel

    from bot.services.llm.grounded import GroundedAnswerer


# --- embeddings: the backend the settings name, from the registry --------------------------------


def embedding_backend(settings: Settings) -> Backend:
    """The registered backend named by BOT_EMBEDDING_BACKEND."""
    return backend_named(settings.embedding_backend)


def backend_options(settings: Settings) -> BackendOptions:
    """The embedding settings a backend reads, as plain values."""
    return BackendOptions(
        model=settings.embedding_model,
        query_prefix=settings.embedding_query_prefix,
        passage_prefix=settings.embedding_passage_prefix,
    )


def make_embeddings(settings: Settings) -> Embeddings:
    """The configured embedding model, loaded."""
    return embedding_backend(settings).build(backend_options(settings))


def fingerprint(settings: Settings) -> str:
    """What identifies the vectors, without loading the model: an index built with another must be rebuilt."""
    return embedding_backend(settings).fingerprint(backend_options(settings))


def scope_rule(settings: Settings) -> ScopeRule:
    """The backend's calibrated scope thresholds, with BOT_SCOPE_* overrides applied."""
    calibration = embedding_backend(settings).calibration

    def pick(override: float | None, calibrated: float) -> float:
        return calibrated if override is None else override

    return ScopeRule(
        min_dense=pick(settings.scope_min_dense, calibration.scope_min_dense),
        min_lexical=pick(settings.scope_min_lexical, calibration.scope_min_lexical),
        min_margin=pick(settings.scope_min_margin, calibration.scope_min_margin),
    )


def train_classifiers(
    settings: Settings, index: Index, safety: SafetyRules, scope: ScopeRule
) -> tuple[SafetyRules, ScopeRule]:
    """The safety and scope rules with their classifiers trained on the index's example vectors.

    Training takes a fraction of a second (bot/services/classifiers.py says on what).
    """
    kinds = dict.fromkeys(HARMFUL_KINDS + HARMLESS_KINDS + FIELD_KINDS + OUTSIDE_KINDS)
    examples = {kind: index.examples(kind) for kind in kinds}
    calibration = embedding_backend(settings).calibration
    # What the pattern flags of the examples depend on: a change retrains the saved model.
    patterns = [p.pattern for p in safety.harmful + safety.protective] + [list(a) for a in safety.aliases]
    harm = cached_harm_model(
        settings.data_dir / "models",
        examples,
        safety.flags,
        calibration.harm_threshold,
        calibration.harm_ngram_scale,
        salt=json.dumps([fingerprint(settings), patterns], ensure_ascii=False),
    )
    field = train_field_model(examples, calibration.field_threshold)
    return dataclasses.replace(safety, model=harm, field=field), dataclasses.replace(scope, field_model=field)


# --- the index -----------------------------------------------------------------------------------


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
            f"Rebuild it with: {bot_command('index --rebuild')}"
        ) from exc


def index_knowledge(
    settings: Settings, rebuild: bool = False, progress: Progress | None = None
) -> SyncReport:
    """`python -m bot index`: embed what changed (everything with `rebuild`) into the configured store."""
    kb = load_knowledge(settings.knowledge_dir)
    embeddings = make_embeddings(settings)
    if rebuild and not settings.chroma_host:  # a server's collection is dropped by the rebuild itself
        remove_index_dir(settings.index_dir)
    return sync_index(open_index(settings, embeddings), kb, rebuild=rebuild, progress=progress)


# --- the demo kit and privacy: quiz, pseudonyms, usage statistics ------------------------------------


def build_quiz(settings: Settings, kb: KnowledgeBase | None = None) -> QuizBank:
    """The quiz: written items (knowledge/quiz.yaml), items made from the cases, the quiz texts."""
    kb = kb or load_knowledge(settings.knowledge_dir)
    return load_quiz(settings.knowledge_dir, settings.prompts_dir, kb)


def build_pseudonymizer(settings: Settings) -> Pseudonymizer:
    """HMAC ids keyed by BOT_PEPPER, or by the pepper generated into the data directory."""
    pepper = settings.pepper.get_secret_value() if settings.pepper else None
    return Pseudonymizer(load_pepper(pepper, settings.data_dir))


def open_usage_stats(settings: Settings, pseudonym: Pseudonymizer | None = None) -> UsageStats:
    """The usage counts in STATS_DATABASE_URL (default: SQLite in the data directory)."""
    return open_stats(settings.stats_url, pseudonym or build_pseudonymizer(settings))


# --- the application -------------------------------------------------------------------------------


@dataclass
class App:
    """Everything a command or adapter needs, built once; the demo kit's parts on first use."""

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
    grounded: GroundedAnswerer | None = field(default=None)

    @property
    def answerer(self) -> AnswerService | GroundedAnswerer:
        """What the adapters ask: the grounded answerer when a model is configured, else the curated one."""
        return self.grounded or self.answers

    @cached_property
    def quiz(self) -> QuizBank:
        """The quiz over this knowledge base."""
        return build_quiz(self.settings, self.kb)

    @cached_property
    def pseudonymizer(self) -> Pseudonymizer:
        """Pseudonymous ids for logs and counts."""
        return build_pseudonymizer(self.settings)

    @cached_property
    def image_checker(self) -> ImageChecker:
        """Pictures: OCR and QR codes, then the checker. The OCR model loads on the first picture."""
        rules = load_image_rules(self.settings.knowledge_dir, self.settings.prompts_dir)
        return ImageChecker(ImageReader(self.settings.image_max_bytes), self.checker, rules)

    @cached_property
    def stats(self) -> UsageStats:
        """The usage counts, opened on first use (a plain `ask` never opens the database)."""
        return open_usage_stats(self.settings, self.pseudonymizer)


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
    safety = load_safety_rules(settings.knowledge_dir / "harmful_requests.yaml")
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
    safety, scope = train_classifiers(settings, index, safety, scope_rule(settings))
    tokenizer = Tokenizer(settings.data_dir / "jieba", settings.knowledge_dir / "lexicon.txt")
    retriever = Retriever(kb, index, embeddings, LexicalIndex(kb, tokenizer))
    answers = AnswerService(
        kb,
        retriever,
        replies,
        safety,
        scope,
        settings.max_question_chars,
        small_talk=load_small_talk(settings.prompts_dir),
    )
    checker = train_checker(
        index,
        MessageChecker(
            load_check_rules(settings.knowledge_dir, settings.prompts_dir),
            retriever,
            settings.max_question_chars,
        ),
    )
    grounded = build_grounded(settings, answers) if settings.llm_provider != "none" else None
    return App(settings, kb, replies, embeddings, index, retriever, answers, report, checker, grounded)


def checker_examples(index: Index) -> dict[str, tuple[list[str], np.ndarray]]:
    """The index's example messages the scam classifier learns, by kind (scams, then legitimate)."""
    return {kind: index.examples(kind) for kind in SCAM_KINDS + LEGIT_KINDS}


def train_checker(index: Index, checker: MessageChecker) -> MessageChecker:
    """The checker with its scam classifier and its bank of scheme examples, from the index's vectors."""
    return checker.trained(checker_examples(index))


# --- the optional language model -------------------------------------------------------------------


def build_chat_model(settings: Settings, streaming: bool = False) -> BaseChatModel:
    """The configured LangChain chat model (LLM_PROVIDER); its integration is imported only now."""
    from bot.services.llm.chat_models import ChatModelConfig, make_chat_model

    config = ChatModelConfig(
        llm_provider=settings.llm_provider,
        llm_model=settings.llm_model,
        llm_base_url=settings.llm_base_url,
        llm_timeout_s=settings.llm_timeout_s,
        llm_api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
    )
    return make_chat_model(config, streaming=streaming)


def build_grounded(settings: Settings, answers: AnswerService, streaming: bool = False) -> GroundedAnswerer:
    """The answerer that asks the configured language model, with `answers` as its safety net.

    The prompts are checked here, at start-up; the integrations are imported only now.
    """
    from bot.services.llm.generation import AnswerGenerator
    from bot.services.llm.grounded import GroundedAnswerer
    from bot.services.llm.prompts import load_llm_prompts

    prompts = load_llm_prompts(settings.prompts_dir)
    generator = AnswerGenerator(prompts, build_chat_model(settings, streaming=streaming))
    return GroundedAnswerer(answers, generator, settings.llm_timeout_s)
