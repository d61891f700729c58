"""The knowledge base: validation errors that name file, entry and field; coverage of the report."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml

from bot.adapters.cli import main
from bot.core.knowledge import KINDS, KnowledgeError
from bot.data.knowledge import load_knowledge, load_topics
from bot.settings import REPO_ROOT
from tests.support.knowledge import SHARED_TOPICS

KNOWLEDGE = REPO_ROOT / "knowledge"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE)


def _all_text(kb) -> str:
    parts = []
    for e in kb.entries.values():
        parts += [e.title["zh"], e.title["en"], e.answer["zh"], e.answer["en"]]
        if e.facts:
            parts += [v[lang] for v in e.facts.values() for lang in ("zh", "en")]
    return "\n".join(parts)


def test_real_knowledge_base_is_valid_and_large_enough(kb):
    assert len(kb.entries) >= 200
    counts = kb.summary()["topic"]
    assert set(counts) <= set(kb.topics)
    thin = {t: counts.get(t, 0) for t in kb.topics if counts.get(t, 0) < 4}
    assert not thin, f"topics with fewer than 4 entries: {thin}"
    assert all(len(e.questions) >= 6 for e in kb.entries.values())
    assert set(kb.summary()["kind"]) <= set(KINDS)


def test_topics_file_is_an_identical_copy_of_the_shared_vocabulary():
    if not SHARED_TOPICS.exists():
        pytest.skip("shared/topics.md is not beside the repository")
    assert (KNOWLEDGE / "TOPICS.md").read_bytes() == SHARED_TOPICS.read_bytes()


def test_topic_vocabulary_has_the_sixteen_contract_ids():
    topics = load_topics(KNOWLEDGE / "TOPICS.md")
    assert {"fake_sms", "after_leak", "reporting", "legal", "statistics", "self_protection"} <= set(topics)
    assert len(topics) == 16


def test_every_entry_has_questions_in_english_and_a_dated_source(kb):
    for entry in kb.entries.values():
        assert len(entry.questions) >= 4, entry.id
        assert any(not re.search(r"[\u3400-\u9fff]", q) for q in entry.questions), entry.id
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", entry.source.date), entry.id
        assert entry.source.url.startswith(("http://", "https://")), entry.id


# Each case and figure of the report, as (what, patterns that must all appear in one entry).
REPORT_FACTS = [
    ("company hiring staff to sell data", [r"450余万|4\.5 million"]),
    ("scraper company", [r"4600余万|46 million"]),
    ("fake elderly-care callers", [r"42", r"5000|5,000", r"33", r"56万|560,000"]),
    ("bank employee selling credit reports", [r"征信"]),
    ("loan app contacts", [r"98万|980,000"]),
    ("fake hospital-appointment app", [r"13万|130,000", r"号贩子|scalper"]),
    ("QQ/WeChat seller", [r"34万|340,000"]),
    ("dark-web social-engineering database", [r"暗网|dark web", r"社工库"]),
    ("fake base-station SMS gang", [r"90余万|900,000", r"伪基站|fake base station"]),
    ("prosecutions by year", [r"6000|6,000", r"9800|9,800", r"9300|9,300"]),
    ("unemployed share", [r"40%"]),
    ("joint crimes", [r"65\.7%"]),
    ("online share", [r"36\.6%"]),
    ("long sentences", [r"三成|30%"]),
]


@pytest.mark.parametrize(("what", "patterns"), REPORT_FACTS, ids=[f[0] for f in REPORT_FACTS])
def test_report_case_or_figure_is_in_some_entry(kb, what, patterns):
    def text(e):
        facts = [v[lang] for v in (e.facts or {}).values() for lang in ("zh", "en")]
        return "\n".join([e.answer["zh"], e.answer["en"], *facts])

    assert any(all(re.search(p, text(e)) for p in patterns) for e in kb.entries.values()), what


PRACTICAL = [
    ("numbers registered to your ID", r"一证通查"),
    ("credit report through official channels", r"征信中心|pbccrc"),
    ("iPhone permissions", r"隐私与安全性|Privacy & Security"),
    ("Android permissions", r"权限管理|Permission manager|应用.{0,4}权限"),
    ("verification codes", r"验证码"),
    ("anti-fraud line", r"96110"),
    ("spam report centre", r"12321"),
    ("national anti-fraud app", r"国家反诈中心"),
    ("Criminal Law article 253-1", r"二百五十三条之一|253-1"),
    ("Personal Information Protection Law", r"个人信息保护法"),
    ("Anti-Telecom and Online Fraud Law", r"反电信网络诈骗法"),
    ("delivery labels", r"面单"),
]


@pytest.mark.parametrize(("what", "pattern"), PRACTICAL, ids=[p[0] for p in PRACTICAL])
def test_practical_advice_is_covered(kb, what, pattern):
    assert re.search(pattern, _all_text(kb)), what


def test_hotlines_are_stated_correctly(kb):
    # A wrong number hurts people: any five-digit 9611x/1232x must be the real one.
    text = _all_text(kb)
    assert not re.search(r"(?<!\d)9611[1-9](?!\d)", text)
    assert not re.search(r"(?<!\d)1232[02-9](?!\d)", text)


# --- validation errors --------------------------------------------------------------------------


def _write(tmp_path: Path, entries: list[dict]) -> Path:
    root = tmp_path / "knowledge"
    (root / "entries").mkdir(parents=True)
    for name in ("TOPICS.md", "topics.yaml"):
        (root / name).write_text((KNOWLEDGE / name).read_text(encoding="utf-8"), encoding="utf-8")
    (root / "entries" / "broken.yaml").write_text(
        yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8"
    )
    return root


def _good(entry_id: str = "test-entry") -> dict:
    return {
        "id": entry_id,
        "topic": "fake_sms",
        "kind": "advice",
        "title": {"zh": "标题", "en": "Title"},
        "answer": {
            "zh": "别点短信里的链接。打银行卡背面的电话核实。",
            "en": "Do not tap the link. Call your bank.",
        },
        "questions": [
            "短信能点吗",
            "这条短信是真的吗",
            "提额短信",
            "簡訊能點嗎",
            "收到提额短信咋办",
            "is this text real?",
        ],
        "source": {"name": "Test source", "date": "2023-03-03", "url": "https://example.org/a"},
    }


def _without(field: str) -> dict:
    entry = _good()
    del entry[field]
    return entry


BAD = [
    ("missing field", [_without("source")], "source", "missing"),
    ("unknown topic", [{**_good(), "topic": "weather"}], "topic", "unknown topic"),
    ("duplicate id", [_good("same-id"), _good("same-id")], "id", "duplicate id"),
    (
        "empty answer in one language",
        [{**_good(), "answer": {"zh": "有内容。", "en": "  "}}],
        "answer.en",
        "empty",
    ),
    (
        "fewer than 6 questions",
        [{**_good(), "questions": ["a?", "b?", "c?", "d?", "e?"]}],
        "questions",
        "at least 6",
    ),
    (
        "no English question",
        [{**_good(), "questions": ["一", "二", "三", "四", "五", "六"]}],
        "questions",
        "English",
    ),
    ("unknown kind", [{**_good(), "kind": "story"}], "kind", "unknown kind"),
    ("bad date", [{**_good(), "source": {**_good()["source"], "date": "March"}}], "source.date", "date"),
    ("case without facts", [{**_good(), "kind": "case"}], "facts", "who, what and how_much"),
]


@pytest.mark.parametrize(("name", "entries", "field", "message"), BAD, ids=[b[0] for b in BAD])
def test_invalid_entry_names_file_entry_and_field(tmp_path, name, entries, field, message):
    root = _write(tmp_path, entries)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    problem = caught.value.problems[0]
    assert problem.file.endswith("entries/broken.yaml")
    assert problem.entry in ("test-entry", "same-id")
    assert problem.field == field
    assert message in problem.message
    assert "broken.yaml" in str(caught.value) and field in str(caught.value)


def test_validate_command_fails_with_the_problem_on_stderr(tmp_path, capsys):
    root = _write(tmp_path, [{**_good(), "topic": "weather"}])
    code = main(["validate"], environ={"BOT_KNOWLEDGE_DIR": str(root)}, stdout=io.StringIO())
    assert code == 1
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "'topic'" in err and "weather" in err


def test_validate_command_prints_counts_per_topic_and_kind():
    out = io.StringIO()
    assert main(["validate"], environ={}, stdout=out) == 0
    text = out.getvalue()
    assert "entries per topic" in text and "entries per kind" in text
    assert re.search(r"fake_sms\s+\d+", text) and re.search(r"case\s+\d+", text)


def test_broken_yaml_is_reported_with_the_file_name(tmp_path):
    root = _write(tmp_path, [_good()])
    (root / "entries" / "broken.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"broken\.yaml.*not valid YAML"):
        load_knowledge(root)


def test_every_topic_has_a_name_in_both_languages():
    topics = load_topics(KNOWLEDGE / "TOPICS.md")
    assert all(t.zh and t.en and t.en != t.id for t in topics.values())
    assert topics["fake_sms"].name("en") == "Fake SMS" and topics["fake_sms"].name("zh") == "伪基站与冒充短信"


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda names: names["fake_sms"].pop("en"), "name.en", "has no 'en' text"),
        (lambda names: names.pop("legal"), "name", "must have zh and en"),
        (lambda names: names.update(weather={"zh": "天气", "en": "Weather"}), "id", "not a topic"),
    ],
    ids=["missing English name", "missing topic", "unknown topic"],
)
def test_a_topic_without_both_names_is_a_load_error(tmp_path, edit, field, message):
    root = _write(tmp_path, [_good()])
    names = yaml.safe_load((root / "topics.yaml").read_text(encoding="utf-8"))
    edit(names)
    (root / "topics.yaml").write_text(yaml.safe_dump(names, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    problem = caught.value.problems[0]
    assert problem.file == "topics.yaml" and problem.field == field and message in problem.message
