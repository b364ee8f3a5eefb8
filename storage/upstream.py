"""The central (upstream) database: many schools' stations' screenings, daily reports and audit events, keyed by
school and the station-made UUID (tables: storage.upstream_schema). PostgreSQL in production (screenings partitioned
by day: storage.partitions); an SQLite file serves a single school. The station creates and migrates this schema itself (storage/upstream_migrations, version table ``gate_upstream_version``)."""
from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from storage.upstream_schema import (TABLES, audit_events, bureau_exports, calibrations, cases,  # noqa: F401
                                     clearances, daily_reports, identity_table, key_columns, metadata,
                                     record_columns, school_days, schools, screenings, stations)

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("upstream_migrations")
VERSION_TABLE = "gate_upstream_version"


# libpq's TCP settings (ignored on a Unix socket): an idle connection whose peer is gone is found in 10 + 3 × 5 s,
# and data the peer's kernel has not acknowledged for 30 s ends the connection; a frozen server process is not
# found so (its kernel answers for it): storage.upstream_answer bounds the bureau's reads for that.
TCP_OPTIONS = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
               "tcp_user_timeout": 30_000}


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


def make_upstream_engine(url: str, connect_timeout: float = 5.0, lock_wait_s: float | None = None,
                         answer_within_s: float | None = None) -> Engine:
    """An engine for the upstream; a URL with a password is refused (storage.upstream_url), and a PostgreSQL
    upstream on another machine is reached with sslmode=verify-full unless the URL says otherwise. ``lock_wait_s``:
    no statement waits longer for a lock (storage.upstream_locks); ``answer_within_s``: no use of a connection
    waits longer for the server's answer (storage.upstream_answer), for reads only. Over TCP, a dead network or
    server machine is found by keepalives and tcp_user_timeout (``TCP_OPTIONS``) rather than after the kernel's
    quarter of an hour of retries."""
    from storage.upstream_locks import option
    from storage.upstream_url import check, sslmode

    mode = sslmode(check(url))
    url = normalise_url(url)
    args = {}
    if url.startswith("postgresql"):
        args = {"connect_timeout": int(max(1, connect_timeout)), **option(lock_wait_s), **TCP_OPTIONS}
        if mode:
            args["sslmode"] = mode
    bounded = answer_within_s is not None and url.startswith("postgresql")
    engine = create_engine(url, connect_args=args, pool_pre_ping=not bounded, future=True)
    if bounded:
        from storage.upstream_answer import bound_answers

        bound_answers(engine, answer_within_s)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # the wait first: switching to WAL takes a lock too (another thread migrating a new file holds one)
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()
    return engine


def _alembic() -> "AlembicConfig":
    # Alembic (and Mako under it) only where the schema is migrated: the bureau's read-only commands never load it
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    # Alembic's commands keep their context in module globals (alembic.context, alembic.op): two threads of one process
    # migrating at once (several syncs in one process against a new upstream) took each other's away (KeyError
    # 'config', the sync's thread ended); on a new SQLite file the second thread's first read also met the first's
    # write lock. One thread at a time here, its check of the schema included; the database's own lock orders the
    # processes.
    with _ONE_THREAD_MIGRATES:
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if current == head:
        return
    cfg = _alembic()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            one_migrator(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


_ONE_THREAD_MIGRATES = threading.Lock()


FIRST_MIGRATION_LOCK = 73173  # PostgreSQL advisory lock: only before the version table exists


def migration_busy(engine: Engine, wait_s: float, then: str, what: str = "migrating the upstream's schema") -> str:
    """The one line for a migration that waited ``wait_s`` s in vain: who holds which of the upstream's tables (a
    migration may alter any of them, and any open read of one, a pupil's too, stands in its way) and how to end it."""
    from storage import upstream_locks as locks

    like = [VERSION_TABLE, "screenings%", *sorted(metadata.tables)]
    return locks.busy(engine, what, wait_s, then, like=like, key=FIRST_MIGRATION_LOCK, table="the upstream's schema")


def one_migrator(conn) -> None:  # noqa: ANN001 - a Connection
    """One migration at a time (several stations may start at once against a new database: one migrates, the others
    wait). Once the version table exists, the lock is that table's in SHARE ROW EXCLUSIVE mode, which only a role
    that may change the table (its owner) can take: a station's or the bureau's role may only read it, and an open
    read of theirs does not stand in the way (an advisory lock's number, any role may take and hold, and the owner's
    migrations and `gate upstream maintain` waited behind a pupil). Before the first migration there is no table, and
    no station role has been given anything yet: then the advisory lock."""
    if inspect(conn).has_table(VERSION_TABLE):
        conn.exec_driver_sql(f"LOCK TABLE {VERSION_TABLE} IN SHARE ROW EXCLUSIVE MODE")
    else:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({FIRST_MIGRATION_LOCK})")


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


def current_revision(conn) -> str | None:  # noqa: ANN001 - a Connection
    """The upstream's schema revision (None: no version table, a database never migrated), read with one query."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def newest_revision() -> str:
    """The newest upstream migration's revision, from the file names (a test holds that it is Alembic's head)."""
    from storage.migrate import newest_file_revision

    return newest_file_revision(MIGRATIONS)


def peek_identity(engine: Engine) -> str | None:
    """The upstream's id without creating or migrating anything (None for a database never used as an upstream):
    what a station checks before it sends its log to an upstream it has never synced with."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(identity_table.name):
            return None
        return conn.execute(select(identity_table.c.id).where(identity_table.c.singleton == 1)).scalar()
