"""The one API the station writes through: append a screening (durably, hash-chained, queued for sync), read, verify."""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from domain import Entrant, EntrantKind, Screening
from storage import chain
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import EntrantRow, OutboxRow, ScreeningRow
from domain.errors import StorageFailure

SCREENINGS = ScreeningRow.__table__
OUTBOX = OutboxRow.__table__
ENTRANTS = EntrantRow.__table__
JSON_COLUMNS = ("reasons", "mask", "readings")
# What the chain hashes, fixed for good: a column added later must not change the hash of rows already written.
HASHED_COLUMNS = ("id", "station_id", "created_at", "day", "entrant_id", "operator", "follows", "decision", "reasons",
                  "message", "threshold_c", "temperature_c", "mask", "readings")
DERIVED_COLUMNS = ("source", "mask_state")


def derived(content: Mapping) -> dict:
    """Columns computed from the hashed content, kept for fast queries."""
    readings = content["readings"]
    return {"source": readings[-1].get("source") if readings else None,
            "mask_state": (content["mask"] or {}).get("state")}


class LogError(StorageFailure):
    """The log could not be written or read; the station must not admit anyone while this lasts."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    head: str
    bad_seq: int | None = None
    bad_id: str | None = None
    detail: str = ""


def _json(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def row_content(row: Mapping) -> dict:
    """What the chain hashes for a stored row: every column but the sequence number and the hashes themselves."""
    return {k: (json.loads(row[k]) if k in JSON_COLUMNS else row[k]) for k in HASHED_COLUMNS}


_STORED = (*HASHED_COLUMNS, *DERIVED_COLUMNS, "prev_hash", "row_hash")
_INSERT_SCREENING = "INSERT INTO screenings ({}) VALUES ({})".format(
    ", ".join(_STORED), ", ".join(f":{c}" for c in _STORED))
_INSERT_OUTBOX = "INSERT INTO outbox (kind, record_id, created_at) VALUES (?, ?, ?)"
# The newest row's hash; with no rows left after a purge, the anchor that keeps the last purged one.
_HEAD = ("SELECT coalesce((SELECT row_hash FROM screenings ORDER BY seq DESC LIMIT 1), "
         "(SELECT last_purged_hash FROM chain_anchors WHERE chain = 'screenings'))")


def local_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def screening_values(s: Screening) -> dict:
    """Column values as stored (JSON columns as text)."""
    content = screening_content(s)
    return {**{k: (_json(v) if k in JSON_COLUMNS else v) for k, v in content.items()}, **derived(content)}


def screening_content(s: Screening) -> dict:
    """Column values with JSON columns still as Python objects: exactly what the chain hashes."""
    c = s.content()
    return {
        "id": s.id,
        "station_id": s.station_id,
        "created_at": c["created_at"],
        "day": local_day(s.created_at),
        "entrant_id": s.entrant_id,
        "operator": s.operator,
        "follows": s.follows,
        "decision": s.decision.value,
        "reasons": c["reasons"],
        "message": s.message,
        "threshold_c": s.threshold_c,
        "temperature_c": s.temperature_c,
        "mask": c["mask"],
        "readings": c["readings"],
    }


def _screening_from_row(row: Mapping) -> Screening:
    content = row_content(row)
    return Screening.from_content(content)


class ScreeningLog:
    """Durable, tamper-evident log of screenings in one SQLite file."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        # Appends go through one writer connection with SQL made from the table definitions: SQLAlchemy's
        # per-statement work cost more than the fsync itself (bench/log_rate.py).
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        try:
            self.engine = make_engine(self.path, read_only=read_only)
            if not read_only:
                upgrade(self.engine)
        except (SQLAlchemyError, OSError) as exc:
            raise LogError(f"cannot open the log at {self.path}: {_why(exc)}") from exc

    def close(self) -> None:
        with self._write_lock:
            self._drop_writer()
        self.engine.dispose()

    def _drop_writer(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except sqlite3.Error:
                pass
            self._writer = None

    def _writer_conn(self):
        if self._writer is None:
            # A pooled connection detached for good: same connect-time pragmas, owned by this log.
            proxied = self.engine.raw_connection()
            proxied.detach()
            self._writer = proxied
        return self._writer

    def __enter__(self) -> "ScreeningLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------------------
    def append(self, s: Screening) -> Screening:
        """Store ``s``; returns only after the commit returned (the caller may then show the decision)."""
        content = screening_content(s)
        values = {**{k: (_json(v) if k in JSON_COLUMNS else v) for k, v in content.items()}, **derived(content)}
        with self._write_lock:
            try:
                conn = self._writer_conn()
                cur = conn.cursor()
                # IMMEDIATE takes the write lock before the head is read: two writers cannot fork the chain.
                cur.execute("BEGIN IMMEDIATE")
                try:
                    head = cur.execute(_HEAD).fetchone()
                    values["prev_hash"] = head[0] if head and head[0] else chain.GENESIS
                    values["row_hash"] = chain.link(values["prev_hash"], content)
                    cur.execute(_INSERT_SCREENING, values)
                    cur.execute(_INSERT_OUTBOX, ("screening", s.id, time.time()))
                    cur.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        cur.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, SQLAlchemyError, OSError) as exc:
                self._drop_writer()  # the next append starts on a fresh connection (disk freed, file fixed)
                raise LogError(f"screening {s.id} was not saved: {_why(exc)}") from exc
        return s

    def add_entrants(self, entrants: list[Entrant]) -> None:
        try:
            with self.engine.begin() as conn:
                for e in entrants:
                    conn.execute(ENTRANTS.delete().where(ENTRANTS.c.roster_id == e.roster_id))
                    conn.execute(insert(ENTRANTS), {"roster_id": e.roster_id, "name": e.name,
                                                    "group": e.group, "kind": e.kind.value})
        except (SQLAlchemyError, OSError) as exc:
            raise LogError(f"roster not saved: {_why(exc)}") from exc

    # -- reading -------------------------------------------------------------------------------------------------
    def get(self, screening_id: str) -> Screening | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(SCREENINGS).where(SCREENINGS.c.id == screening_id)).mappings().first()
        return None if row is None else _screening_from_row(row)

    def recent(self, limit: int = 20) -> list[Screening]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(SCREENINGS).order_by(SCREENINGS.c.seq.desc()).limit(limit)).mappings().all()
        return [_screening_from_row(r) for r in rows]

    def ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(SCREENINGS.c.id)).scalars())

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(SCREENINGS)).scalar_one()

    def day_counts(self, day: str | None = None) -> dict[str, int]:
        """Today's counts for the duty screen: people screened (first screenings) and each decision."""
        day = day or local_day(time.time())
        with self.engine.connect() as conn:
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
        """The newest row's hash and the number of rows (cheap: no verification)."""
        with self.engine.connect() as conn:
            h = conn.execute(select(SCREENINGS.c.row_hash).order_by(SCREENINGS.c.seq.desc()).limit(1)).scalar()
            n = conn.execute(select(func.count()).select_from(SCREENINGS)).scalar_one()
        return h or chain.GENESIS, n

    def entrant(self, roster_id: str) -> Entrant | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ENTRANTS).where(ENTRANTS.c.roster_id == roster_id)).mappings().first()
        if row is None:
            return None
        return Entrant(row["roster_id"], row["name"], row["group"], EntrantKind(row["kind"]))

    # -- verifying -----------------------------------------------------------------------------------------------
    def iter_rows(self, batch: int = 5000) -> Iterator[Mapping]:
        last = 0
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(SCREENINGS).where(SCREENINGS.c.seq > last).order_by(SCREENINGS.c.seq).limit(batch)
                ).mappings().all()
                if not rows:
                    return
                yield from rows
                last = rows[-1]["seq"]

    def verify(self) -> VerifyResult:
        """Recompute the chain from the first row (or from the purge anchor); the first row that does not match is
        named."""
        from storage.models import ChainAnchorRow

        anchors = ChainAnchorRow.__table__
        with self.engine.connect() as conn:
            anchor = conn.execute(select(anchors.c.last_purged_hash)
                                  .where(anchors.c.chain == "screenings")).scalar()
        prev = anchor or chain.GENESIS
        n = 0
        for row in self.iter_rows():
            n += 1
            if row["prev_hash"] != prev:
                return VerifyResult(False, n, prev, row["seq"], row["id"],
                                    "its link to the previous row is broken (a row was removed or reordered)")
            try:
                content = row_content(row)
                expected = chain.link(prev, content)
                agrees = all(row[k] == v for k, v in derived(content).items())
            except (ValueError, TypeError, AttributeError, IndexError) as exc:
                return VerifyResult(False, n, prev, row["seq"], row["id"], f"its content is unreadable: {exc}")
            if expected != row["row_hash"]:
                return VerifyResult(False, n, prev, row["seq"], row["id"],
                                    "its content does not match its hash (the row was changed)")
            if not agrees:
                return VerifyResult(False, n, prev, row["seq"], row["id"],
                                    "its source or mask columns were changed (they disagree with its readings)")
            prev = row["row_hash"]
        return VerifyResult(True, n, prev)


def _why(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    low = text.lower()
    if "disk" in low and "full" in low or "no space" in low:
        return f"the disk is full ({text}); free space on the station"
    if "readonly" in low or "read-only" in low or "permission" in low:
        return f"the log file is read-only ({text}); check the file and its folder permissions"
    if "unable to open" in low:
        return f"the log file cannot be opened ({text}); check the path and its folder"
    return text
