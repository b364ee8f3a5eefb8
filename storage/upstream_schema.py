"""The upstream's tables, shaped for a province: every primary key starts with ``school_id``.

Why ``school_id`` first everywhere: a province distributes these tables by school (Citus
``create_distributed_table('screenings', 'school_id')``); a distributed table's primary and unique keys must contain
the distribution column, and rows of one school then live on one worker, so a school's report is a local query.

Screenings are partitioned by ``day`` on PostgreSQL (declarative range partitions, one per day: storage.partitions).
A partitioned table's unique keys must contain the partition key too, hence ``(school_id, day, id)``. A record's day
never changes, so re-sending the same record still meets its own key and is ignored (``ON CONFLICT DO NOTHING``).
``(station_id, seq)`` is unique within a day by ``uq_up_screenings_station_seq``; across days it holds because one
station id belongs to one station (the ``stations`` registry, storage.stations) and a station's sequence only grows
with its clock: see storage.stations for the argument and the check the sync makes.

On SQLite (one school's own server) the same tables exist without partitions.
"""
from __future__ import annotations

from sqlalchemy import (Column, Date, Float, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text,
                        UniqueConstraint)

metadata = MetaData()

Day = String(10).with_variant(Date(), "postgresql")


def _school() -> Column:
    return Column("school_id", String(64), nullable=False)


schools = Table(
    "schools", metadata,
    Column("school_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, server_default=""),
    Column("expected_stations", Integer),  # set by the bureau (gate upstream school add); None: not declared
    Column("created_at", Float, nullable=False),
)

stations = Table(
    "stations", metadata,
    _school(),
    Column("station_id", String(64), nullable=False),
    Column("fingerprint", String(128)),  # the station key's fingerprint; None: claimed by the next sync (old data)
    Column("registered_at", Float, nullable=False),
    Column("last_sync_at", Float),
    Column("last_seq", Integer, nullable=False, server_default="0"),  # highest screening seq received
    PrimaryKeyConstraint("school_id", "station_id", name="pk_up_stations"),
)

screenings = Table(
    "screenings", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # the station's own sequence number: chain order
    Column("created_at", Float, nullable=False),
    Column("day", Day, nullable=False),
    Column("entrant_id", String(64)),
    Column("operator", String(64)),
    Column("follows", String(36)),
    Column("decision", String(8), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("threshold_c", Float, nullable=False),
    Column("temperature_c", Float),
    Column("mask", Text, nullable=False),
    Column("readings", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Column("session", String(64)),  # u0005: the check of the school day
    PrimaryKeyConstraint("school_id", "day", "id", name="pk_up_screenings"),
    UniqueConstraint("school_id", "station_id", "seq", "day", name="uq_up_screenings_station_seq"),
)

daily_reports = Table(
    "daily_reports", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("content", Text, nullable=False),
    PrimaryKeyConstraint("school_id", "id", name="pk_up_daily_reports"),
    Index("ix_up_daily_reports_day", "day", "school_id"),
)

audit_events = Table(
    "audit_events", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    PrimaryKeyConstraint("school_id", "id", name="pk_up_audit_events"),
)

calibrations = Table(
    "calibrations", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("sensor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("due", Float),
    Column("result", String(8), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("content", Text, nullable=False),
    PrimaryKeyConstraint("school_id", "id", name="pk_up_calibrations"),
)

clearances = Table(
    "clearances", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("fever_screening_id", String(36), nullable=False),
    Column("fever_at", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("cleared_by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    PrimaryKeyConstraint("school_id", "id", name="pk_up_clearances"),
)

cases = Table(  # u0007: follow-up case events (opened by a station, closed by a teacher or the school doctor)
    "cases", metadata,
    _school(),
    Column("id", String(36), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("event", String(8), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("class_name", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("session", String(64)),
    Column("reason", String(16), nullable=False),
    Column("screening_id", String(36)),
    Column("outcome", String(16)),
    Column("symptoms", Text, nullable=False),
    Column("onset", String(10)),
    Column("note", Text, nullable=False),
    Column("by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    PrimaryKeyConstraint("school_id", "id", name="pk_up_cases"),
    Index("ix_up_cases_school_day", "school_id", "day"),
)

# u0008: the school's roster, when its stations share it ([upstream] share_roster); insert-only versions, the newest
# (by sent_at) counts
roster_versions = Table(
    "roster_versions", metadata,
    _school(),
    Column("version", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("people", Integer, nullable=False),
    Column("sent_at", Float, nullable=False),
    PrimaryKeyConstraint("school_id", "version", name="pk_up_roster_versions"),
)

roster_people = Table(
    "roster_people", metadata,
    _school(),
    Column("version", String(64), nullable=False),
    Column("roster_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("class_name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    PrimaryKeyConstraint("school_id", "version", "roster_id", name="pk_up_roster_people"),
)

bureau_exports = Table(  # u0009: the district exports for auditors, one row per school included
    "bureau_exports", metadata,
    _school(),
    Column("export_id", String(36), nullable=False),
    Column("day_from", String(10), nullable=False),
    Column("day_to", String(10), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("format", String(8), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("exported_by", String(64), nullable=False),
    Column("at", Float, nullable=False),
    PrimaryKeyConstraint("school_id", "export_id", name="pk_up_bureau_exports"),
)

identity_table = Table(
    "gate_upstream_identity", metadata,
    Column("singleton", Integer, primary_key=True),
    Column("id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
)

TABLES = {"screening": screenings, "daily_report": daily_reports, "audit": audit_events, "calibration": calibrations,
          "clearance": clearances, "case": cases}


def key_columns(table: Table) -> tuple[str, ...]:
    """The conflict target of a record table: its primary key (school, [day,] id)."""
    return tuple(c.name for c in table.primary_key.columns)


def record_columns(table: Table) -> list[Column]:
    """The columns a station fills from its own log: all but ``school_id``, which comes from its config."""
    return [c for c in table.columns if c.name != "school_id"]
