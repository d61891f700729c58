"""The quiz in Telegram: /quiz [n], a choice button per answer, "show the answer" in groups."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.adapters.telegram.context import BotContext, BotServices, QuizSession
from bot.adapters.telegram.html import escape
from bot.adapters.telegram.views import source_html
from bot.services.quiz import DEFAULT_QUESTIONS, QuizGame

LETTERS = "ABCD"
MAX_QUIZ_QUESTIONS = 10


async def quiz_command(update: Update, context: BotContext) -> None:
    """/quiz [n]: start a quiz in this chat; in a group everyone answers the same questions."""
    svc = context.services
    chat = update.effective_chat
    if svc.quiz is None:
        return
    lang = context.language(update)
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
    context.chat_state.quiz = session  # a new /quiz replaces a running game
    title = "title_group" if session.group else "title"
    total = str(len(session.game.items))
    await context.send(chat.id, escape(svc.quiz.texts.render(title, lang, total=total)))
    await _send_question(context, svc, chat.id, session)
    if svc.stats:
        await asyncio.to_thread(svc.stats.count_quiz_play, user_id)


async def _send_question(context: BotContext, svc: BotServices, chat_id: int, session: QuizSession) -> None:
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
    await context.send(chat_id, "\n".join(lines), InlineKeyboardMarkup(buttons))


async def quiz_button(update: Update, context: BotContext) -> None:
    """A quiz choice, or "show the answer" in a group."""
    svc = context.services
    query = update.callback_query
    chat_id = update.effective_chat.id
    session = context.chat_state.quiz
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


async def _reveal(
    context: BotContext, svc: BotServices, chat_id: int, session: QuizSession, player: str = ""
) -> None:
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
    lines += ["", escape(item.explanation[lang]), source_html(svc, svc.quiz.entry(item), lang)]
    await context.send(chat_id, "\n".join(lines))
    game.advance()
    if not game.finished:
        await _send_question(context, svc, chat_id, session)
        return
    if context.chat_state.quiz is session:
        context.chat_state.quiz = None  # the names and scores go with the game
    if session.group:
        board = [escape(texts.render("final_group", lang))]
        board += [
            escape(texts.render("leaderboard_line", lang, rank=str(rank), name=p.name, score=str(p.score)))
            for rank, p in enumerate(game.leaderboard(), start=1)
        ]
        await context.send(chat_id, "\n".join(board))
    else:
        you = game.players.get(player)
        score = str(you.score if you else 0)
        total = str(len(game.items))
        await context.send(chat_id, escape(texts.render("final_score", lang, score=score, total=total)))
