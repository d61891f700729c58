"""Usage statistics: counts per day in real SQLite, per-day visitor pseudonyms, the table and the chart."""

from __future__ import annotations

import datetime as dt
import io
import logging
import sqlite3
import struct

import pytest

from bot.adapters.charts import HEIGHT_PX, WIDTH_PX, render_chart
from bot.adapters.cli import main
from bot.services.pseudonym import Pseudonymizer
from bot.services.stats import format_table, open_stats

PEPPER = b"a-test-pepper-of-32-bytes-length"
DAY1, DAY2 = dt.date(2026, 11, 29), dt.date(2026, 11, 30)


class Clock:
    """A hand-set calendar day."""

    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


def _stats(tmp_path, clock):
    return open_stats(f"sqlite:///{tmp_path / 'stats.sqlite3'}", Pseudonymizer(PEPPER), clock)


def _rows(path) -> dict[str, list[tuple]]:
    """Every row of every table of a SQLite file."""
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}


def test_counts_per_day_topic_risk_quiz_and_feedback(tmp_path):
    clock = Clock(DAY1)
    stats = _stats(tmp_path, clock)
    stats.count_answer("fake_sms", True, False, 1001)
    stats.count_answer("fake_sms", True, False, 1002)
    stats.count_answer("delivery_labels", True, False, 1001)
    stats.count_answer(None, False, False, 1003)
    stats.count_answer("legal", True, True, 1003)  # refused: counted as refused, not under "legal"
    stats.count_check("high", 1001)
    clock.day = DAY2
    stats.count_answer("fake_sms", True, False, 1001)
    stats.count_check("low", None)
    stats.count_quiz_play(1004)
    stats.count_feedback("fake-sms-credit-limit-gang", "up")
    stats.count_feedback("fake-sms-credit-limit-gang", "up")
    stats.count_feedback("fake-sms-credit-limit-gang", "down")

    summary = stats.summary()
    first, second = summary.days
    assert (first.day, first.questions, first.out_of_scope, first.refused) == ("2026-11-29", 3, 1, 1)
    assert first.checks == {"high": 1} and first.users == 3
    assert (second.questions, second.checks, second.quiz_plays, second.users) == (1, {"low": 1}, 1, 2)
    assert summary.topics == {"fake_sms": 3, "delivery_labels": 1}
    assert summary.feedback == {"fake-sms-credit-limit-gang": {"up": 2, "down": 1}}
    assert [d.day for d in stats.summary(days=1).days] == ["2026-11-30"]
    assert stats.summary(days=1).topics == {"fake_sms": 1}

    table = format_table(summary)
    assert "2026-11-29" in table and "fake_sms" in table and "fake-sms-credit-limit-gang" in table


def test_the_database_holds_no_raw_ids_and_visitors_cannot_be_followed_across_days(tmp_path):
    clock = Clock(DAY1)
    stats = _stats(tmp_path, clock)
    user = 918273645
    stats.count_answer("fake_sms", True, False, user)
    stats.count_answer("after_leak", True, False, user)  # the same person twice on one day
    clock.day = DAY2
    stats.count_answer("fake_sms", True, False, user)
    rows = _rows(tmp_path / "stats.sqlite3")
    assert set(rows) == {"daily_counts", "daily_visitors", "feedback"}
    visitors = rows["daily_visitors"]
    assert len(visitors) == 2  # one row per day
    (day1, token1), (day2, token2) = sorted(visitors)
    assert (day1, day2) == ("2026-11-29", "2026-11-30")
    assert token1 != token2  # no token links the two days
    assert all(str(user) not in str(value) for table in rows.values() for row in table for value in row)


def test_free_text_can_never_become_a_key(tmp_path):
    stats = _stats(tmp_path, Clock(DAY1))
    stats.count_answer("我的身份证号 110101199003077777 泄露了", True, False, 1)
    stats.count_check("High risk: call me", 1)
    stats.count_feedback("Some Entry With Text", "up")
    stats.count_feedback("fake-sms-credit-limit-gang", "sideways")
    rows = _rows(tmp_path / "stats.sqlite3")
    assert rows["daily_counts"] == [] and rows["feedback"] == []


def test_a_broken_database_is_logged_without_text_and_never_raises(tmp_path, caplog):
    stats = _stats(tmp_path, Clock(DAY1))
    with sqlite3.connect(tmp_path / "stats.sqlite3") as db:
        db.execute("DROP TABLE daily_counts")
    with caplog.at_level(logging.WARNING, logger="bot.stats"):
        stats.count_answer("fake_sms", True, False, 1)
        stats.count_feedback("fake-sms-credit-limit-gang", "up")
    assert [r.getMessage() for r in caplog.records] == [
        "statistics not recorded (OperationalError: no such table: daily_counts)"
    ]


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_of_the_size_the_code_draws(tmp_path):
    stats = _stats(tmp_path, Clock(DAY1))
    for topic in ("fake_sms", "fake_sms", "delivery_labels"):
        stats.count_answer(topic, True, False, 7)
    data = render_chart(stats.summary(), {"fake_sms": "Fake SMS"})
    assert _png_size(data) == (WIDTH_PX, HEIGHT_PX) == (1200, 650)
    assert data.endswith(b"IEND\xaeB`\x82")
    assert _png_size(render_chart(_stats(tmp_path / "empty", Clock(DAY1)).summary())) == (WIDTH_PX, HEIGHT_PX)


def test_stats_command_prints_the_table_and_writes_the_chart(tmp_path):
    env = {"BOT_DATA_DIR": str(tmp_path), "BOT_PEPPER": PEPPER.decode()}
    stats = open_stats(f"sqlite:///{tmp_path / 'stats.sqlite3'}", Pseudonymizer(PEPPER), Clock(DAY1))
    stats.count_answer("reporting", True, False, 5)
    stats.count_check("medium", 5)
    out = io.StringIO()
    chart = tmp_path / "stats.png"
    assert main(["stats", "--chart", str(chart)], environ=env, stdout=out) == 0
    text = out.getvalue()
    assert "2026-11-29" in text and "reporting" in text and f"{chart}" in text
    assert _png_size(chart.read_bytes()) == (WIDTH_PX, HEIGHT_PX)


def test_stats_database_url_setting_and_its_errors(tmp_path, capsys):
    other = tmp_path / "elsewhere" / "counts.db"
    env = {"BOT_DATA_DIR": str(tmp_path), "STATS_DATABASE_URL": f"sqlite:///{other}"}
    assert main(["stats"], environ=env, stdout=io.StringIO()) == 0
    assert other.exists() and not (tmp_path / "stats.sqlite3").exists()

    code = main(["stats"], environ={"BOT_DATA_DIR": str(tmp_path), "STATS_DATABASE_URL": "nonsense://"})
    err = capsys.readouterr().err
    assert code == 1 and "STATS_DATABASE_URL" in err and "Traceback" not in err
    code = main(["stats", "--chart", str(tmp_path / "no" / "such" / "dir.png")], environ=env)
    assert code == 1 and "could not be written" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "ok"), [("12, 34", True), ("", True), ("12,abc", False)])
def test_admin_user_ids_from_the_environment(value, ok):
    from bot.settings import Settings, SettingsError

    if ok:
        expected = {12, 34} if value else set()
        assert Settings.from_env({"ADMIN_USER_IDS": value}).admin_user_ids == expected
    else:
        with pytest.raises(SettingsError, match="ADMIN_USER_IDS"):
            Settings.from_env({"ADMIN_USER_IDS": value})


def test_databases_without_upsert_count_the_same(tmp_path, monkeypatch):
    """Other SQLAlchemy databases take the update-then-insert path; the counts must not differ."""
    import bot.services.stats

    monkeypatch.setattr(bot.services.stats, "_dialect_insert", lambda conn: None)
    stats = _stats(tmp_path, Clock(DAY1))
    for user in (1, 2, 1):
        stats.count_answer("fake_sms", True, False, user)
    stats.count_feedback("fake-sms-credit-limit-gang", "down")
    summary = stats.summary()
    assert (summary.days[0].questions, summary.days[0].users) == (3, 2)
    assert summary.feedback == {"fake-sms-credit-limit-gang": {"up": 0, "down": 1}}
