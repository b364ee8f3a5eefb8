"""Upward sync: the outbox, in order, in batches, into the upstream database, without loss or duplicates.

- Every record was queued in the outbox in the transaction that wrote it (storage.log).
- A batch is inserted upstream in one transaction with ``ON CONFLICT (its key) DO NOTHING``: re-sending is harmless.
  On PostgreSQL the batch goes through ``COPY`` into a staging table first (storage.copy_sync).
- Before its first rows, each station id is registered upstream with the station's key fingerprint: an id another
  station holds stops the sync with a message naming it (storage.stations). Each record goes under the configured
  school, or under the station's own id when the config names no school.
- The checkpoint advances only after the upstream commit returned (a crash between the two re-sends the batch); it
  belongs to one upstream database, known by its identity (storage.upstream.identity): another one gets everything.
- A record the upstream refuses, or that would not fit its columns, is quarantined with its error; the rest go on.
- ``first_sync``: called before anything goes to an upstream this log never synced with (storage.sync_known).
- Then the school's records and cases of the other gates are pulled (storage.school_records, storage.school_cases).
- Connection trouble, or a lock held upstream too long (storage.upstream_locks), is one line, nothing advances.
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import random
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from domain.errors import UpstreamFailure
from storage import copy_sync, partitions, school_cases, school_records, stations, sync_batch, sync_known
from storage import sync_unverified, upstream as up, upstream_locks as locks
from storage.errors import StorageError
from storage.upstream_url import UpstreamUrlError, explain
from storage.log import ScreeningLog
from storage.tables.log import OUTBOX
from storage.tables.sync import QUARANTINE, SYNC_STATE as STATE


READ_AHEAD = 2  # batches read and checked ahead: the reading goes on while a batch's COPY ends and commits


class SyncError(UpstreamFailure):
    """The upstream cannot be reached or used right now; the message is one line for the operator."""


@dataclass
class SyncResult:
    sent: int = 0
    quarantined: int = 0
    batches: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)  # the first few reasons for quarantine, one line each
    waiting_days: list[str] = field(default_factory=list)  # sent, but no day partition upstream (see partitions)
    pulled: int = 0  # the school's fevers, certificate cases and clearances from other gates (storage.school_records)
    cases_pulled: int = 0  # the other gates' case events, and this gate's "not seen" cases closed because another
    settled: int = 0  # gate saw the pupil (storage.school_cases)


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text[:300] or type(orig).__name__


def _not_its_school(exc: DBAPIError) -> bool:
    """The upstream's row-level security refused the role for this school (upstream migration u0010)."""
    return "row-level security" in str(getattr(exc, "orig", None) or exc)


def _is_connection_trouble(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError) or bool(getattr(exc, "connection_invalidated", False))


class Sync:
    def __init__(self, log: ScreeningLog, url: str, batch_size: int = 10_000, connect_timeout: float = 5.0, *,
                 school_id: str | None = None, school_name: str | None = None, fingerprint: str | None = None,
                 first_sync: Callable[["Sync"], None] | None = None, station_id: str | None = None,
                 clock: Callable[[], float] = time.time, sessions: tuple = (),
                 lock_wait_s: float = locks.SYNC_WAIT_S, make_day_wait_s: float = locks.MAKE_DAY_WAIT_S):
        self.log, self.station_id, self.clock, self.sessions = log, station_id, clock, sessions  # the school's cases
        self.first_sync = first_sync  # raises (a SyncError) unless a first sync to a never-seen upstream may go
        # No school in the config: the station is its own school (its records go under its station id).
        self.school_id, self.school_name, self._fingerprint = school_id, school_name, fingerprint
        self._registered, self._partitions = set(), set()  # (school, station) registered; days with a partition
        self.url, self.shown_url = url, up.safe_url(url)
        self.key = hashlib.sha256(self.shown_url.encode()).hexdigest()[:16]
        self.batch_size, self.connect_timeout, self.lock_wait_s = batch_size, connect_timeout, lock_wait_s
        self.make_day_wait_s = make_day_wait_s  # an owner's sync making a day waits this long, then sends to default
        self._engine, self.identity, self._link = None, None, None  # link: the connection of one round's batches
        self._helper = None  # the round's row-check process (storage.row_check)
        self.unmade: set = set()  # days sent with no partition upstream: their rows wait in the default one

    # -- upstream -------------------------------------------------------------------------------------------------
    def engine(self):
        if self._engine is None:
            try:
                engine = up.make_upstream_engine(self.url, self.connect_timeout, self.lock_wait_s)
            except UpstreamUrlError:
                raise
            except (SQLAlchemyError, ValueError, ImportError) as exc:
                raise SyncError(f"upstream URL {self.shown_url} is not usable: {_one_line(exc)}") from None
            if engine.dialect.name not in ("postgresql", "sqlite"):
                raise SyncError(f"upstream {engine.dialect.name} is not supported: use PostgreSQL or SQLite")
            try:
                if self.first_sync and not sync_known.known(self.log, self.key, up.peek_identity(engine)):
                    self.first_sync(self)  # nothing is created or sent upstream unless it returns
                up.upgrade(engine)
                identity = up.identity(engine)
            except BaseException as exc:
                busy = isinstance(exc, SQLAlchemyError) and locks.is_lock_timeout(exc)  # the server answered
                said = up.migration_busy(engine, self.lock_wait_s, "nothing is lost (sent again next round): "
                                         "try again (gate sync --once)", f"upstream {self.shown_url}") if busy else ""
                engine.dispose()
                if not isinstance(exc, SQLAlchemyError):
                    raise
                raise SyncError(said or explain(f"upstream {self.shown_url} unreachable: {_one_line(exc)}", self.url)
                                ) from None
            self._adopt(identity)
            self.identity, self._engine = identity, engine
        return self._engine

    def _trouble(self, exc: DBAPIError) -> SyncError:
        """Gone, or busy (a lock waited for in vain rolled the batch back: nothing confirmed, nothing lost)."""
        return SyncError(locks.busy(self._engine, f"upstream {self.shown_url}", self.lock_wait_s, "nothing is lost "
                                    "(sent again next round): try again (gate sync --once)")
                         if locks.is_lock_timeout(exc) else f"upstream {self.shown_url} unreachable: {_one_line(exc)}")

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- local state ----------------------------------------------------------------------------------------------
    def _checkpoint(self, conn) -> int:
        return conn.execute(select(STATE.c.last_seq).where(STATE.c.upstream == self.key)).scalar() or 0

    def pending(self) -> int:
        return self.status()["pending"]

    def status(self) -> dict:
        with self.log.read("the outbox") as conn:
            row = conn.execute(select(STATE).where(STATE.c.upstream == self.key)).mappings().first()
            last = row["last_seq"] if row else 0
            pending = conn.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.seq > last)).scalar_one()
            quarantined = conn.execute(select(func.count()).select_from(QUARANTINE)
                                       .where(QUARANTINE.c.upstream == self.key)).scalar_one()
        return {"upstream": self.shown_url, "pending": pending, "quarantined": quarantined,
                **{k: row[k] if row else None for k in ("last_success", "last_error", "last_error_at")}}

    def _save(self, conn, **values) -> None:
        if conn.execute(select(STATE.c.upstream).where(STATE.c.upstream == self.key)).first():
            conn.execute(STATE.update().where(STATE.c.upstream == self.key).values(**values))
        else:
            conn.execute(STATE.insert().values(upstream=self.key, **{"last_seq": 0, **values}))

    def _adopt(self, identity: str) -> None:
        """Make the checkpoint this database's: one made against another database (a replaced or restored one, at
        this URL) starts again from zero; the upstream ignores what it already holds."""
        with self.log.unit("the upstream's identity") as u:
            conn = u.conn
            row = conn.execute(select(STATE.c.identity).where(STATE.c.upstream == self.key)).first()
            if row is None:
                self._save(conn, identity=identity)
            elif row.identity != identity:
                self._save(conn, identity=identity, last_seq=0)
                conn.execute(QUARANTINE.delete().where(QUARANTINE.c.upstream == self.key))

    def note_error(self, message: str) -> None:
        try:
            with self.log.unit("the sync error") as u:
                self._save(u.conn, last_error=message, last_error_at=self.clock())
        except StorageError:
            pass  # the error is also shown to the operator; failing to note it must not hide it

    # -- sending --------------------------------------------------------------------------------------------------
    def _next_batch(self, after: int | None = None):
        """The next batch, read and checked (storage.sync_batch); run in the read-ahead thread after the first one:
        the next batch is read and checked while this one goes up."""
        return sync_batch.next_batch(self, after)

    def _sql(self, kind: str) -> str:
        """INSERT ... ON CONFLICT (id) DO NOTHING for the upstream's driver, compiled once."""
        cache = self.__dict__.setdefault("_sql_cache", {})
        if kind not in cache:
            table = up.TABLES[kind]
            dialect = self.engine().dialect
            mark = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
            names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in table.columns)
            cache[kind] = (f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([mark] * len(table.columns))}) "
                           f"ON CONFLICT ({', '.join(up.key_columns(table))}) DO NOTHING")
        return cache[kind]

    def once(self, max_batches: int | None = None, progress: Callable[[SyncResult], None] | None = None) -> SyncResult:
        """Send everything pending (or ``max_batches``); raises SyncError when the upstream is unreachable."""
        result = SyncResult()
        # The cyclic collector waits for the round: a batch is tens of thousands of tuples, all freed by their
        # counts when it is sent, which it would otherwise walk hundreds of times (~5 % of the round's CPU). Only
        # the round that stopped it starts it again (a nested round, or another thread's, finds it stopped).
        collecting = gc.isenabled()
        gc.disable()
        try:  # the helper process checking batches read ahead starts only if there is one (storage.row_check)
            with sync_unverified.helper(self.log) as self._helper, \
                    ThreadPoolExecutor(1, thread_name_prefix="sync-read-ahead") as ahead:
                self._send_all(result, ahead, max_batches, progress)
        finally:
            if collecting:
                gc.enable()
            if self._link is not None:
                self._link.close()
                self._link = None
        result.waiting_days = sorted(d.isoformat() for d in self.unmade)
        result.pulled = school_records.pull_for(self)
        result.cases_pulled, result.settled = school_cases.pull_for(self)
        if result.settled:  # the closes of the cases settled go upward in this round too
            result.sent += self.once(max_batches, progress).sent
        result.pending = self.pending()
        return result

    def _send_all(self, result: SyncResult, ahead: ThreadPoolExecutor, max_batches: int | None,
                  progress: Callable[[SyncResult], None] | None) -> None:
        # The next batches are read (and checked) while this one goes upstream, READ_AHEAD of them, one after the
        # other on the one read-ahead thread; the checkpoint moves after each commit.
        coming: deque[Future] = deque()
        try:
            self._send_batches(result, ahead, coming, max_batches, progress)
        finally:  # the round ended or failed: nothing more is read ahead
            sync_batch.forget(coming)

    def _send_batches(self, result: SyncResult, ahead: ThreadPoolExecutor, coming: deque, max_batches: int | None,
                      progress: Callable[[SyncResult], None] | None) -> None:
        while max_batches is None or result.batches < max_batches:
            last, count, groups, bad = coming.popleft().result() if coming else self._next_batch()
            if not count:
                break
            later = None if max_batches is None else max_batches - result.batches - 1  # batches wanted after it
            while len(coming) < (READ_AHEAD if later is None else min(READ_AHEAD, later)):
                coming.append(ahead.submit(sync_batch.after, self, coming[-1]) if coming else
                              ahead.submit(self._next_batch, last))
            going = sum(map(len, groups.values()))  # an entry whose record is gone (or of no kind) sends nothing
            refused = self._send(groups)  # what is bad (an edited report, a misfit) was taken out: never sent
            bad += refused
            with self.log.unit("the sync checkpoint") as u:
                sync_unverified.quarantine(u, self.log, self.station_id, self.key, bad, self.clock())
                # another sync of this log beside this one (a teacher's --once beside the station's) may be ahead
                self._save(u.conn, last_seq=max(last, self._checkpoint(u.conn)), last_success=self.clock(),
                           last_error=None)
            result.batches, result.quarantined = result.batches + 1, result.quarantined + len(bad)
            if bad:  # read again: the holds just written (storage.held) go up this round
                sync_batch.forget(coming)
            for _seq, kind, record_id, error in bad:
                if len(result.errors) < 3:
                    # The reason only: PostgreSQL's DETAIL repeats the row (personal data) and belongs in quarantine
                    result.errors.append(f"{kind} {record_id}: {error.split(' DETAIL:')[0][:200]}")
            result.sent += going - len(refused)
            if progress:
                progress(result)

    def _send(self, groups) -> list[tuple[int, str, str, str]]:
        engine = self.engine()
        self._register(groups)
        if engine.dialect.name == "postgresql" and groups.get("screening"):
            self._make_partitions(groups["screening"])
        try:
            # One connection for the round's batches (checked once when taken from the pool), not one per batch
            if self._link is None or self._link.invalidated:
                self._link = engine.connect()
            with self._link.begin():
                return self._insert(self._link, groups)
        except DBAPIError as exc:
            if _is_connection_trouble(exc):
                raise self._trouble(exc) from None
            if _not_its_school(exc):  # the whole batch is one school's: nothing to sort out row by row
                raise SyncError(self._refused_school(groups)) from None
        # Something in the batch was refused: send one by one, quarantine what is refused, keep the rest.
        bad = []
        for kind, items in groups.items():
            for item in items:
                (seq, _kind, record_id), _row = item
                try:
                    with self._link.begin():
                        bad += self._insert(self._link, {kind: [item]})
                except DBAPIError as exc:
                    if _is_connection_trouble(exc):
                        raise self._trouble(exc) from None
                    bad.append((seq, kind, record_id, _one_line(exc)))
        return bad

    def _insert(self, conn, groups) -> list[tuple[int, str, str, str]]:
        """One batch in the caller's transaction: COPY through a staging table on PostgreSQL (storage.copy_sync),
        the driver's executemany on SQLite. Returns the records refused without failing the batch."""
        now = self.clock()
        refused = []
        for kind, items in groups.items():
            if not items:
                continue
            if conn.dialect.name == "postgresql":
                refused += [(seq, kind, record_id, reason) for ((seq, _k, record_id), _row), reason
                            in copy_sync.insert(conn, kind, items, now)]
            else:
                conn.exec_driver_sql(self._sql(kind), [row for _, row in items])
                for school, station in {(row[0], row[self._station_at(kind)]) for _, row in items}:
                    stations.note_sync(conn, school, station, None, now)
        return refused

    def _refused_school(self, groups) -> str:
        school = next((row[0] for items in groups.values() for _key, row in items), self.school_id)
        return (f"upstream {self.shown_url}: this station's database role may not send for school {school!r}: "
                "nothing was sent. The database's owner gives each station role its school (INSERT INTO "
                "gate_role_schools, see the README), or the [school] id in this station's config is wrong")

    @staticmethod
    @functools.cache
    def _station_at(kind: str) -> int:
        return [c.name for c in up.TABLES[kind].columns].index("station_id")

    def fingerprint(self) -> str:
        """The station key's fingerprint (storage.keys): what the upstream registry knows this station by."""
        if self._fingerprint is None:
            if self.log.key is None:
                raise SyncError("this log has no station key: nothing can be registered upstream; open the log "
                                "with its key file (see gate verify)")
            self._fingerprint = self.log.key.fingerprint
        return self._fingerprint

    def _register(self, groups) -> None:
        """One id, one station: each (school, station id) in the batch is registered with this station's key
        fingerprint before any of its rows is sent; an id held by another station stops the sync."""
        wanted = set()
        for kind, items in groups.items():
            rows = list(map(itemgetter(1), items))
            wanted.update(zip(map(itemgetter(0), rows), map(itemgetter(self._station_at(kind)), rows)))
        for school, station in sorted(wanted - self._registered):
            try:
                with self.engine().begin() as conn:
                    stations.register(conn, school, station, self.fingerprint(), self.school_name, now=self.clock())
            except stations.StationClash as exc:
                raise SyncError(str(exc)) from None
            except DBAPIError as exc:
                if _not_its_school(exc):
                    raise SyncError(self._refused_school(groups)) from None
                raise SyncError(f"upstream {self.shown_url}: cannot register station {station!r}: "
                                f"{_one_line(exc)}") from None
            self._registered.add((school, station))

    def _make_partitions(self, items) -> None:
        at = [c.name for c in up.screenings.columns].index("day")
        days = set()
        for text in {row[at] for _key, row in items}:
            try:
                days.add(dt.date.fromisoformat(text))
            except (TypeError, ValueError):
                pass  # not a day: the upstream refuses the row and it is quarantined
        try:
            self.unmade.update(partitions.ensure(self.engine(), days, self._partitions, self.make_day_wait_s))
        except DBAPIError as exc:
            if _is_connection_trouble(exc):
                raise self._trouble(exc) from None
            raise SyncError(f"upstream {self.shown_url}: cannot make day partitions: {_one_line(exc)}") from None

    def watch(self, stop: threading.Event, interval_s: float = 5.0, backoff_s: tuple[float, float] = (1.0, 300.0),
              on_result: Callable[[SyncResult], None] | None = None,
              on_error: Callable[[str], None] | None = None, rng: random.Random | None = None) -> None:
        """Sync until ``stop``; after a failure wait with exponential backoff and full jitter."""
        rng = rng or random.Random()
        failures = 0
        while not stop.is_set():
            try:
                result = self.once()
                failures = 0
                if on_result:
                    on_result(result)
                stop.wait(interval_s)
            except SyncError as exc:
                failures += 1
                self.note_error(str(exc))
                self.close()
                if on_error:
                    on_error(str(exc))
                cap = min(backoff_s[1], backoff_s[0] * 2 ** min(failures, 20))
                stop.wait(rng.uniform(0, cap))

    # -- checking -------------------------------------------------------------------------------------------------
    def verify(self, station_ids: set[str] | frozenset[str] = frozenset(), deep: bool = False) -> dict:
        """Every synced screening compared with the upstream's copy, by ranges (storage.sync_verify); ``ok`` when
        they all match. ``station_ids``: ids to look for upstream besides those in the log (the configured one)."""
        from storage.sync_verify import verify
        return verify(self, set(station_ids), deep).to_dict()
