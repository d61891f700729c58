"""Askers outside mainland China get local channels, not 110 and 12321."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from bot.adapters.render import plain_answer
from bot.services.regions import (
    OUTSIDE_MAINLAND_ENTRY,
    asks_from_abroad,
    likely_abroad,
    mainland_numbers,
    names_mainland_services,
)


@pytest.mark.parametrize(
    "question",
    [
        "Someone used my Social Security number to open credit cards in my name",
        "My mum sent £2,430 to a WhatsApp number pretending to be my brother",
        "I live in Canada and my father keeps getting scam calls",
        "The U.S. embassy website says to report it, but where?",
        "我在澳洲读书，最近个人信息好像被人拿去办了东西",
        "人在香港，收到詐騙短信怎麼辦",
    ],
)
def test_signs_that_the_asker_lives_abroad(question):
    assert asks_from_abroad(question)


@pytest.mark.parametrize(
    "question",
    [
        "Can you help us? My mother gave her ID number to a caller",  # "us" is a pronoun
        "香港的公司打电话说我涉嫌洗钱，是真的吗",  # a mainland asker named a place
        "美国总统都被泄露过信息吗",
        "my bank card was stolen, what do I do?",
        "快递面单怎么处理",
    ],
)
def test_no_sign_of_living_abroad(question):
    assert not asks_from_abroad(question)


def test_mainland_numbers_are_found_once_each_and_not_inside_longer_numbers():
    assert mainland_numbers("拨打110，或96110；再打110。电话 0300 123 2040、1101") == ["110", "96110"]


def test_an_asker_abroad_keeps_the_advice_and_gets_the_local_channels_in_full(app):
    question = (
        "My mother's identity has been stolen. She gave a caller her Social Security number and "
        "bank details, and now someone opened a credit card in her name. What should we do?"
    )
    # The same question from an asker in the mainland.
    alone = app.answers.ask("We live in Beijing. " + question.replace("Social Security", "ID"))
    answer = app.answers.ask(question)
    assert alone.sources[0].id != OUTSIDE_MAINLAND_ENTRY and mainland_numbers(alone.answer)
    # The advice stays first; the local channels follow in full, as the second source.
    assert answer.sources[0].id == alone.sources[0].id and answer.answer == alone.answer
    assert [s.id for s in answer.sources][1:] == [OUTSIDE_MAINLAND_ENTRY]
    assert "IdentityTheft.gov" in answer.region_note and "IdentityTheft.gov" not in (alone.region_note or "")
    assert OUTSIDE_MAINLAND_ENTRY not in [r.id for r in answer.related]
    shown = plain_answer(answer, app.answers.replies)
    assert "IdentityTheft.gov" in shown and all(s.source["url"] in shown for s in answer.sources)


def test_an_answer_abroad_without_mainland_numbers_stays(app):
    answer = app.answers.ask("I live in Canada. How do I destroy the shipping labels on my parcels?")
    assert answer.sources[0].topic == "delivery_labels" and not mainland_numbers(answer.answer)


@pytest.mark.parametrize(
    ("question", "lang", "traditional", "abroad"),
    [
        ("my bank card was stolen, what do I do?", "en", False, True),
        ("收到詐騙短信怎麼辦", "zh", True, True),
        ("I live in Shanghai and my bank card was stolen", "en", False, False),
        ("I'm back in China, someone uses my WeChat Pay", "en", False, False),
        ("我在深圳，收到詐騙短信怎麼辦", "zh", True, False),
        ("银行卡被偷了怎么办", "zh", False, False),
        ("我在澳洲读书，收到诈骗电话", "zh", False, True),
    ],
)
def test_english_and_traditional_askers_are_taken_to_live_outside_the_mainland_unless_they_say_so(
    question, lang, traditional, abroad
):
    assert likely_abroad(question, lang, traditional) is abroad


def test_mainland_only_services_are_recognised_as_well_as_numbers():
    assert names_mainland_services("file an objection with the Credit Reference Center")
    assert names_mainland_services("用一证通查查一下名下的号码") and names_mainland_services("打110")
    assert not names_mainland_services("Shred the label, or black it out with a marker")


@pytest.mark.parametrize(
    "question",
    [
        "I clicked a link in a fake bank text and entered my card number, what now?",
        "我點了假銀行簡訊的連結，還輸入了卡號，怎麼辦",
    ],
)
def test_an_english_or_traditional_answer_naming_mainland_services_brings_the_local_channels(app, question):
    answer = app.answers.ask(question)
    assert answer.in_scope and answer.sources[0].id != OUTSIDE_MAINLAND_ENTRY
    assert [s.id for s in answer.sources][1:] == [OUTSIDE_MAINLAND_ENTRY]
    assert "18222" in answer.region_note and "165" in answer.region_note


def test_an_english_asker_in_the_mainland_gets_the_answer_alone(app):
    answer = app.answers.ask("I live in Shanghai. I tapped a link in a fake bank SMS and gave my card number")
    assert answer.in_scope and mainland_numbers(answer.answer)
    assert [s.id for s in answer.sources] == [answer.sources[0].id] and answer.region_note is None


def test_a_question_outside_the_field_from_abroad_gets_the_local_lines_with_the_mainland_ones(app):
    answer = app.answers.ask("How do I renew my passport? I live in Canada.")
    assert not answer.in_scope and not answer.refused
    assert "110" in answer.answer and "18222" in answer.region_note
    assert "18222" in plain_answer(answer, app.answers.replies)
    mainland = app.answers.ask("怎么做红烧肉？")
    assert not mainland.in_scope and mainland.region_note is None


def test_without_the_outside_mainland_entry_an_answer_abroad_gets_the_short_note(app):
    service = copy.copy(app.answers)
    entries = {k: v for k, v in app.answers.kb.entries.items() if k != OUTSIDE_MAINLAND_ENTRY}
    service.kb = dataclasses.replace(app.answers.kb, entries=entries)
    answer = service.ask("I clicked a link in a fake bank text and entered my card number, what now?")
    assert answer.in_scope and [s.id for s in answer.sources] == [answer.sources[0].id]
    assert "18222" in answer.region_note and "mainland China numbers" in answer.region_note
