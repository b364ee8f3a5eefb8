"""The one API the station writes through: units of work (screenings, audit events, outbox), reads, verification.

Reads begin DEFERRED and see one snapshot beside the writer (WAL); writes happen only inside ``unit()``, one
IMMEDIATE transaction each. Every failure is a ``StorageError`` (also known as ``LogError``).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain import Screening
from storage.chain import Chain, Digest, sha256
from storage.db import make_engine, writer
from storage.errors import LogError, StorageError, why
from storage.keys import StationKey, key_path_for
from storage.private import log_files, private_file
from storage.log_key import check_binding, open_key
from storage.seals import ChainSeal, sealed_write
from storage.migrate import current_revision, newest_file_revision, unknown_revision, upgrade
from storage.tables.log import AUDIT_EVENTS as AUDIT, SCREENINGS
from storage.records import (DERIVED_COLUMNS, HASHED_COLUMNS, JSON_COLUMNS, audit_content, audit_problem,  # noqa: F401
                             clearance_content, derived, derived_disagree, local_day, row_content,
                             screening_content, screening_from_row, screening_problem, screening_values)
from storage.unit import UnitOfWork

if TYPE_CHECKING:
    from domain.entrant import Entrant
    from storage.verify_result import VerifyResult

_DB_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError)
_why = why  # the name other modules used before storage.errors


def _refuse_older_schema(engine, path: Path) -> None:
    """A read-only look cannot upgrade a log an older version wrote (nor read it with today's tables)."""
    revision = current_revision(engine)
    if (problem := unknown_revision(revision, path)) is not None:
        raise StorageError(problem)
    if revision is not None and revision != newest_file_revision():
        raise StorageError(f"{path} was written by an older version of the station (schema {revision}): open it for "
                           f"writing once to upgrade it (e.g. gate audit list --db {path}); its chains are checked "
                           "and keyed then")


class ScreeningLog:
    """Durable, tamper-evident log of screenings (and the station's other records) in one SQLite file.

    ``key_path`` is the station key file (default ``<log>.key`` beside the log, see storage.keys and
    storage.log_key); ``key`` is the loaded key. The chains are HMACs under its chain key, and their ends are sealed
    (storage.seals); ``digest`` overrides the chains' digest (a test's own key). Only a log from before key files,
    opened read-only, is read with plain SHA-256 chains (``key`` None).
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False, digest: Digest | None = None,
                 key_path: str | os.PathLike | None = None):
        self.path = Path(path)
        self.read_only = read_only
        self.key_path = Path(key_path) if key_path else key_path_for(self.path)
        self.key: StationKey | None = None
        # Threads of this process write one after another (the UI's workers, the headless loop); other processes
        # wait on SQLite's own write lock.
        self._write_lock = threading.Lock()
        self._open_unit = threading.local()
        try:
            self.engine = make_engine(self.path, read_only=read_only)
            self._writer = writer(self.engine)
            self.key, keyed = open_key(self.engine, self.path, self.key_path, read_only)
            if read_only:
                _refuse_older_schema(self.engine, self.path)
            if not read_only:
                upgrade(self.engine, self.key)
                self.key, keyed = self.key.upgraded(), True
            if self.key is not None:
                with self.engine.connect() as conn:
                    check_binding(conn, self.key, self.path)
            self._chains(digest or (self.key.chain_digest if keyed else sha256),
                         ChainSeal(self.key) if keyed else None)
            # Known now to be a station log: one copied back with loose modes is tightened, with the WAL and SHM
            # SQLite made beside it (read-only opens included: `gate verify` on a restored copy).
            for f in log_files(self.path):
                private_file(f)
        except _DB_ERRORS as exc:
            self._dispose()
            raise StorageError(f"cannot open the log at {self.path}: {why(exc)}") from exc
        except StorageError:
            self._dispose()
            raise

    def _chains(self, digest: Digest, seal: ChainSeal | None) -> None:
        self.screening_chain = Chain("screenings", SCREENINGS, row_content, digest=digest, check=screening_problem,
                                     what="screening", seal=seal)
        self.audit_chain = Chain("audit", AUDIT, audit_content, digest=digest, what="audit event", seal=seal,
                                 check=audit_problem)
        self._more_chains: dict[str, Chain] = {}

    @property
    def clearance_chain(self) -> Chain:
        """The chain of clearances, made on first use like the other chained tables (its table is not built for a
        screening that names no one: gate screen's start-up, bench/cli_startup.py)."""
        from storage.tables.cases import CLEARANCES

        return self.chain(CLEARANCES, clearance_content, "clearance")

    def chain(self, table: Table, content: Callable[[Mapping], dict], what: str) -> Chain:
        """The chain of one more chained table of this log (case events, records pulled from the other gates):
        made on first use with the log's digest, its end sealed like the log's own chains (storage.seals)."""
        found = self._more_chains.get(table.name)
        if found is None:
            found = self._more_chains[table.name] = Chain(table.name, table, content, digest=self.audit_chain.digest,
                                                          what=what, seal=self.audit_chain.seal)
        return found

    def _dispose(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()

    def close(self) -> None:
        with self._write_lock:
            self.engine.dispose()

    def __enter__(self) -> "ScreeningLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------------------------------
    @contextmanager
    def unit(self, what: str = "the change") -> Iterator[UnitOfWork]:
        """One write transaction: everything written inside commits together, or nothing does.

        A unit opened inside another on the same thread joins it. A database failure raises StorageError
        ("<what> was not saved: ..."); any other exception rolls back and passes through unchanged.
        """
        outer = getattr(self._open_unit, "unit", None)
        if outer is not None:
            yield outer
            return
        with self._write_lock:
            conn = None
            try:
                conn = self._writer.connect()
                with conn.begin():
                    self._open_unit.unit = UnitOfWork(conn, self.screening_chain, self.audit_chain)
                    try:
                        yield self._open_unit.unit
                    finally:
                        self._open_unit.unit = None
            except _DB_ERRORS as exc:
                if conn is not None:
                    conn.invalidate()  # the next unit starts on a fresh connection (disk freed, file fixed)
                raise StorageError(f"{what} was not saved: {why(exc)}") from exc
            finally:
                if conn is not None:
                    conn.close()

    @contextmanager
    def read(self, what: str = "the log") -> Iterator[Connection]:
        """One read transaction (DEFERRED: no write lock; one snapshot for as long as it lasts)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except _DB_ERRORS as exc:
            raise StorageError(f"cannot read {what} from {self.path.name}: {why(exc)}") from exc

    # -- writing -------------------------------------------------------------------------------------------------
    def append(self, s: Screening) -> Screening:
        """Store ``s``; returns only after the commit returned (the caller may then show the decision)."""
        with self.unit(f"screening {s.id}") as u:
            return u.screening(s)

    def add_entrants(self, entrants: list[Entrant]) -> None:
        from storage.tables.roster import ENTRANTS  # the roster's tables: only when the roster is used

        with self.unit("the roster") as u, sealed_write(u.conn, self.key, "entrants"):
            for e in entrants:
                u.conn.execute(ENTRANTS.delete().where(ENTRANTS.c.roster_id == e.roster_id))
                u.conn.execute(ENTRANTS.insert(), {"roster_id": e.roster_id, "name": e.name, "group": e.group,
                                                   "kind": e.kind.value})

    # -- reading -------------------------------------------------------------------------------------------------
    def get(self, screening_id: str) -> Screening | None:
        with self.read("a screening") as conn:
            row = conn.execute(select(SCREENINGS).where(SCREENINGS.c.id == screening_id)).mappings().first()
        return None if row is None else screening_from_row(row)

    def recent(self, limit: int = 20) -> list[Screening]:
        with self.read("recent screenings") as conn:
            rows = conn.execute(
                select(SCREENINGS).order_by(SCREENINGS.c.seq.desc()).limit(limit)).mappings().all()
        return [screening_from_row(r) for r in rows]

    def ids(self) -> set[str]:
        with self.read("screening ids") as conn:
            return set(conn.execute(select(SCREENINGS.c.id)).scalars())

    def count(self) -> int:
        with self.read("the number of screenings") as conn:
            return conn.execute(select(func.count()).select_from(SCREENINGS)).scalar_one()

    def day_counts(self, day: str | None = None) -> dict[str, int]:
        """Today's counts for the duty screen: people screened (first screenings) and each decision."""
        day = day or local_day(time.time())
        with self.read("today's counts") as conn:
            rows = conn.execute(
                select(SCREENINGS.c.decision, func.count()).where(SCREENINGS.c.day == day)
                .group_by(SCREENINGS.c.decision)).all()
            people = conn.execute(
                select(func.count()).select_from(SCREENINGS)
                .where(SCREENINGS.c.day == day, SCREENINGS.c.follows.is_(None))).scalar_one()
        counts = {"screened": people, "admit": 0, "deny": 0, "retest": 0}
        counts.update({d: n for d, n in rows})
        return counts

    def head(self) -> tuple[str, int]:
        """The screening chain's head (the purge anchor when no row is left) and its rows; no verification."""
        with self.read("the chain head") as conn:
            return self.screening_chain.head(conn)

    def entrant(self, roster_id: str) -> Entrant | None:
        from storage.tables.roster import ENTRANTS  # the roster's tables: only when someone is named

        with self.read("the roster") as conn:
            row = conn.execute(select(ENTRANTS).where(ENTRANTS.c.roster_id == roster_id)).mappings().first()
        if row is None:
            return None
        # loaded when needed: gate screen's start-up (bench/cli_startup.py)
        from domain.entrant import Entrant, EntrantKind

        return Entrant(row["roster_id"], row["name"], row["group"], EntrantKind(row["kind"]))

    # -- verifying -----------------------------------------------------------------------------------------------
    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyResult:
        """Recompute the screening chain from its start (or purge anchor); the first row that does not match is
        named. One read transaction: it never holds the write lock, however long it takes."""
        with self.read("the screenings to verify") as conn:
            return self.screening_chain.verify(conn, progress=progress)

    def verify_audit(self, progress: Callable[[int], None] | None = None) -> VerifyResult:
        with self.read("the audit trail to verify") as conn:
            return self.audit_chain.verify(conn, progress=progress)


__all__ = ["LogError", "StorageError", "ScreeningLog", "UnitOfWork", "local_day"]
