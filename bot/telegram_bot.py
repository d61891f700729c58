"""The Telegram adapter: python-telegram-bot handlers over the answer service.

Handlers only translate between Telegram and the services built in `bot.app`;
`build_application` is the one function that composes the bot. Blocking work
(embedding, Chroma, jieba) runs in worker threads, never on the event loop.
Message texts are never logged: logs carry pseudonymous chat ids only.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType, ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.answering import Answer, AnswerService, EmptyQuestion
from bot.charts import render_chart
from bot.checking import MessageChecker
from bot.conversation import ChatMemory
from bot.knowledge import Entry, KnowledgeBase
from bot.limits import ChatPacer, UserRateLimit
from bot.normalize import detect_language
from bot.prompts import Replies
from bot.pseudonym import Pseudonymizer
from bot.quiz import DEFAULT_QUESTIONS, QuizBank, QuizGame
from bot.stats import UsageStats
from bot.telegram_text import escape, split_message

if TYPE_CHECKING:
    from bot.grounded import GroundedAnswerer

logger = logging.getLogger("bot.telegram")

# The topics offered under /start; /topics shows all of them.
START_TOPICS = ("fake_sms", "delivery_labels", "after_leak", "telecom_fraud", "reporting", "self_protection")
REPORT_ENTRY = "reporting-where-to-report-overview"
# Source links are long; a preview card would bury the answer.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
COMMANDS = {
    "zh": [
        ("start", "开始"),
        ("help", "怎么用"),
        ("topics", "按主题浏览"),
        ("cases", "真实案例"),
        ("report", "举报与求助"),
        ("lang", "切换语言"),
        ("privacy", "我保存什么"),
        ("forget", "清除本聊天的记录"),
        ("check", "查一条可疑消息"),
        ("quiz", "防骗小测验"),
    ],
    "en": [
        ("start", "Start"),
        ("help", "How to use me"),
        ("topics", "Browse by topic"),
        ("cases", "Real cases"),
        ("report", "Where to report"),
        ("lang", "Switch language"),
        ("privacy", "What I keep"),
        ("forget", "Clear this chat's context"),
        ("check", "Check a suspicious message"),
        ("quiz", "Scam-spotting quiz"),
    ],
}


@dataclass
class QuizSession:
    """A quiz game running in one chat (memory only; it ends with the game)."""

    game: QuizGame
    game_id: int
    starter: str  # pseudonym of the user who started it: they show each answer in groups
    group: bool


@dataclass
class BotServices:
    """What the handlers use, built once by `build_application`."""

    answers: AnswerService | GroundedAnswerer  # the grounded one when a model is configured
    checker: MessageChecker
    texts: Replies
    topic_names_en: dict[str, str]
    pseudonym: Pseudonymizer
    memory: ChatMemory
    user_limit: UserRateLimit
    # Every update (commands, buttons, stickers) counts here; questions also count in user_limit.
    update_limit: UserRateLimit = field(default_factory=lambda: UserRateLimit(limit=30))
    pacer: ChatPacer = field(default_factory=ChatPacer)
    # Telegram shows "typing…" for about 5 s; a slow language model needs it renewed.
    typing_every_s: float = 4.0
    languages: dict[int, str] = field(default_factory=dict)  # chat id -> language chosen with /lang
    # Community-worker demo kit: the quiz, usage counts and who may see them.
    quiz: QuizBank | None = None
    stats: UsageStats | None = None
    admin_ids: frozenset[int] = frozenset()
    quizzes: dict[int, QuizSession] = field(default_factory=dict)  # chat id -> running game
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
        """A topic's name in `lang`."""
        if lang == "en":
            return self.topic_names_en.get(topic, topic)
        return self.kb.topics[topic].zh if topic in self.kb.topics else topic


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return context.application.bot_data["services"]


def _lang(update: Update, svc: BotServices, text: str | None = None) -> str:
    """The chat's chosen language, else the text's, else the user's app language."""
    chat = update.effective_chat
    if chat and chat.id in svc.languages:
        return svc.languages[chat.id]
    if text:
        return detect_language(text)
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    return "en" if code.startswith("en") else "zh"


async def _send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    html_text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send HTML text split at Telegram's limit, paced per chat; buttons go under the last piece."""
    svc = _services(context)
    pieces = split_message(html_text)
    for number, piece in enumerate(pieces, start=1):
        await svc.pacer.wait_turn(chat_id)
        await context.bot.send_message(
            chat_id,
            piece,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if number == len(pieces) else None,
            link_preview_options=NO_PREVIEW,
        )


def _source_html(svc: BotServices, entry: Entry, lang: str) -> str:
    source = entry.source
    return svc.texts.render(
        "source_link", lang, name=escape(source.name), date=escape(source.date), url=escape(source.url)
    )


def _entry_html(svc: BotServices, entry: Entry, lang: str) -> str:
    title, body = escape(entry.title[lang]), escape(entry.answer[lang])
    return f"<b>{title}</b>\n\n{body}\n\n{_source_html(svc, entry, lang)}"


def _answer_html(svc: BotServices, answer: Answer) -> str:
    parts = [escape(answer.answer)]
    if answer.generated:  # a model's answer: each cited source under its marker
        lines = []
        for number, ref in enumerate(answer.sources, start=1):
            entry = svc.kb.entries.get(ref.id)
            if entry:
                lines.append(f"[{number}] {_source_html(svc, entry, answer.lang)}")
        parts.append("\n".join(lines))
    elif answer.sources:
        entry = svc.kb.entries.get(answer.sources[0].id)
        if entry:
            parts.append(_source_html(svc, entry, answer.lang))
    if answer.privacy_warning:
        parts.append(f"<i>{escape(answer.privacy_warning)}</i>")
    return "\n\n".join(parts)


def _related_markup(answer: Answer) -> InlineKeyboardMarkup | None:
    buttons = [[InlineKeyboardButton(r.title[:60], callback_data=f"e:{r.id}")] for r in answer.related]
    if answer.in_scope and not answer.refused and answer.sources:
        # 👍/👎 counted per entry, so the maintainers see which entries help.
        entry_id = answer.sources[0].id
        buttons.append(
            [
                InlineKeyboardButton("👍", callback_data=f"f:up:{entry_id}"),
                InlineKeyboardButton("👎", callback_data=f"f:down:{entry_id}"),
            ]
        )
    return InlineKeyboardMarkup(buttons) if buttons else None


def _topics_markup(svc: BotServices, lang: str, topics) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(svc.topic_name(t, lang), callback_data=f"t:{t}") for t in topics]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


# --- commands -----------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, what the bot can do, and buttons for the main topics."""
    svc = _services(context)
    lang = _lang(update, svc)
    markup = _topics_markup(svc, lang, START_TOPICS)
    await _send(context, update.effective_chat.id, svc.texts.render("start", lang), markup)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """How to use the bot."""
    svc = _services(context)
    await _send(context, update.effective_chat.id, svc.texts.render("help", _lang(update, svc)))


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline keyboard of every topic."""
    svc = _services(context)
    lang = _lang(update, svc)
    markup = _topics_markup(svc, lang, list(svc.kb.topics))
    await _send(context, update.effective_chat.id, svc.texts.render("topics", lang), markup)


async def cases(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The report's cases, one at a time, with previous/next buttons."""
    svc = _services(context)
    text, markup = _case_view(svc, 0, _lang(update, svc))
    await _send(context, update.effective_chat.id, text, markup)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Where to report and get help."""
    svc = _services(context)
    lang = _lang(update, svc)
    entry = svc.kb.entries.get(REPORT_ENTRY) or svc.kb.by_topic("reporting")[0]
    await _send(context, update.effective_chat.id, _entry_html(svc, entry, lang))


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer zh/en; otherwise the bot follows the language of each question."""
    svc = _services(context)
    choices = [
        InlineKeyboardButton("中文", callback_data="l:zh"),
        InlineKeyboardButton("English", callback_data="l:en"),
    ]
    text = svc.texts.render("choose_language", _lang(update, svc))
    await _send(context, update.effective_chat.id, text, InlineKeyboardMarkup([choices]))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot keeps about a chat: nothing but a short in-memory context."""
    svc = _services(context)
    await _send(context, update.effective_chat.id, svc.texts.render("privacy", _lang(update, svc)))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop everything held about this chat."""
    svc = _services(context)
    lang = _lang(update, svc)
    chat_id = update.effective_chat.id
    svc.memory.forget(svc.pseudonym("chat", chat_id))
    svc.languages.pop(chat_id, None)
    if update.effective_user:
        svc.user_limit.forget(svc.pseudonym("user", update.effective_user.id))
        svc.update_limit.forget(svc.pseudonym("user", update.effective_user.id))
    await _send(context, chat_id, svc.texts.render("forgotten", lang))


# --- buttons ------------------------------------------------------------------------------------


def _case_view(svc: BotServices, index: int, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    all_cases = svc.cases()
    index %= len(all_cases)
    entry = all_cases[index]
    counter = svc.texts.render("case_counter", lang, number=str(index + 1), total=str(len(all_cases)))
    previous = svc.texts.render("button_previous", lang)
    following = svc.texts.render("button_next", lang)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(previous, callback_data=f"c:{index - 1}:{lang}"),
                InlineKeyboardButton(following, callback_data=f"c:{index + 1}:{lang}"),
            ]
        ]
    )
    return f"<i>{escape(counter)}</i>\n\n{_entry_html(svc, entry, lang)}", markup


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Topic, entry, case-page and language buttons."""
    svc = _services(context)
    query = update.callback_query
    await query.answer()
    kind, _, value = (query.data or "").partition(":")
    chat_id = update.effective_chat.id
    lang = _lang(update, svc)
    if kind == "l" and value in ("zh", "en"):
        svc.languages[chat_id] = value
        await _send(context, chat_id, svc.texts.render("language_set", value))
    elif kind == "t" and value in svc.kb.topics:
        await _send_topic(context, svc, chat_id, value, lang)
    elif kind == "e" and value in svc.kb.entries:
        await _send(context, chat_id, _entry_html(svc, svc.kb.entries[value], lang))
    elif kind == "c":
        number, _, case_lang = value.partition(":")
        if number.lstrip("-").isdigit():
            text, markup = _case_view(svc, int(number), case_lang if case_lang in ("zh", "en") else lang)
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _send_topic(context, svc: BotServices, chat_id: int, topic: str, lang: str) -> None:
    entries = svc.kb.by_topic(topic)
    key = next((e for e in entries if e.kind == "advice"), entries[0])
    others = [e for e in entries if e.id != key.id]
    buttons = [[InlineKeyboardButton(e.title[lang][:60], callback_data=f"e:{e.id}")] for e in others]
    text = _entry_html(svc, key, lang)
    if others:
        text += f"\n\n<i>{escape(svc.texts.render('topic_entries', lang))}</i>"
    await _send(context, chat_id, text, InlineKeyboardMarkup(buttons) if buttons else None)


# --- the scam checker ---------------------------------------------------------------------------

RISK_MARKERS = {"high": "🔴", "medium": "🟠", "low": "🟢"}


async def check_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/check followed by a message, or /check in reply to a message: is it a scam?"""
    message = update.effective_message
    text = " ".join(context.args or [])
    if not text and message.reply_to_message:
        text = message.reply_to_message.text or message.reply_to_message.caption or ""
    await _check_and_reply(update, context, text)


async def forwarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A forwarded text is checked automatically (private chats only)."""
    message = update.effective_message
    if message.chat.type == ChatType.PRIVATE:
        await _check_and_reply(update, context, message.text or "")


async def _check_and_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    svc = _services(context)
    chat_id = update.effective_chat.id
    lang = svc.languages.get(chat_id)
    if not text.strip():
        await _send(context, chat_id, svc.texts.render("check_usage", lang or _lang(update, svc)))
        return
    user_key = svc.pseudonym("user", update.effective_user.id if update.effective_user else chat_id)
    if not svc.user_limit.allow(user_key):
        if svc.user_limit.tell_once(user_key):
            await _send(context, chat_id, svc.texts.render("rate_limited", lang or detect_language(text)))
        return
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    try:
        result = await asyncio.to_thread(svc.checker.check, text, lang)
    except ValueError:  # nothing left once invisible characters are removed
        await _send(context, chat_id, svc.texts.render("check_usage", lang or _lang(update, svc)))
        return
    logger.info(
        "checked chat=%s risk=%s signs=%d", svc.pseudonym("chat", chat_id), result.risk, len(result.signs)
    )
    await _send(context, chat_id, _check_html(svc, result))
    if svc.stats:
        user_id = update.effective_user.id if update.effective_user else None
        await asyncio.to_thread(svc.stats.count_check, result.risk, user_id)


def _check_html(svc: BotServices, result) -> str:
    lang = result.lang
    lines = [f"{RISK_MARKERS[result.risk]} <b>{escape(svc.texts.render('risk_' + result.risk, lang))}</b>"]
    for sign in result.signs:
        lines.append(f"• {escape(sign.label)}: “{escape(sign.evidence)}”")
    if result.match:
        entry = svc.kb.entries.get(str(result.match["id"]))
        if entry:
            lines.append("")
            lines.append(
                escape(svc.texts.render("check_resembles", lang)) + f" <b>{escape(entry.title[lang])}</b>"
            )
            lines.append(_source_html(svc, entry, lang))
    lines += ["", escape(result.advice)]
    return "\n".join(lines)


# --- messages -----------------------------------------------------------------------------------


async def _typing_while(context: ContextTypes.DEFAULT_TYPE, chat_id: int, every_s: float, work):
    """Await `work`, showing "typing…" at once and again every `every_s` seconds until it is done."""
    task = asyncio.ensure_future(work)
    while True:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        done, _ = await asyncio.wait({task}, timeout=every_s)
        if done:
            return task.result()


def _addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The text to answer, or None when a group message is not meant for the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    mention = f"@{bot_username}".lower()
    mentioned = any(
        value.lower() == mention for value in message.parse_entities([MessageEntityType.MENTION]).values()
    )
    if mentioned or mention in text.lower():
        start = text.lower().find(mention)
        return (text[:start] + " " + text[start + len(mention) :]).strip() if start >= 0 else text
    return None


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message (or an edited one) with the answer service."""
    svc = _services(context)
    message = update.effective_message
    text = _addressed_text(message, context.bot.username, context.bot.id)
    if text is None:
        return
    chat_id = message.chat.id
    chat_key = svc.pseudonym("chat", chat_id)
    user_key = svc.pseudonym("user", update.effective_user.id if update.effective_user else chat_id)
    lang = svc.languages.get(chat_id)
    if not svc.user_limit.allow(user_key):
        if svc.user_limit.tell_once(user_key):
            await _send(context, chat_id, svc.texts.render("rate_limited", lang or detect_language(text)))
        return
    previous = svc.memory.previous(chat_key)
    try:
        answer = await _typing_while(
            context, chat_id, svc.typing_every_s, asyncio.to_thread(svc.answers.ask, text, lang, previous)
        )
    except EmptyQuestion:
        await _send(context, chat_id, escape(svc.answers.empty_reply(lang or "zh")))
        return
    if answer.in_scope and not answer.refused:
        svc.memory.remember(chat_key, answer.question)
    logger.info(
        "answered chat=%s topic=%s in_scope=%s refused=%s generated=%s ms=%.0f",
        chat_key,
        answer.topic,
        answer.in_scope,
        answer.refused,
        answer.generated,
        answer.latency_ms,
    )
    await _send(context, chat_id, _answer_html(svc, answer), _related_markup(answer))
    if svc.stats:  # after the answer is sent; counting never raises
        user_id = update.effective_user.id if update.effective_user else None
        await asyncio.to_thread(
            svc.stats.count_answer, answer.topic, answer.in_scope, answer.refused, user_id
        )


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice and the like: explain that the bot reads text."""
    svc = _services(context)
    message = update.effective_message
    if message.chat.type != ChatType.PRIVATE:
        replied = message.reply_to_message
        if not (replied and replied.from_user and replied.from_user.id == context.bot.id):
            return
    await _send(context, message.chat.id, svc.texts.render("non_text", _lang(update, svc)))


async def flood_gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before any handler: a user sending more updates than anyone reads is told once, then ignored."""
    svc = _services(context)
    user = update.effective_user
    if user is None:
        return
    user_key = svc.pseudonym("user", user.id)
    if svc.update_limit.allow(user_key):
        return
    chat = update.effective_chat
    # One "please wait" per window, whichever limit was hit first.
    if chat is not None and chat.type == ChatType.PRIVATE and svc.user_limit.tell_once(user_key):
        await _send(context, chat.id, svc.texts.render("rate_limited", _lang(update, svc)))
    raise ApplicationHandlerStop


# --- the quiz -----------------------------------------------------------------------------------

LETTERS = "ABCD"
MAX_QUIZ_QUESTIONS = 10


async def quiz_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz [n]: start a quiz in this chat; in a group everyone answers the same questions."""
    svc = _services(context)
    chat = update.effective_chat
    if svc.quiz is None:
        return
    lang = _lang(update, svc)
    wanted = (context.args or [""])[0]
    count = (
        min(int(wanted), MAX_QUIZ_QUESTIONS) if wanted.isdigit() and int(wanted) > 0 else DEFAULT_QUESTIONS
    )
    user_id = update.effective_user.id if update.effective_user else chat.id
    session = QuizSession(
        game=QuizGame(svc.quiz.pick(count, svc.rng), lang),
        game_id=next(svc.game_ids),
        starter=svc.pseudonym("user", user_id),
        group=chat.type != ChatType.PRIVATE,
    )
    svc.quizzes[chat.id] = session  # a new /quiz replaces a running game
    title = "title_group" if session.group else "title"
    total = str(len(session.game.items))
    await _send(context, chat.id, escape(svc.quiz.texts.render(title, lang, total=total)))
    await _send_quiz_question(context, svc, chat.id, session)
    if svc.stats:
        await asyncio.to_thread(svc.stats.count_quiz_play, user_id)


async def _send_quiz_question(context, svc: BotServices, chat_id: int, session: QuizSession) -> None:
    game, texts = session.game, svc.quiz.texts
    item, lang = game.current, game.lang
    header = texts.render("question_header", lang, number=str(game.number + 1), total=str(len(game.items)))
    lines = [f"<b>{escape(header)}</b>", escape(item.question[lang])]
    if item.message:
        lines.append(f"<blockquote>{escape(item.message[lang])}</blockquote>")
    lines += [f"{LETTERS[i]}. {escape(c[lang])}" for i, c in enumerate(item.choices)]
    prefix = f"z:{session.game_id}:{game.number}"
    buttons = [
        [InlineKeyboardButton(f"{LETTERS[i]}. {c[lang]}"[:40], callback_data=f"{prefix}:{i}")]
        for i, c in enumerate(item.choices)
    ]
    if session.group:
        buttons.append(
            [InlineKeyboardButton(texts.render("reveal_button", lang), callback_data=f"{prefix}:r")]
        )
    await _send(context, chat_id, "\n".join(lines), InlineKeyboardMarkup(buttons))


async def quiz_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A quiz choice, or "show the answer" in a group."""
    svc = _services(context)
    query = update.callback_query
    chat_id = update.effective_chat.id
    session = svc.quizzes.get(chat_id)
    _, game_id, number, choice = [*(query.data or "").split(":"), "", "", ""][:4]
    if svc.quiz is None or session is None:
        await query.answer()
        return
    game, texts = session.game, svc.quiz.texts
    current = str(session.game_id) == game_id and number == str(game.number) and not game.revealed
    if not current:
        await query.answer(texts.render("question_over", game.lang))
        return
    user = update.effective_user
    player = svc.pseudonym("user", user.id)
    if choice == "r":
        if player != session.starter:
            await query.answer(texts.render("only_starter", game.lang))
            return
        await query.answer()
        await _reveal(context, svc, chat_id, session)
        return
    if not choice.isdigit() or not game.answer(player, user.first_name or "?", int(choice)):
        await query.answer(texts.render("already_answered", game.lang))
        return
    if session.group:
        await query.answer(texts.render("recorded", game.lang))
        return
    await query.answer()
    await _reveal(context, svc, chat_id, session, player)


async def _reveal(context, svc: BotServices, chat_id: int, session: QuizSession, player: str = "") -> None:
    """The right answer, the counts (groups) and the explanation with its source; then go on."""
    game, texts = session.game, svc.quiz.texts
    if not game.reveal():  # a second tap of "show the answer"
        return
    item, lang = game.current, game.lang
    right = f"{LETTERS[item.correct]}. {item.choices[item.correct][lang]}"
    lines = []
    if session.group:
        lines.append(f"<b>{escape(texts.render('correct_is', lang, answer=right))}</b>")
        counts = game.counts()
        if sum(counts):
            lines.append(escape(texts.render("counts", lang)))
            lines += [f"{LETTERS[i]}: {n}" for i, n in enumerate(counts)]
        else:
            lines.append(escape(texts.render("nobody_answered", lang)))
    elif game.answers.get(player) == item.correct:
        lines.append(f"<b>{escape(texts.render('right', lang))}</b>")
    else:
        lines.append(f"<b>{escape(texts.render('wrong', lang, answer=right))}</b>")
    lines += ["", escape(item.explanation[lang]), _source_html(svc, svc.quiz.entry(item), lang)]
    await _send(context, chat_id, "\n".join(lines))
    game.advance()
    if not game.finished:
        await _send_quiz_question(context, svc, chat_id, session)
        return
    svc.quizzes.pop(chat_id, None)  # the names and scores go with the game
    if session.group:
        board = [escape(texts.render("final_group", lang))]
        board += [
            escape(texts.render("leaderboard_line", lang, rank=str(rank), name=p.name, score=str(p.score)))
            for rank, p in enumerate(game.leaderboard(), start=1)
        ]
        await _send(context, chat_id, "\n".join(board))
    else:
        you = game.players.get(player)
        score = str(you.score if you else 0)
        await _send(
            context,
            chat_id,
            escape(texts.render("final_score", lang, score=score, total=str(len(game.items)))),
        )


# --- feedback and statistics --------------------------------------------------------------------

MAX_REMEMBERED_VOTES = 50_000


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍/👎 under an answer: counted per entry, once per user and message."""
    svc = _services(context)
    query = update.callback_query
    _, vote, entry_id = [*(query.data or "").split(":", 2), "", ""][:3]
    lang = _lang(update, svc)
    if entry_id not in svc.kb.entries or vote not in ("up", "down"):
        await query.answer()
        return
    message_id = query.message.message_id if query.message else 0
    key = svc.pseudonym("vote", f"{update.effective_user.id}:{update.effective_chat.id}:{message_id}")
    if key in svc.votes:
        await query.answer(svc.texts.render("feedback_already", lang))
        return
    if len(svc.votes) >= MAX_REMEMBERED_VOTES:
        svc.votes.clear()  # memory stays bounded; an old answer could then be rated twice
    svc.votes.add(key)
    await query.answer(svc.texts.render("feedback_thanks", lang))
    if svc.stats:
        await asyncio.to_thread(svc.stats.count_feedback, entry_id, vote)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the usage chart, for the admins in ADMIN_USER_IDS in a private chat, nobody else."""
    svc = _services(context)
    chat, user = update.effective_chat, update.effective_user
    lang = _lang(update, svc)
    allowed = user is not None and user.id in svc.admin_ids and chat.type == ChatType.PRIVATE
    if not allowed or svc.stats is None:
        await _send(context, chat.id, escape(svc.texts.render("stats_not_available", lang)))
        return
    summary = await asyncio.to_thread(svc.stats.summary)
    chart = await asyncio.to_thread(render_chart, summary, svc.topic_names_en)
    caption = svc.texts.render(
        "stats_caption", lang, days=str(len(summary.days)), questions=str(summary.total_questions)
    )
    await svc.pacer.wait_turn(chat.id)
    await context.bot.send_photo(chat.id, photo=chart, caption=caption)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with a pseudonymous chat id (never the text) and apologise to the user."""
    svc = _services(context)
    chat = update.effective_chat if isinstance(update, Update) else None
    chat_key = svc.pseudonym("chat", chat.id) if chat else "-"
    logger.error("update failed for chat=%s", chat_key, exc_info=context.error)
    if chat is not None:
        try:
            apology = svc.texts.render("apology", svc.languages.get(chat.id, "zh"))
            await context.bot.send_message(chat.id, apology)
        except Exception:  # the apology is best effort; the failure is already logged
            logger.warning("could not send the apology to chat=%s", chat_key)


async def post_init(application: Application) -> None:
    """Register the command menu in Chinese (for zh users) and English (everyone else)."""
    for lang, code in (("en", None), ("zh", "zh")):
        commands = [BotCommand(name, description) for name, description in COMMANDS[lang]]
        await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


def build_application(
    token: str,
    base_url: str,
    services: BotServices,
    concurrent_updates: int = 64,
) -> Application:
    """The one function that composes the bot: client settings, handlers and the error handler."""
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(concurrent_updates)
        .post_init(post_init)
        .build()
    )
    application.bot_data["services"] = services
    application.add_handler(TypeHandler(Update, flood_gate), group=-1)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("topics", topics))
    application.add_handler(CommandHandler("cases", cases))
    application.add_handler(CommandHandler("report", report))
    application.add_handler(CommandHandler("lang", language))
    application.add_handler(CommandHandler("privacy", privacy))
    application.add_handler(CommandHandler("forget", forget))
    application.add_handler(CommandHandler("check", check_command))
    application.add_handler(CommandHandler("quiz", quiz_command))
    application.add_handler(CommandHandler("stats", stats_command))
    application.add_handler(CallbackQueryHandler(quiz_button, pattern=r"^z:"))
    application.add_handler(CallbackQueryHandler(feedback_button, pattern=r"^f:"))
    application.add_handler(CallbackQueryHandler(button))
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & filters.FORWARDED & filters.UpdateType.MESSAGE, forwarded))
    application.add_handler(MessageHandler(text & filters.UpdateType.MESSAGES, question))
    other = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    application.add_handler(MessageHandler(other, not_text))
    application.add_error_handler(error_handler)
    return application
