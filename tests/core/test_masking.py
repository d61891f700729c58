"""The personal-data detector and masker: each kind, the checks, and properties over any text."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.masking import detect, id_check_digit_ok, labelled, luhn_ok, mask, sensitive_kinds

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _with_id_check(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _with_luhn(body: str) -> str:
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError("unreachable")


id_numbers = st.builds(
    lambda region, date, seq: _with_id_check(f"{region}{date:%Y%m%d}{seq:03d}"),
    st.integers(110000, 659999),
    st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    st.integers(0, 999),
)
phones = st.builds(
    lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1)
)
cards = st.builds(
    lambda length, digits: _with_luhn(("62" + digits)[: length - 1]),
    st.integers(16, 19),
    st.text("0123456789", min_size=18, max_size=18),
)


def _formats(number: str, kind: str) -> list[str]:
    """How people type the same number: whole, grouped with spaces or dashes, full-width."""
    out = [number, number.translate(_FULL_WIDTH)]
    if kind == "id":
        out += [
            f"{number[:6]} {number[6:14]} {number[14:]}",
            f"{number[:6]}-{number[6:10]}-{number[10:14]}-{number[14:]}",
        ]
    elif kind == "phone":
        out += [
            f"{number[:3]} {number[3:7]} {number[7:]}",
            f"{number[:3]}-{number[3:7]}-{number[7:]}",
            f"+86 {number}",
        ]
        out += [f"0086-{number}", " ".join(number)]
    else:
        groups = [number[i : i + 4] for i in range(0, len(number), 4)]
        out += [" ".join(groups), "-".join(groups)]
    return out


surrounding = st.text(st.characters(blacklist_categories=()), max_size=40)
separators = st.sampled_from([" ", "，", "：", "\n", "。", "(", "号码 ", " is "])


def _assert_hidden(before: str, typed: str, after: str) -> None:
    text = before + typed + after
    masked = mask(text)
    assert len(masked) == len(text)
    assert typed not in masked
    assert "*" in masked[len(before) : len(before) + len(typed)]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(id_numbers, st.data(), surrounding, surrounding, separators, separators)
def test_any_valid_id_number_in_any_text_is_masked(number, data, before, after, left, right):
    assert id_check_digit_ok(number)
    typed = data.draw(st.sampled_from(_formats(number, "id")))
    _assert_hidden(before + left, typed, right + after)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(phones, st.data(), surrounding, surrounding, separators, separators)
def test_any_mobile_number_in_any_text_is_masked(number, data, before, after, left, right):
    typed = data.draw(st.sampled_from(_formats(number, "phone")))
    _assert_hidden(before + left, typed, right + after)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(cards, st.data(), surrounding, surrounding, separators, separators)
def test_any_luhn_card_number_in_any_text_is_masked(number, data, before, after, left, right):
    assert luhn_ok(number) and 16 <= len(number) <= 19
    typed = data.draw(st.sampled_from(_formats(number, "card")))
    _assert_hidden(before + left, typed, right + after)


@settings(max_examples=300)
@given(st.text(st.characters(blacklist_categories=()), max_size=300))
def test_masking_is_idempotent_and_never_raises_on_any_text(text):
    once = mask(text)
    assert mask(once) == once
    assert len(once) == len(text)
    detect(text)


@settings(max_examples=200)
@given(st.text("0123456789 -+Xx@.abc京A号楼路栋单元室１２３", max_size=120))
def test_masking_is_idempotent_on_digit_heavy_text(text):
    once = mask(text)
    assert mask(once) == once


def test_check_digits_tell_real_numbers_apart():
    assert id_check_digit_ok("11010519491231002X")  # the standard's own example
    assert not id_check_digit_ok("110105194912310021")
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    [real] = detect("身份证 11010519491231002X")
    [fake] = detect("身份证 110105194912310021")
    assert (real.kind, real.valid) == ("id_number", True)
    assert (fake.kind, fake.valid) == ("id_number", False)
    assert "1949" not in mask("身份证 110105194912310021")  # masked all the same


@pytest.mark.parametrize(
    ("text", "kind", "gone"),
    [
        ("我的邮箱是 zhangsan.1988@example.com", "email", "zhangsan.1988"),
        ("车牌苏E·6Q812停在楼下", "plate", "6Q812"),
        ("新能源车牌粤B D12345", "plate", "D12345"),
        ("我家在北京市朝阳区建国路88号3号楼2单元501室", "address", "501室"),
        ("住幸福小区五栋三单元", "address", "五栋"),
        ("I live at 12 Baker Street, Room 501", "address", "Room 501"),
        ("卡号6222021234567890128", "bank_card", "021234567890"),
        ("手机号：１３８ １２３４ ５６７８", "phone", "１２３４"),
    ],
)
def test_each_kind_is_found_and_masked(text, kind, gone):
    assert kind in {f.kind for f in detect(text)}
    assert gone not in mask(text)


def test_ordinary_numbers_are_left_alone():
    text = "2022年起诉9300余人，拨打96110或12321，刑法第253条之一，验证码5位"
    assert mask(text) == text
    assert detect(text) == []


def test_two_phone_numbers_side_by_side_are_both_found_as_phones():
    findings = detect("138 1234 5678 139 1234 5678")
    assert [f.kind for f in findings] == ["phone", "phone"]


def test_sensitive_kinds_warn_about_real_looking_numbers_only():
    assert sensitive_kinds(detect("我的身份证11010519491231002X，手机13812345678")) == ["id_number", "phone"]
    assert sensitive_kinds(detect("订单号 1234567890123456")) == []  # not a Luhn card number
    assert sensitive_kinds(detect("车牌苏E·6Q812")) == []


def test_huge_and_binary_text_is_masked_quickly_and_safely():
    rng = random.Random(7)
    samples = [
        "1" * 100_000,
        "".join(rng.choice("0123456789 -") for _ in range(100_000)),
        "".join(chr(rng.randrange(0, 0x2FFFF)) for _ in range(100_000)),
        "\x00\ud800" * 50_000,
    ]
    for text in samples:
        masked = mask(text)
        assert len(masked) == len(text)
        assert mask(masked) == masked


def test_labelled_text_names_each_kind_and_keeps_none_of_the_data():
    names = {"id_number": "身份证号", "phone": "手机号", "bank_card": "银行卡号"}
    text = "身份证11010519491231002X，手机138-1234-5678，卡6222 0212 3456 7890 128"
    out = labelled(text, names)
    assert "身份证号" in out and "手机号" in out and "银行卡号" in out
    assert not any(run in out for run in ("19491231", "1234", "0212", "3456"))
