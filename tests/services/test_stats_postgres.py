"""Statistics of several replicas counted in one real PostgreSQL database (STATS_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import MetaData, create_engine, select

from bot.services.pseudonym import Pseudonymizer
from bot.services.stats import metadata, open_stats
from bot.settings import Settings

PEPPER = b"a-shared-pepper-for-the-replicas"
DAY = dt.date(2026, 11, 30)


def _fresh(url: str) -> None:
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()


def test_two_replicas_count_into_one_postgres_database(postgres_url):
    _fresh(postgres_url)
    settings = Settings.from_env({"STATS_DATABASE_URL": postgres_url})
    assert settings.stats_url == postgres_url
    replicas = [open_stats(settings.stats_url, Pseudonymizer(PEPPER), lambda: DAY) for _ in range(2)]

    def work(n: int) -> None:
        stats = replicas[n % 2]
        stats.count_answer("fake_sms", True, False, 5000 + n % 7)
        stats.count_check("high", 5000 + n % 7)
        stats.count_feedback("fake-sms-credit-limit-gang", "up")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(200)))

    for stats in replicas:  # both replicas read the same totals: nothing was lost in the races
        summary = stats.summary()
        [day] = summary.days
        assert (day.questions, day.checks, day.users) == (200, {"high": 200}, 7)
        assert summary.feedback == {"fake-sms-credit-limit-gang": {"up": 200, "down": 0}}


def test_the_postgres_tables_hold_no_raw_ids(postgres_url):
    _fresh(postgres_url)
    stats = open_stats(postgres_url, Pseudonymizer(PEPPER), lambda: DAY)
    stats.count_answer("delivery_labels", True, False, 987654321)
    engine = create_engine(postgres_url)
    tables = MetaData()
    tables.reflect(engine)  # every table in the database, not only the ones the code declares
    assert {"daily_counts", "daily_visitors", "feedback"} <= set(tables.tables)
    with engine.connect() as db:
        for table in tables.tables.values():
            for row in db.execute(select(table)):
                assert all("987654321" not in str(value) for value in row)
    engine.dispose()
