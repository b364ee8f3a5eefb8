"""The tables every query is written against (storage.models) are the tables the migrations build."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table

from storage.log import ScreeningLog
from storage.models import METADATA


def test_the_tables_queries_use_are_the_tables_the_migrations_build(tmp_path):
    log = ScreeningLog(tmp_path / "gate.db")
    try:
        with log.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), METADATA) == []
    finally:
        log.close()


def test_a_column_missing_from_the_migrations_is_seen(tmp_path):
    extra = MetaData()
    for table in METADATA.tables.values():
        table.to_metadata(extra)
    Table("screenings", extra, Column("nickname", String(20)), extend_existing=True)
    log = ScreeningLog(tmp_path / "gate.db")
    try:
        with log.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), extra)
    finally:
        log.close()
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "screenings", "nickname")]
