"""Shared by the security attacks: the `gate` command line called in-process, and a log from before key files."""
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.support import run_gate


@pytest.fixture
def gate(capsys, monkeypatch):
    """``gate(*argv, stdin="")`` -> (exit code, stdout, stderr), in this process (tests/support.run_gate)."""
    def run(*argv, stdin: str = "") -> tuple[int, str, str]:
        r = run_gate(*argv, input=stdin, newline="")
        return r.returncode, r.stdout, r.stderr
    return run


@pytest.fixture
def umask():
    """``umask(0o022)`` sets the process umask for the test; the old one is restored after it."""
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask: int) -> None:
        os.umask(mask)
    yield set_
    os.umask(old)


def log_at_revision(path: Path, revision: str) -> None:
    """A new log with the schema as migration `revision` left it: what an older release wrote."""
    from alembic import command

    from storage.migrate import alembic_config

    engine = create_engine(f"sqlite+pysqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def legacy_log(path: Path, secret: str | None = "ab" * 32) -> None:
    """A log as the version before key files left it (schema 0008, the pseudonym secret in its own table)."""
    log_at_revision(path, "0008")
    if secret is not None:
        con = sqlite3.connect(path)
        con.execute("INSERT INTO station_secret (name, value) VALUES ('pseudonym', ?)", (secret,))
        con.commit()
        con.close()


def legacy_rows(path: Path, n: int, users: tuple[tuple[str, str, str], ...] = ()) -> list[str]:
    """``n`` screenings on a plain SHA-256 chain and users with unpeppered PIN hashes, written into a log from
    before key files (as the old version stored them); returns the screenings' ids."""
    import hashlib
    import secrets
    import time

    from domain import Decision, MaskResult, MaskState, Reading, Screening
    from storage import chain
    from storage.records import HASHED_COLUMNS, screening_content, screening_values

    DERIVED_COLUMNS = ("source", "mask_state")  # the derived columns of that schema (entrant_key came in 0013)
    con = sqlite3.connect(path)
    cols = (*HASHED_COLUMNS, *DERIVED_COLUMNS, "prev_hash", "row_hash")
    prev, ids = chain.GENESIS, []
    for i in range(n):
        r = Reading(object_c=36.5, body_c=36.5, ambient_c=21.5, source="gun-1", ts=time.time() - n + i)
        s = Screening("old-gate", (r,), MaskResult(MaskState.YES, 0.9, "camera/svm"), Decision.ADMIT, ("normal",),
                      "ok", 37.3, entrant_id=f"P{i}", operator="duty", created_at=time.time() - n + i)
        values = screening_values(s)
        h = chain.link(prev, screening_content(s))  # plain SHA-256, as before key files
        con.execute(f"INSERT INTO screenings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [values[c] for c in (*HASHED_COLUMNS, *DERIVED_COLUMNS)] + [prev, h])
        prev = h
        ids.append(s.id)
    for name, role, pin in users:
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(pin.encode(), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
        con.execute("INSERT INTO users (name, role, pin_hash, failures, disabled, created_at) VALUES (?,?,?,0,0,?)",
                    (name, role, f"scrypt${2 ** 14}$8$1${salt.hex()}${digest.hex()}", time.time()))
    con.commit()
    con.close()
    return ids


def sql(db: Path, *statements: str, params: tuple = ()) -> None:
    """Edit the log file by hand, as a pupil with the file would."""
    con = sqlite3.connect(db)
    for s in statements:
        con.execute(s, params)
    con.commit()
    con.close()
