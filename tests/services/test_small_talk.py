"""Greetings, thanks and "who are you": a friendly reply in the asker's language and script."""

from __future__ import annotations

import io
import json

import pytest

from bot.adapters.cli import main
from bot.adapters.render import plain_answer
from bot.adapters.terminal.chat import run_chat
from bot.services.small_talk import load_small_talk
from bot.settings import REPO_ROOT

GREETINGS = [
    ("你好", "greeting", "zh", "你好！"),
    ("您好！", "greeting", "zh", "你好！"),
    ("在吗", "greeting", "zh", "你好！"),
    ("哈囉，你好", "greeting", "zh", "你好！"),
    ("hi", "greeting", "en", "Hello!"),
    ("Hello!", "greeting", "en", "Hello!"),
    ("谢谢", "thanks", "zh", "不客气"),
    ("謝謝你", "thanks", "zh", "不客氣"),
    ("thanks a lot!", "thanks", "en", "You're welcome"),
    ("你是谁", "about", "zh", "个人信息保护小助手"),
    ("你是誰？", "about", "zh", "個人信息保護小助手"),
    ("what can you do?", "about", "en", "personal-information protection assistant"),
    ("help", "about", "en", "personal-information protection assistant"),
]


@pytest.mark.parametrize(("text", "kind", "lang", "says"), GREETINGS, ids=[g[0] for g in GREETINGS])
def test_small_talk_gets_the_friendly_reply_with_examples(app, text, kind, lang, says):
    answer = app.answers.ask(text)
    assert answer.small_talk == kind and answer.lang == lang and not answer.refused
    assert says in answer.answer
    assert answer.answer.count("·") == 3  # three example questions
    assert answer.topic is None and not answer.in_scope  # the contract: no topic without an entry


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("你好，请问快递面单怎么处理？谢谢", "delivery-labels-how-to-destroy"),
        ("Hi, my bank card was stolen, what do I do? Thanks!", "bank-card-lost-or-stolen-freeze"),
        ("老师您好，我想问一下银行卡被偷了怎么办", "bank-card-lost-or-stolen-freeze"),
    ],
)
def test_greetings_and_thanks_around_a_question_are_not_searched(app, question, entry):
    answer = app.answers.ask(question)
    assert answer.small_talk is None and answer.in_scope and answer.sources[0].id == entry


def test_a_question_that_merely_starts_with_hi_is_not_cut():
    small_talk = load_small_talk(REPO_ROOT / "prompts")
    assert small_talk.question_part("history of the fake base station") == "history of the fake base station"
    assert small_talk.kind("你好骗子，别再打来了") is None


def test_traditional_questions_get_traditional_answers(app):
    answer = app.answers.ask("網購包裝上的個人資料要怎麼處理")
    assert answer.in_scope and answer.sources[0].id == "delivery-labels-how-to-destroy"
    assert "面單" in answer.answer and "面单" not in answer.answer
    # The labels around it too: "來源", not "来源".
    shown = plain_answer(answer, app.answers.replies)
    assert "來源：" in shown and "来源" not in shown and answer.to_dict()["script"] == "s2t"
    taiwan = app.answers.ask("收到簡訊說我的ETC失效了要點連結，是真的嗎")
    assert "簡訊" in taiwan.answer  # Taiwan wording, not only Taiwan characters


def test_small_talk_in_the_cli_and_the_terminal_chat(env, app):
    out = io.StringIO()
    assert main(["ask", "--json", "你好"], environ=env, stdout=out) == 0
    data = json.loads(out.getvalue())
    assert data["small_talk"] == "greeting" and data["topic"] is None
    chat = io.StringIO()
    assert run_chat(app.answers, io.StringIO("你好\nthanks!\n/quit\n"), chat) == 0
    assert "你好！我是个人信息保护小助手" in chat.getvalue() and "You're welcome" in chat.getvalue()


def test_words_that_end_like_thanks_are_not_cut():
    small_talk = load_small_talk(REPO_ROOT / "prompts")
    assert small_talk.question_part("who can see my property") == "who can see my property"
    assert small_talk.question_part("my card was stolen, thank you") == "my card was stolen"


def test_a_pinyin_question_is_answered_or_asked_again_in_characters_never_refused(app):
    answer = app.answers.ask("wo de shen fen zheng diu le zen me ban")
    assert not answer.refused
    assert answer.in_scope or ("拼音" in answer.answer and "pinyin" in answer.answer)
