"""Shared by the security attacks: the `gate` command line called in-process, and a log from before key files."""
import io
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from gate.cli import main


@pytest.fixture
def gate(capsys, monkeypatch):
    """``gate(*argv, stdin="")`` -> (exit code, stdout, stderr), in this process."""
    def run(*argv, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
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


def legacy_log(path: Path, secret: str | None = "ab" * 32) -> None:
    """A log as the version before key files left it (schema 0008, the pseudonym secret in its own table)."""
    from alembic import command

    from storage.migrate import alembic_config

    engine = create_engine(f"sqlite+pysqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    engine.dispose()
    if secret is not None:
        con = sqlite3.connect(path)
        con.execute("INSERT INTO station_secret (name, value) VALUES ('pseudonym', ?)", (secret,))
        con.commit()
        con.close()
