"""What the handlers share: the bot-wide services, the per-chat state, and the typed context.

Per-chat state lives in PTB's `chat_data`, typed as `ChatData` through
`ContextTypes`; the bot-wide services sit in `bot_data["services"]`. Nothing
here is written to disk: the bot runs without PTB persistence.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.adapters.telegram.html import split_message
from bot.adapters.telegram.limits import ChatPacer, UserRateLimit
from bot.adapters.telegram.texts import TelegramTexts
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.memory import ChatMemory
from bot.core.text import detect_language
from bot.services.answering import AnswerService
from bot.services.checking import MessageChecker
from bot.services.image_check import ImageChecker
from bot.services.pseudonym import Pseudonymizer
from bot.services.quiz import QuizBank, QuizGame
from bot.services.stats import UsageStats

if TYPE_CHECKING:
    from bot.services.llm.grounded import GroundedAnswerer

# Source links are long; a preview card would bury the answer.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class QuizSession:
    """A quiz game running in one chat (memory only; it ends with the game)."""

    game: QuizGame
    game_id: int
    starter: str  # pseudonym of the user who started it: they show each answer in groups
    group: bool


@dataclass
class ChatData:
    """What the bot holds about one chat, in memory only: the language chosen with /lang, a quiz."""

    language: str | None = None
    quiz: QuizSession | None = None


@dataclass
class BotServices:
    """What the handlers use across chats, made once by `make_services`."""

    answers: AnswerService | GroundedAnswerer  # the grounded one when a model is configured
    checker: MessageChecker
    texts: TelegramTexts
    pseudonym: Pseudonymizer
    memory: ChatMemory
    user_limit: UserRateLimit
    # Every update (commands, buttons, stickers) counts here; questions also count in user_limit.
    update_limit: UserRateLimit = field(default_factory=lambda: UserRateLimit(limit=30))
    pacer: ChatPacer = field(default_factory=ChatPacer)
    # Telegram shows "typing…" for about 5 s; a slow language model needs it renewed.
    typing_every_s: float = 4.0
    # "typing…" only for an answer not ready after this long (the curated path takes ~50 ms):
    # each action costs one of the 30 requests a second Telegram allows the whole bot.
    # 0 for the slow paths (a language model), which show it at once.
    typing_after_s: float = 0.5
    # Answers being worked on now. Above `typing_max_in_flight`, a late answer is late because
    # of a burst, and "typing…" would only take budget from the answers themselves.
    in_flight: int = 0
    typing_max_in_flight: int = 8
    # Pictures (photos, image files): checked one at a time, as OCR takes both cores.
    images: ImageChecker | None = None
    image_max_bytes: int = 10_000_000
    picture_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    # Community-worker demo kit: the quiz, usage counts and who may see them.
    quiz: QuizBank | None = None
    stats: UsageStats | None = None
    admin_ids: frozenset[int] = frozenset()
    game_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    votes: set[str] = field(default_factory=set)  # pseudonymous (user, message) pairs that voted
    rng: random.Random = field(default_factory=random.Random)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base behind the answers."""
        return self.answers.kb

    def cases(self) -> list[Entry]:
        """The report's example cases, in knowledge-base order."""
        return [e for e in self.kb.entries.values() if e.kind == "case"]

    def topic_name(self, topic: str, lang: str) -> str:
        """A topic's name in `lang` (knowledge/topics.yaml)."""
        return self.kb.topics[topic].name(lang)

    def report_entry(self) -> Entry:
        """The entry /report shows."""
        return self.kb.entries.get(self.texts.report_entry) or self.kb.by_topic("reporting")[0]


class BotContext(CallbackContext[ExtBot, dict, ChatData, dict]):
    """The handlers' context: `services` and the typed per-chat state."""

    @property
    def services(self) -> BotServices:
        """The bot-wide services."""
        return self.bot_data["services"]

    @property
    def chat_state(self) -> ChatData:
        """This chat's state; a throwaway one for updates without a chat."""
        return self.chat_data if self.chat_data is not None else ChatData()

    def language(self, update: Update, text: str | None = None) -> str:
        """The chat's chosen language, else the text's, else the user's app language."""
        if self.chat_state.language:
            return self.chat_state.language
        if text:
            return detect_language(text)
        user = update.effective_user
        code = (user.language_code or "") if user else ""
        return "en" if code.startswith("en") else "zh"

    async def send(self, chat_id: int, html_text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Send HTML text split at Telegram's limit, paced per chat; buttons go under the last piece."""
        pieces = split_message(html_text)
        for number, piece in enumerate(pieces, start=1):
            await self.services.pacer.wait_turn(chat_id)
            await self.bot.send_message(
                chat_id,
                piece,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if number == len(pieces) else None,
                link_preview_options=NO_PREVIEW,
            )


CONTEXT_TYPES = ContextTypes(context=BotContext, chat_data=ChatData)
