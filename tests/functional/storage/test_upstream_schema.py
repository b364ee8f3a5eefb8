"""The upstream tables every sync query is written against (storage.upstream_schema, derived from the log's tables)
are the tables the frozen upstream migrations build, on SQLite and on PostgreSQL: columns, types, nullability,
indexes, unique keys and primary keys. The migrations restate the schema as it was declared by hand, so these tests
are the before/after comparison of deriving it."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect

from storage import models as log
from storage import upstream
from storage import upstream_schema as up
from tests.pg import unavailable_reason


def differences(url: str, target: MetaData = up.metadata) -> list:
    """What the migrated database lacks or has beyond ``target`` (day partitions are the database's own)."""
    engine = upstream.make_upstream_engine(url)
    upstream.upgrade(engine)
    keep = lambda obj, name, kind, reflected, _other: not (  # noqa: E731
        kind == "table" and reflected and name.startswith("screenings_"))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": upstream.VERSION_TABLE,
                                                              "include_object": keep})
            diffs = compare_metadata(context, target)
            seen = inspect(conn)
            keys = {name: (seen.get_pk_constraint(name)["constrained_columns"], table.primary_key.columns.keys())
                    for name, table in target.tables.items()}
    finally:
        engine.dispose()
    return diffs + [("primary key", name, built, declared) for name, (built, declared) in keys.items()
                    if built != declared]


def others_and(build) -> MetaData:
    """The upstream's tables with one of them built again by ``build(into)`` (a changed declaration)."""
    target = MetaData()
    changed = build(target)
    for table in up.metadata.tables.values():
        if table.name != changed.name:
            table.to_metadata(target)
    return target


def test_the_upstream_tables_are_what_the_migrations_build_on_sqlite(tmp_path):
    assert differences(f"sqlite:///{tmp_path / 'upstream.db'}") == []


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_the_upstream_tables_are_what_the_migrations_build_on_postgresql(pg):
    assert differences(pg.create_db("upstream_schema")) == []


def test_a_column_added_to_the_log_comes_upstream_and_asks_for_its_migration(tmp_path):
    grown = log.AUDIT_EVENTS.to_metadata(MetaData())
    grown.append_column(Column("device", String(20)))
    target = others_and(lambda into: up.for_school(grown, into=into))
    diffs = differences(f"sqlite:///{tmp_path / 'upstream.db'}", target)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "audit_events", "device")]


def test_every_record_table_starts_with_the_school_and_keeps_the_log_columns_it_sends():
    for kind, table in up.TABLES.items():
        local = log.METADATA.tables[table.name]
        assert table.columns.keys()[0] == "school_id" and table.primary_key.columns.keys()[0] == "school_id"
        sent = [c.name for c in up.record_columns(table)]
        assert sent == [c for c in local.columns.keys() if c in sent], kind  # the log's order, school first
        assert set(sent) <= set(local.columns.keys()), kind
    # What stays on the station: its MACs under the station key and the columns the log derives for itself.
    assert "mac" not in up.calibrations.c and "mac" not in up.daily_reports.c
    assert not {"source", "mask_state", "entrant_key"} & set(up.screenings.c.keys())
    assert not up.screenings.c.seq.primary_key and not up.screenings.c.seq.nullable


def test_a_primary_key_without_the_school_first_is_seen(tmp_path):
    rekeyed = others_and(lambda into: up.for_school(log.CALIBRATIONS, ("station_id", "id"), ("mac",), into=into))
    diffs = differences(f"sqlite:///{tmp_path / 'upstream.db'}", rekeyed)
    assert diffs == [("primary key", "calibrations", ["school_id", "id"], ["school_id", "station_id", "id"])]
