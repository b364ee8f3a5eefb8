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

from sqlalchemy import (BigInteger, Column, Date, Float, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table,
                        UniqueConstraint)
from sqlalchemy.types import TypeEngine

from storage import models as log

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
    Column("last_sync_at", Float),  # when the station's sync says it synced, by its clock: shown, never believed
    Column("synced_at", Float),  # when it did, by the server's clock (u0018's trigger): what the rules read
    Column("last_seq", Integer, nullable=False, server_default="0"),  # highest screening seq received
    PrimaryKeyConstraint("school_id", "station_id", name="pk_up_stations"),
)

def for_school(local: Table, key: tuple[str, ...] = ("id",), leave_out: tuple[str, ...] = (), *,
               types: dict[str, TypeEngine] | None = None, extra: tuple = (), into: MetaData = metadata) -> Table:
    """The upstream copy of one of the log's tables (storage.models): ``school_id`` first, then the log's columns
    with their types and nullability, under a primary key that starts with the school.

    The log's own keys, defaults and indexes stay local: upstream, ``seq`` is the station's sequence (one of many
    stations'), not a key. ``leave_out`` names what never goes upstream (a MAC under the station's own key, columns
    the log derives for its own queries); a column added to the log comes upstream unless left out here, and the
    schema test then asks for its upstream migration."""
    types = types or {}
    columns = [Column(c.name, types.get(c.name, c.type), nullable=c.nullable)
               for c in local.columns if c.name not in leave_out]
    return Table(local.name, into, _school(), *columns,
                 PrimaryKeyConstraint("school_id", *key, name=f"pk_up_{local.name}"), *extra)


# The log's derived columns (source, mask_state, entrant_key) and its MACs under the station key stay local.
screenings = for_school(log.SCREENINGS, ("day", "id"), ("source", "mask_state", "entrant_key"), types={"day": Day},
                        extra=(UniqueConstraint("school_id", "station_id", "seq", "day",
                                                name="uq_up_screenings_station_seq"),))
daily_reports = for_school(log.DAILY_REPORTS, leave_out=("mac",),
                           extra=(Index("ix_up_daily_reports_day", "day", "school_id"),))
audit_events = for_school(log.AUDIT_EVENTS)
calibrations = for_school(log.CALIBRATIONS, leave_out=("mac",))
clearances = for_school(log.CLEARANCES)
# u0007: follow-up case events (opened by a station, closed by a teacher or the school doctor)
cases = for_school(log.CASES, extra=(Index("ix_up_cases_school_day", "school_id", "day"),))

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

school_days = Table(  # u0012: per school and day, what the bureau counts from screenings (kept by a trigger, PG)
    "school_days", metadata,
    _school(),
    Column("day", Day, nullable=False),
    Column("screened", BigInteger, nullable=False),
    Column("confirmed_fevers", BigInteger, nullable=False),
    Column("no_mask_refusals", BigInteger, nullable=False),
    PrimaryKeyConstraint("school_id", "day", name="pk_up_school_days"),
    Index("ix_up_school_days_day", "day", "school_id"),  # u0014: the bureau reads one day of every school
)

role_schools = Table(  # u0010: the school each station role may see and write ('*': every school, the bureau)
    "gate_role_schools", metadata,
    Column("role_name", String(64), nullable=False),
    Column("school_id", String(64), nullable=False),
    Column("station_id", String(64)),  # u0013: the one gate the role sends for (NULL: any gate of the school)
    PrimaryKeyConstraint("role_name", "school_id", name="pk_up_gate_role_schools"),
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
