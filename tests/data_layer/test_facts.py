"""Facts a fact-check found wrong once: a wrong number or article must not come back."""

from __future__ import annotations

import re

import pytest

from bot.data.knowledge import load_knowledge
from bot.services.replies import load_replies
from bot.settings import REPO_ROOT


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(REPO_ROOT / "knowledge")


def _texts(kb):
    """(entry id, language, answer) for every entry."""
    return [(e.id, lang, e.answer[lang]) for e in kb.entries.values() for lang in ("zh", "en")]


def test_negative_credit_records_are_kept_five_years_and_objections_are_free(kb):
    entry = kb.entries["after-leak-check-credit-report"]
    assert "第十六条" in entry.answer["zh"] and "5年" in entry.answer["zh"] and "不收费" in entry.answer["zh"]
    assert "article 16" in entry.answer["en"] and "5 years" in entry.answer["en"]
    assert "cost nothing" in entry.answer["en"]
    for _, _lang, text in _texts(kb):
        assert not re.search(r"(永远|永久)(无法|不能|不会)(删除|消除)|can never be removed", text), text[:80]
    repair = kb.entries["after-leak-credit-repair-scam"]
    assert re.search(r"免费|不收费|一分钱不用交", repair.answer["zh"])
    assert "cost nothing" in repair.answer["en"]


def test_the_refusal_puts_fake_base_stations_under_article_288_and_states_the_fine():
    replies = load_replies(REPO_ROOT / "prompts")
    zh, en = replies.render("refusal", "zh"), replies.render("refusal", "en")
    assert "第二百八十八条" in zh and "扰乱无线电通讯管理秩序罪" in zh and "并处或者单处罚金" in zh
    assert "288" in en and "instead of a fine" in en


def test_pipl_principles_are_article_5_not_6(kb):
    for entry_id, lang, text in _texts(kb):
        assert not re.search(r"第六条[^。]{0,20}(合法、正当、必要|诚信)", text), (entry_id, lang)
        wrong_article = re.search(r"Article 6[^.]{0,60}(lawful|legitima\w*|good faith)", text, re.I)
        assert not wrong_article, (entry_id, lang)


def test_the_one_id_check_reports_counts_not_numbers(kb):
    for entry_id, lang, text in _texts(kb):
        if "一证通查" not in text or "48" not in text:
            continue
        window = text[text.index("一证通查") :][:160]
        assert re.search(r"几张|多少|数量|how many|number of", window, re.I), (entry_id, lang)


def test_12321_is_not_an_miit_unit_and_12381_carries_no_links(kb):
    entry = kb.entries["reporting-12321-spam-and-scam-sms"].answer
    assert "中国互联网协会" in entry["zh"] and "不是工信部下属单位" in entry["zh"]
    assert "Internet Society of China" in entry["en"]
    warning = kb.entries["reporting-12381-warning-sms"].answer
    assert "不带任何链接" in warning["zh"] and "96110不会让您转账" in warning["zh"]
    for entry_id, _lang, text in _texts(kb):
        assert not re.search(r"工信部(下属|直属)的?12321|12321[^。]{0,12}是工信部(下属|直属)", text), entry_id


def test_ios_18_per_app_settings_are_under_settings_apps(kb):
    entry = kb.entries["app-permissions-ios18-where-app-settings-went"].answer
    assert "“设置”>“App”" in entry["zh"] and "iOS 18" in entry["zh"]
    assert re.search(r"Settings\s*>\s*Apps", entry["en"])


def test_the_card_renting_measures_need_a_city_level_decision(kb):
    for entry_id in ("legal-renting-selling-two-cards", "legal-anti-fraud-law"):
        entry = kb.entries[entry_id].answer
        assert "设区的市级" in entry["zh"] and re.search(r"city", entry["en"], re.I), entry_id


def test_mainland_numbers_come_with_where_to_turn_elsewhere(kb):
    entry = kb.entries["outside-mainland-where-to-report-fraud"].answer
    for number in ("18222", "8800 7777", "165", "1799"):
        assert number in entry["zh"] and number in entry["en"]
    replies = load_replies(REPO_ROOT / "prompts")
    note = replies.render("outside_mainland", "en", numbers="110, 96110")
    assert "mainland China" in note and "18222" in note and "165" in note


def test_12300_needs_a_complaint_to_the_operator_first_and_takes_no_debt_collectors(kb):
    entry = kb.entries["reporting-12300-telecom-operators"].answer["zh"]
    assert entry.startswith("不能直接找") and "先向运营商投诉" in entry and "催收" in entry
    collectors = kb.entries["debt-collection-where-to-complain"].answer["zh"]
    assert "12378" in collectors and "不受理催收投诉" in collectors


def test_the_pipl_deletion_right_has_its_conditions_and_breach_notice_its_exception(kb):
    deletion = kb.entries["legal-pipl-deletion-right"].answer["zh"]
    assert "第四十七条" in deletion and "撤回同意" in deletion and "保存期限" in deletion
    breach = kb.entries["after-leak-organisation-leak-sales-calls"].answer["zh"]
    assert "第五十七条" in breach and "才可以不通知个人" in breach
