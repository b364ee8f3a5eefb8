"""The central (upstream) database: many stations' screenings, daily reports and audit events, keyed by the
station-made UUID. PostgreSQL in production; an SQLite file serves a single school. The station creates and
migrates this schema itself (storage/upstream_migrations, version table ``gate_upstream_version``)."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (Column, Engine, Float, Index, Integer, MetaData, String, Table, Text, create_engine, event,
                        select)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

screenings = Table(
    "screenings", metadata,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # the station's own sequence number: chain order
    Column("created_at", Float, nullable=False),
    Column("day", String(10), nullable=False),
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
    Index("ix_up_screenings_station_seq", "station_id", "seq"),
)

daily_reports = Table(
    "daily_reports", metadata,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("content", Text, nullable=False),
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

calibrations = Table(
    "calibrations", metadata,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("sensor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("due", Float),
    Column("result", String(8), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("content", Text, nullable=False),
)

clearances = Table(
    "clearances", metadata,
    Column("id", String(36), primary_key=True),
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
)

identity_table = Table(
    "gate_upstream_identity", metadata,
    Column("singleton", Integer, primary_key=True),
    Column("id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
)

TABLES = {"screening": screenings, "daily_report": daily_reports, "audit": audit_events, "calibration": calibrations,
          "clearance": clearances}
MIGRATIONS = Path(__file__).with_name("upstream_migrations")
VERSION_TABLE = "gate_upstream_version"


def normalise_url(url: str) -> str:
    """A plain postgresql:// URL means psycopg 3 here (SQLAlchemy would otherwise look for psycopg2)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and status."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as the user gave it, minus nothing secret
        return url.split("@")[-1]


def make_upstream_engine(url: str, connect_timeout: float = 5.0) -> Engine:
    """An engine for the upstream; a URL with a password is refused (storage.upstream_url), and a PostgreSQL
    upstream on another machine is reached with sslmode=verify-full unless the URL says otherwise."""
    from storage.upstream_url import check, sslmode

    mode = sslmode(check(url))
    url = normalise_url(url)
    args = {}
    if url.startswith("postgresql"):
        args = {"connect_timeout": int(max(1, connect_timeout))}
        if mode:
            args["sslmode"] = mode
    engine = create_engine(url, connect_args=args, pool_pre_ping=True, future=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()
    return engine


def _alembic() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if current == head:
        return
    cfg = _alembic()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several stations may start at once against a new database: one migrates, the others wait.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(73173)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def identity(engine: Engine) -> str:
    """This upstream database's own id (made by migration u0004; made again here if someone deleted it).

    A checkpoint is only as good as the database it was made against: a trial server at another URL, or a new empty
    database put at the same URL, has a different id, so what was sent there confirms nothing here."""
    query = select(identity_table.c.id).where(identity_table.c.singleton == 1)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(identity_table.insert().values(singleton=1, id=str(uuid.uuid4()), created_at=time.time()))
    except IntegrityError:
        pass  # another station made it first: theirs is the one
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()
