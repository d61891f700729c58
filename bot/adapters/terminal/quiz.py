"""The quiz in the terminal (`python -m bot quiz`): numbered choices, an explanation, a score."""

from __future__ import annotations

from typing import TextIO

from bot.adapters.terminal.style import Style
from bot.services.quiz import QuizBank, QuizGame
from bot.services.stats import UsageStats

PLAYER = "terminal"


def run_quiz(
    bank: QuizBank, game: QuizGame, stdin: TextIO, stdout: TextIO, stats: UsageStats | None = None
) -> int:
    """Ask every question of `game`, read a number per answer, explain, then print the score.

    `stats` counts the game as one quiz play, as Telegram does.
    """
    style = Style.for_output(stdout)
    if stats is not None:
        stats.count_quiz_play(None)
    texts, lang = bank.texts, game.lang
    total = len(game.items)
    print(style(texts.render("title", lang, total=str(total)), "1;36"), file=stdout)
    while not game.finished:
        item = game.current
        print("", file=stdout)
        header = texts.render("question_header", lang, number=str(game.number + 1), total=str(total))
        print(style(header, "1;34"), file=stdout)
        print(style(item.question[lang], "1"), file=stdout)
        if item.message:
            print(style(f"  “{item.message[lang]}”", "33"), file=stdout)
        for number, choice in enumerate(item.choices, start=1):
            print(f"  {number}. {choice[lang]}", file=stdout)
        choice = _read_choice(texts, lang, len(item.choices), stdin, stdout, style)
        if choice is None:  # end of input: stop here, with the score so far
            print(file=stdout)
            break
        game.answer(PLAYER, "", choice)
        game.reveal()
        right = item.choices[item.correct][lang]
        if choice == item.correct:
            print(style(texts.render("right", lang), "1;32"), file=stdout)
        else:
            print(style(texts.render("wrong", lang, answer=right), "1;31"), file=stdout)
        print(item.explanation[lang], file=stdout)
        source = bank.entry(item).source
        line = texts.render("source", lang, name=source.name, date=source.date, url=source.url)
        print(style(line, "2"), file=stdout)
        game.advance()
    player = game.players.get(PLAYER)
    score = player.score if player else 0
    print("", file=stdout)
    print(style(texts.render("final_score", lang, score=str(score), total=str(total)), "1;36"), file=stdout)
    return 0


def _read_choice(texts, lang: str, count: int, stdin: TextIO, stdout: TextIO, style: Style) -> int | None:
    """The chosen index, asking again on anything but a number in range; None at end of input."""
    while True:
        print(style(texts.render("prompt", lang, count=str(count)), "1;32"), end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return None
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= count:
            return int(text) - 1
        print(style(texts.render("invalid_choice", lang, count=str(count)), "33"), file=stdout)
