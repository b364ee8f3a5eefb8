"""Engine and connection set-up: WAL, synchronous=FULL; reads begin DEFERRED, writes begin IMMEDIATE."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from storage.private import create_private, private_dir

# Execution option that marks a connection as a writer (storage.unit): its transactions take the write lock at BEGIN.
WRITE = "gate_write"


APP = "gate-station"  # the station's data folder under the user's data directory (platformdirs)


def default_db_path() -> Path:
    from platformdirs import user_data_dir  # only for the default place: gate screen's start-up (bench/cli_startup.py)

    return Path(user_data_dir(APP, appauthor=False)) / "gate.db"


def _in_default_folder(path: Path) -> bool:
    # The default folder is always named APP: a folder named otherwise is not it, without asking platformdirs.
    return path.parent.name == APP and path.parent == default_db_path().parent


def make_engine(path: str | os.PathLike, read_only: bool = False) -> Engine:
    path = Path(path)
    if read_only:
        # Auditors and `gate verify` look without touching: no migration, no write lock, no new file.
        engine = create_engine(f"sqlite+pysqlite:///file:{path.resolve()}?mode=ro&uri=true", future=True)
    else:
        # Private at rest: a new folder 0700 (the station's own data folder tightened), a new log 0600 before
        # SQLite opens it, so its WAL and SHM (created with the log's mode) are 0600 too. An existing file is
        # tightened by ScreeningLog once it proved to be a station log (a file refused is left as it was).
        private_dir(path.parent, tighten=_in_default_folder(path))
        create_private(path)
        engine = create_engine(f"sqlite+pysqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so it can choose DEFERRED or IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit that returned survives power loss; a decision is shown only after it.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A read (DEFERRED) sees one snapshot beside the writer and never takes the write lock, so an auditor's
        # hour-long verify cannot stop the gate. A write takes the lock before it reads anything (the chain head),
        # so two writers cannot fork a chain and no write fails half-way upgrading its lock.
        write = conn.get_execution_options().get(WRITE) and not read_only
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (and pool) whose transactions begin IMMEDIATE; only the unit of work uses it."""
    return engine.execution_options(**{WRITE: True})
