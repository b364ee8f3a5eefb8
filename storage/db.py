"""Engine and connection set-up: WAL, synchronous=FULL and an immediate write lock on every transaction."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("gate-station", appauthor=False)) / "gate.db"


def make_engine(path: str | os.PathLike, read_only: bool = False) -> Engine:
    path = Path(path)
    if read_only:
        # Auditors and `gate verify` look without touching: no migration, no write lock, no new file.
        engine = create_engine(f"sqlite+pysqlite:///file:{path.resolve()}?mode=ro&uri=true", future=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite+pysqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own would be deferred).
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
        # IMMEDIATE takes the write lock before the chain head is read, so two writers cannot fork the chain.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
