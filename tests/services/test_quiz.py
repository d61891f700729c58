"""The quiz: every item is backed by its knowledge entry, games keep score, the terminal quiz plays."""

from __future__ import annotations

import io
import random
import shutil

import pytest
import yaml

from bot.adapters.cli import main
from bot.data.knowledge import load_knowledge
from bot.services.quiz import KINDS, QuizError, QuizGame, load_quiz, load_written_items
from bot.settings import REPO_ROOT, Settings

KNOWLEDGE = REPO_ROOT / "knowledge"
PROMPTS = REPO_ROOT / "prompts"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def bank(kb):
    return load_quiz(KNOWLEDGE, PROMPTS, kb)


def test_every_kind_of_question_is_there_in_both_languages(bank):
    kinds = {item.kind for item in bank.items}
    assert kinds == set(KINDS)
    for item in bank.items:
        for lang in ("zh", "en"):
            assert item.question[lang] and item.explanation[lang]
            assert all(choice[lang] for choice in item.choices)
            assert len({choice[lang] for choice in item.choices}) == len(item.choices), item.id
        assert 0 <= item.correct < len(item.choices)


def test_every_written_item_is_backed_by_its_entry(bank, kb):
    """The right answer agrees with the entry: its support phrase is in the entry's answer text."""
    written = [i for i in bank.items if i.kind != "case_facts"]
    assert len(written) >= 12
    for item in written:
        entry = kb.entries[item.entry_id]
        for lang in ("zh", "en"):
            answer_text = " ".join(entry.answer[lang].lower().split())
            assert " ".join(item.support[lang].lower().split()) in answer_text, (item.id, lang)


def test_generated_case_items_offer_the_cases_own_facts_as_the_right_answer(bank, kb):
    cases = [i for i in bank.items if i.kind == "case_facts"]
    assert len(cases) == sum(1 for e in kb.entries.values() if e.kind == "case")
    for item in cases:
        entry = kb.entries[item.entry_id]
        assert entry.kind == "case"
        for lang in ("zh", "en"):
            assert item.choices[item.correct][lang] == entry.facts["what"][lang]
            others = {e.facts["what"][lang] for e in kb.entries.values() if e.kind == "case" and e != entry}
            wrong = [c[lang] for i, c in enumerate(item.choices) if i != item.correct]
            assert wrong and all(w in others for w in wrong)
            assert entry.title[lang] in item.question[lang]


def test_scam_or_not_answers_agree_with_the_message_checker(bank, app):
    """An independent check of the written labels: the real checker rates the scam messages
    high or medium, and the genuine ones not high."""
    items = [i for i in bank.items if i.kind == "scam_or_not"]
    assert len(items) >= 4
    for item in items:
        says_scam = (
            "诈骗" in item.choices[item.correct]["zh"] and "不是" not in item.choices[item.correct]["zh"]
        )
        for lang in ("zh", "en"):
            risk = app.checker.check(item.message[lang]).risk
            if says_scam:
                assert risk in ("high", "medium"), (item.id, lang, risk)
            else:
                assert risk != "high", (item.id, lang, risk)


def test_shuffled_choices_keep_track_of_the_right_one(bank):
    item = next(i for i in bank.items if len(i.choices) == 3)
    right = item.choices[item.correct]
    positions = set()
    for seed in range(20):
        shuffled = item.shuffled(random.Random(seed))
        assert shuffled.choices[shuffled.correct] == right
        assert sorted(c["en"] for c in shuffled.choices) == sorted(c["en"] for c in item.choices)
        positions.add(shuffled.correct)
    assert len(positions) > 1


def test_a_game_mixes_the_kinds(bank):
    items = bank.pick(4, random.Random(7))
    assert [i.kind for i in items] == list(KINDS)
    assert len({i.id for i in bank.pick(30, random.Random(7))}) == len(bank.items)


def _write_items(tmp_path, items) -> None:
    (tmp_path / "quiz.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")


def test_an_item_its_entry_does_not_back_is_refused_naming_file_item_and_field(kb, bank, tmp_path):
    items = yaml.safe_load((KNOWLEDGE / "quiz.yaml").read_text(encoding="utf-8"))
    wrong = dict(items[0], support={"zh": "银行会用短信链接帮你提额", "en": "banks raise limits via links"})
    _write_items(tmp_path, [wrong])
    with pytest.raises(QuizError) as caught:
        load_written_items(tmp_path / "quiz.yaml", kb, bank.texts)
    message = str(caught.value)
    assert str(tmp_path / "quiz.yaml") in message and items[0]["id"] in message
    assert "'support'" in message and items[0]["entry_id"] in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"entry_id": "no-such-entry"}, "no knowledge entry"),
        ({"kind": "riddle"}, "'kind'"),
        ({"question": {"zh": "只有中文"}}, "has no 'en' text"),
        ({"message": None}, "'message'"),
        ({"verdict": "maybe"}, "'verdict'"),
        ({"choices": [{"zh": "是", "en": "Yes", "correct": True}]}, "no choices of its own"),
    ],
)
def test_broken_items_get_a_clear_error(kb, bank, tmp_path, change, expected):
    items = yaml.safe_load((KNOWLEDGE / "quiz.yaml").read_text(encoding="utf-8"))
    item = {**items[0], **change}
    if item.get("message") is None:
        item.pop("message", None)
    _write_items(tmp_path, [item])
    with pytest.raises(QuizError, match=expected) as caught:
        load_written_items(tmp_path / "quiz.yaml", kb, bank.texts)
    assert str(tmp_path / "quiz.yaml") in str(caught.value)


def test_a_stray_comma_in_a_choice_is_named(kb, bank, tmp_path):
    items = yaml.safe_load((KNOWLEDGE / "quiz.yaml").read_text(encoding="utf-8"))
    item = next(dict(i) for i in items if i["kind"] == "first_step")
    (tmp_path / "quiz.yaml").write_text(
        yaml.safe_dump([item], allow_unicode=True).replace(
            "- correct: true\n", "- correct: true\n    points do expire: null\n", 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(QuizError, match="unknown key"):
        load_written_items(tmp_path / "quiz.yaml", kb, bank.texts)


def test_two_right_choices_are_refused(kb, bank, tmp_path):
    items = yaml.safe_load((KNOWLEDGE / "quiz.yaml").read_text(encoding="utf-8"))
    item = next(dict(i) for i in items if i["kind"] == "first_step")
    item["choices"] = [dict(c, correct=True) for c in item["choices"]]
    _write_items(tmp_path, [item])
    with pytest.raises(QuizError, match="exactly one choice"):
        load_written_items(tmp_path / "quiz.yaml", kb, bank.texts)


def test_group_game_counts_answers_once_per_player_and_ranks_by_score(bank):
    game = QuizGame(bank.pick(2, random.Random(1)), "zh")
    first = game.current
    wrong = (first.correct + 1) % len(first.choices)
    assert game.answer("u_a", "Mei", first.correct)
    assert game.answer("u_b", "Tom", wrong)
    assert not game.answer("u_b", "Tom", first.correct)  # a second tap does not change the answer
    assert game.counts()[first.correct] == 1 and game.counts()[wrong] == 1
    assert game.reveal() and not game.reveal()
    assert not game.answer("u_c", "Ana", first.correct)  # too late
    game.advance()
    second = game.current
    assert game.answer("u_b", "Tom", second.correct)
    assert game.answer("u_c", "Ana", second.correct)
    game.reveal()
    game.advance()
    assert game.finished
    assert [(p.name, p.score) for p in game.leaderboard()] == [("Mei", 1), ("Tom", 1), ("Ana", 1)]


def test_terminal_quiz_with_scripted_answers(tmp_path):
    """Answer the first question right, type rubbish, then answer the second wrong."""
    env = {"BOT_DATA_DIR": str(tmp_path)}
    settings = Settings(data_dir=tmp_path)
    bank = load_quiz(settings.knowledge_dir, settings.prompts_dir, load_knowledge(settings.knowledge_dir))
    first, second = bank.pick(2, random.Random(11))
    answers = f"{first.correct + 1}\nnine\n7\n{(second.correct + 1) % len(second.choices) + 1}\n"
    out = io.StringIO()
    code = main(
        ["quiz", "--seed", "11", "--questions", "2", "--lang", "en"],
        environ=env,
        stdin=io.StringIO(answers),
        stdout=out,
    )
    text = out.getvalue()
    assert code == 0
    assert first.question["en"] in text and second.question["en"] in text
    assert "✅ Right!" in text
    assert f"❌ Not quite. The right answer: {second.choices[second.correct]['en']}" in text
    assert text.count("Please type a number from 1 to") == 2
    assert "Source: " in text and bank.entry(first).source.name in text
    assert "You got 1 out of 2 right." in text


def test_terminal_quiz_stops_cleanly_at_end_of_input(tmp_path):
    out = io.StringIO()
    code = main(
        ["quiz", "--seed", "3"], environ={"BOT_DATA_DIR": str(tmp_path)}, stdin=io.StringIO(""), stdout=out
    )
    assert code == 0 and "测验结束！你答对了 0/5 题。" in out.getvalue()


def test_a_broken_quiz_file_is_exit_code_2_with_the_reason(tmp_path, capsys):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    (knowledge / "quiz.yaml").write_text("- id: [unclosed\n", encoding="utf-8")
    code = main(["quiz"], environ={"BOT_DATA_DIR": str(tmp_path), "BOT_KNOWLEDGE_DIR": str(knowledge)})
    err = capsys.readouterr().err
    assert code == 2 and "quiz.yaml" in err and "Traceback" not in err
    code = main(["validate"], environ={"BOT_KNOWLEDGE_DIR": str(knowledge)}, stdout=io.StringIO())
    assert code == 2 and "quiz.yaml" in capsys.readouterr().err
