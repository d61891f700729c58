"""Cleaning what people type: invisible characters, full-width forms, huge pastes, languages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import clean, detect_language, looks_like_pinyin, to_simplified


def test_full_width_digits_and_letters_are_folded():
    assert clean("拨打１２３２１举报ＡＢＣ") == "拨打12321举报ABC"


def test_control_zero_width_and_bidi_characters_are_removed():
    text = "身\u200b份\u200d证\x00泄\u202e露\ufeff了\x07"
    assert clean(text) == "身份证泄露了"


def test_whitespace_is_folded_and_trimmed():
    assert clean("  我的\n\t快递   单 ") == "我的 快递 单"


def test_huge_input_is_capped():
    assert len(clean("诈" * 100_000, max_chars=2000)) == 2000


def test_lone_surrogates_do_not_break_cleaning():
    assert clean("abc\ud800def") in ("abc?def", "abcdef")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_never_raises_and_is_idempotent(text):
    once = clean(text)
    assert clean(once) == once
    assert len(once) <= 2000


def test_language_detection():
    assert detect_language("收到短信说能提额是真的吗") == "zh"
    assert detect_language("收到簡訊說能提額是真的嗎") == "zh"
    assert detect_language("my ID number leaked, now what?") == "en"
    assert detect_language("我的ID number泄露了咋办") == "zh"
    assert detect_language("is 96110 a real number? 谢谢") == "en"
    assert detect_language("12321") == "en"


def test_traditional_characters_are_simplified():
    assert to_simplified("偽基站發的簡訊") == "伪基站发的简讯"
    assert to_simplified("plain english") == "plain english"


@pytest.mark.parametrize(
    "text",
    [
        "wo de shen fen zheng diu le zen me ban",
        "kuai di mian dan zen me chu li",
        "yinhangka bei dao shua le zen me ban",
    ],
)
def test_pinyin_is_recognised(text):
    assert looks_like_pinyin(text)


@pytest.mark.parametrize(
    "text",
    [
        "my id card was stolen what do i do",
        "can he ban me",
        "she can show me the long song",
        "ni hao",
        "身份证丢了",
    ],
)
def test_english_and_characters_are_not_pinyin(text):
    assert not looks_like_pinyin(text)
