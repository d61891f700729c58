"""The throwaway PostgreSQL cluster that the statistics tests use (skipped when PostgreSQL is absent)."""

from __future__ import annotations

import sqlalchemy


def test_postgres_fixture_accepts_connections_and_keeps_data(postgres_url):
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.begin() as db:
            assert db.execute(sqlalchemy.text("select 1")).scalar_one() == 1
            db.execute(sqlalchemy.text("create table if not exists probe (n integer)"))
            db.execute(sqlalchemy.text("insert into probe values (41), (1)"))
        with engine.connect() as db:
            assert db.execute(sqlalchemy.text("select sum(n) from probe")).scalar_one() == 42
            assert db.dialect.name == "postgresql"
    finally:
        engine.dispose()
