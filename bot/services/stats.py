"""Usage statistics without personal data: counts per day, in a SQL database (SQLite by default).

What is stored, and nothing else:
- `daily_counts`: (day, metric, key) -> count. Metrics: `question` (key: the answer's topic id),
  `out_of_scope`, `refused`, `check` (key: the risk level), `quiz_play`.
- `daily_visitors`: (day, visitor) where `visitor` is an HMAC of the day and the user id. The day
  is part of the HMAC input, so the same person has unrelated tokens on different days: users
  can be counted per day and never followed across days. Raw ids are never written.
- `feedback`: (entry_id, vote) -> count, the 👍/👎 under answers.

Keys are checked against a strict pattern (ids, never free text), so a message text cannot end up
in the database even by mistake. Counting never breaks an answer: a failure is logged with its
type only and the caller carries on.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.services.pseudonym import Pseudonymizer

logger = logging.getLogger("bot.stats")

METRICS = ("question", "out_of_scope", "refused", "check", "quiz_play")
VOTES = ("up", "down")
# Topic ids, risk levels and entry ids: lower-case slugs. Anything else is refused, not stored.
_KEY_RE = re.compile(r"^[a-z0-9_-]{0,80}$")

metadata = MetaData()
daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("metric", String(20), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("count", Integer, nullable=False),
)
daily_visitors = Table(
    "daily_visitors",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("visitor", String(24), primary_key=True),
)
feedback = Table(
    "feedback",
    metadata,
    Column("entry_id", String(80), primary_key=True),
    Column("vote", String(4), primary_key=True),
    Column("count", Integer, nullable=False),
)


class StatsUnavailable(RuntimeError):
    """The statistics database cannot be opened (bad URL, unreachable server, unwritable file)."""


@dataclass
class DayRow:
    """One day of the statistics table."""

    day: str
    questions: int = 0
    out_of_scope: int = 0
    refused: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    quiz_plays: int = 0
    users: int = 0


@dataclass
class Summary:
    """Everything `python -m bot stats` prints and the chart draws."""

    days: list[DayRow]
    topics: dict[str, int]  # topic id -> questions over the period, most asked first
    feedback: dict[str, dict[str, int]]  # entry id -> {"up": n, "down": n}

    @property
    def total_questions(self) -> int:
        """Answered questions over the period (out-of-scope and refused not included)."""
        return sum(d.questions for d in self.days)


def utc_today() -> dt.date:
    """Today in UTC: one calendar for every replica, whatever its time zone."""
    return dt.datetime.now(dt.UTC).date()


class UsageStats:
    """Counts what the bot is used for; every `count_*` method is safe to call from any thread."""

    def __init__(self, engine: Engine, pseudonym: Pseudonymizer, today: Callable[[], dt.date] = utc_today):
        self.engine = engine
        self._pseudonym = pseudonym
        self._today = today
        # SQLite serialises writers anyway; the lock also keeps the generic (non-upsert) path
        # of other databases safe within one process.
        self._lock = threading.Lock()

    # --- counting (never raises) ----------------------------------------------------------------

    def count_answer(self, topic: str | None, in_scope: bool, refused: bool, user_id: int | None) -> None:
        """Count one answered question by topic, or one out-of-scope or refused question."""
        if refused:
            self._safely(self._add, "refused", "", user_id)
        elif in_scope:
            self._safely(self._add, "question", topic or "", user_id)
        else:
            self._safely(self._add, "out_of_scope", "", user_id)

    def count_check(self, risk: str, user_id: int | None) -> None:
        """Count one message check by its risk level."""
        self._safely(self._add, "check", risk, user_id)

    def count_quiz_play(self, user_id: int | None) -> None:
        """Count one quiz game started."""
        self._safely(self._add, "quiz_play", "", user_id)

    def count_feedback(self, entry_id: str, vote: str) -> None:
        """Count one 👍 ("up") or 👎 ("down") under an answer from `entry_id`."""
        self._safely(self._vote, entry_id, vote)

    def _safely(self, write: Callable[..., None], *args) -> None:
        try:
            write(*args)
        except Exception as exc:  # statistics must never cost a user an answer
            # The driver's own message ("database is locked", "no such table: ...") names no
            # values; the statement's parameters are never logged.
            reason = getattr(exc, "orig", None)
            logger.warning("statistics not recorded (%s: %s)", type(exc).__name__, reason or "-")

    def _add(self, metric: str, key: str, user_id: int | None) -> None:
        if metric not in METRICS or not _KEY_RE.match(key):
            raise ValueError("not a statistics key")
        day = self._today().isoformat()
        with self._lock, self.engine.begin() as conn:
            self._increment(conn, daily_counts, {"day": day, "metric": metric, "key": key})
            if user_id is not None:
                visitor = self._pseudonym(f"user-day:{day}", user_id)
                self._insert_once(conn, {"day": day, "visitor": visitor})

    def _vote(self, entry_id: str, vote: str) -> None:
        if vote not in VOTES or not entry_id or not _KEY_RE.match(entry_id):
            raise ValueError("not a feedback key")
        with self._lock, self.engine.begin() as conn:
            self._increment(conn, feedback, {"entry_id": entry_id, "vote": vote})

    def _increment(self, conn, table: Table, keys: dict[str, str]) -> None:
        """count += 1 for the row with `keys`, inserting it at 1 the first time."""
        insert = _dialect_insert(conn)
        if insert is not None:  # one atomic statement: safe with several bot replicas
            statement = insert(table).values(**keys, count=1)
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=list(keys), set_={"count": table.c["count"] + 1}
                )
            )
            return
        condition = [table.c[name] == value for name, value in keys.items()]
        done = conn.execute(update(table).where(*condition).values(count=table.c["count"] + 1))
        if done.rowcount == 0:
            conn.execute(table.insert().values(**keys, count=1))

    def _insert_once(self, conn, row: dict[str, str]) -> None:
        insert = _dialect_insert(conn)
        if insert is not None:
            conn.execute(insert(daily_visitors).values(**row).on_conflict_do_nothing())
            return
        exists = conn.execute(
            select(daily_visitors.c.day).where(
                daily_visitors.c.day == row["day"], daily_visitors.c.visitor == row["visitor"]
            )
        ).first()
        if exists is None:
            conn.execute(daily_visitors.insert().values(**row))

    # --- reading --------------------------------------------------------------------------------

    def summary(self, days: int | None = None) -> Summary:
        """Counts per day (the last `days` days with any activity, all if None), per topic, per entry."""
        with self.engine.connect() as conn:
            counts = conn.execute(select(daily_counts)).all()
            visitors = conn.execute(
                select(daily_visitors.c.day, func.count()).group_by(daily_visitors.c.day)
            ).all()
            votes = conn.execute(select(feedback)).all()
        rows: dict[str, DayRow] = {}
        for day, metric, key, count in counts:
            row = rows.setdefault(day, DayRow(day))
            if metric == "question":
                row.questions += count
            elif metric == "out_of_scope":
                row.out_of_scope += count
            elif metric == "refused":
                row.refused += count
            elif metric == "check":
                row.checks[key] = row.checks.get(key, 0) + count
            elif metric == "quiz_play":
                row.quiz_plays += count
        for day, n in visitors:
            rows.setdefault(day, DayRow(day)).users = n
        kept = sorted(rows)[-days:] if days else sorted(rows)
        topics: dict[str, int] = defaultdict(int)
        for day, metric, key, count in counts:
            if metric == "question" and day in kept:
                topics[key] += count
        per_entry: dict[str, dict[str, int]] = {}
        for entry_id, vote, count in votes:
            per_entry.setdefault(entry_id, {"up": 0, "down": 0})[vote] = count
        return Summary(
            days=[rows[d] for d in kept],
            topics=dict(sorted(topics.items(), key=lambda item: (-item[1], item[0]))),
            feedback=dict(sorted(per_entry.items())),
        )


def _dialect_insert(conn):
    """INSERT ... ON CONFLICT for SQLite and PostgreSQL; None for other databases (update, then insert)."""
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return insert
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    return None


def open_stats(url: str, pseudonym: Pseudonymizer, today: Callable[[], dt.date] = utc_today) -> UsageStats:
    """Connect to the statistics database at `url` and create its tables if missing."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
        metadata.create_all(engine)
    except (ArgumentError, SQLAlchemyError, ImportError, OSError) as exc:
        raise StatsUnavailable(
            f"the statistics database could not be opened ({type(exc).__name__}). "
            "Check STATS_DATABASE_URL (default: sqlite:///<BOT_DATA_DIR>/stats.sqlite3)"
        ) from None
    return UsageStats(engine, pseudonym, today)


# Which adapters count (the one-off `ask` and `check` commands do not: they are for scripts).
COUNTED_FROM = "the Telegram bot, the terminal chat, the demo and the terminal quiz (not ask/check)"


def format_table(summary: Summary) -> str:
    """The plain-text table of `python -m bot stats`."""
    risks = ("high", "medium", "low")
    header = ["day", "questions", "out of scope", "refused", *(f"check {r}" for r in risks), "quiz", "users"]
    lines = ["  ".join(f"{h:>12}" for h in header)]
    for d in summary.days:
        cells = [d.day, d.questions, d.out_of_scope, d.refused, *(d.checks.get(r, 0) for r in risks)]
        cells += [d.quiz_plays, d.users]
        lines.append("  ".join(f"{c:>12}" for c in cells))
    if not summary.days:
        lines.append("(nothing counted yet)")
    lines += ["", f"counted from: {COUNTED_FROM}"]
    lines += ["", "questions per topic:"]
    lines += [f"  {topic:<24} {count:>6}" for topic, count in summary.topics.items()] or ["  (none)"]
    lines += ["", "feedback per entry (👍 / 👎):"]
    lines += [f"  {entry:<48} {v['up']:>4} / {v['down']:<4}" for entry, v in summary.feedback.items()] or [
        "  (none)"
    ]
    return "\n".join(lines)
