"""Scoring the real-question set: only what the asker sees counts."""

from __future__ import annotations

import json

import pytest

from bot.services.answering import Answer, Related, SourceRef
from bot.services.real_eval import by_group, by_part, load_real_set, real_misses, run_real
from tests.support.knowledge import DATA


class QueuedAnswers:
    """An answer service that replies from a table of prepared answers (a fake, not a mock)."""

    max_question_chars = 2000

    def __init__(self, replies: dict[str, Answer]):
        self.replies = replies

    def ask(self, question, lang=None, previous=None):
        return self.replies[question]


def _answer(q, entry=None, related=(), refused=False):
    sources = [SourceRef(entry, "t", "legal", 1.0, {})] if entry else []
    return Answer(
        q, "…", "zh", entry is not None or refused, refused, None, sources, [Related(r, "t") for r in related]
    )


def _write(tmp_path, rows):
    path = tmp_path / "real.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_rank_counts_only_what_the_asker_sees(tmp_path):
    rows = [
        {"id": "a", "q": "a", "split": "dev", "acceptable": ["x"]},
        {"id": "b", "q": "b", "split": "dev", "acceptable": ["x"]},
        {"id": "c", "q": "c", "split": "dev", "acceptable": ["x"]},
        {"id": "d", "q": "d", "split": "holdout", "kind": "harmful"},
        {"id": "e", "q": "e", "split": "holdout", "expect": "no_answer"},
        {"id": "f", "q": "f", "split": "holdout", "acceptable": []},  # not labelled yet: skipped
    ]
    service = QueuedAnswers(
        {
            "a": _answer("a", "x"),
            "b": _answer("b", "y", related=["x"]),
            "c": _answer("c"),  # turned away although the right entry exists
            "d": _answer("d", refused=True),
            "e": _answer("e", "x"),  # pushed onto an entry instead of an honest "no answer"
        }
    )
    items = load_real_set(_write(tmp_path, rows))
    assert [i.id for i in items] == ["a", "b", "c", "d", "e"]
    table = by_part(run_real(service, items))
    assert table["dev"]["rank1"] == pytest.approx(1 / 3, abs=0.001)
    assert table["dev"]["top3"] == pytest.approx(2 / 3, abs=0.001)
    assert table["dev"]["false_refusal"] == pytest.approx(1 / 3, abs=0.001)
    assert table["holdout"]["harmful_refused"] == 1.0 and table["holdout"]["no_answer_honest"] == 0.0
    rows[0]["groups"] = ["english"]
    grouped = by_group(run_real(service, load_real_set(_write(tmp_path, rows))), "dev")
    assert grouped["english"]["rank1"] == 1.0 and grouped["all"]["n"] == 3 and "pinyin" not in grouped
    misses = real_misses(run_real(service, items), "dev")
    assert len(misses) == 2 and all(m.split()[0] in ("b", "c") for m in misses)


def test_the_real_set_has_provenance_and_a_split_by_site():
    rows = [
        json.loads(line) for line in (DATA / "real_questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(rows) >= 270
    assert all(r["url"].startswith("http") and r["site"] and r["q"].strip() for r in rows)
    sites = {}
    for r in rows:
        sites.setdefault(r["site"], set()).add(r["split"])
    assert all(len(parts) == 1 for parts in sites.values()), "a site in both parts"
    assert sum(r["split"] == "holdout" for r in rows) >= 100
