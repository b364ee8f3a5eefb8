"""`gate sync verify`: does the upstream hold this station's screenings and audit events exactly as the log does?

Every synced row is compared, column by column, without moving the rows: both sides turn each row into one canonical
line (every column, floats as whole micro-units, texts with their length) and digest the lines of each range of
``RANGE`` sequence numbers; PostgreSQL digests its side itself. Only a range whose digests differ is opened, row by
row (an MD5 of each line), to name the first row that differs and the columns that do.

Purges are known: rows purged here (up to the chain's anchor) are not compared row by row; the upstream must still
hold the last purged row with the anchored hash, and the rows it keeps of that range must link into one chain
(``deep``: each kept row's hash is also recomputed from its content with the log's digest, the station key).
Rows not sent yet (after the checkpoint) or refused (quarantined) are counted as pending, not as differences.
"""
from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from storage import upstream as up
from storage.chain import ANCHORS
from storage.tables.log import AUDIT_EVENTS, OUTBOX, SCREENINGS
from storage.tables.sync import QUARANTINE, SYNC_STATE as STATE

RANGE = 10_000
DAY = "day"  # a date upstream (PostgreSQL), text here: compared as YYYY-MM-DD
# The columns compared: (name, None for text / scale for a float kept as whole units of 1/scale / 0 for an integer)
COMPARED = (("seq", 0), ("id", None), ("station_id", None), ("created_at", 1_000_000), (DAY, None),
            ("entrant_id", None), ("operator", None), ("follows", None), ("decision", None), ("reasons", None),
            ("message", None), ("threshold_c", 1000), ("temperature_c", 1000), ("mask", None), ("readings", None),
            ("prev_hash", None), ("row_hash", None), ("session", None))
AUDIT_COMPARED = (("seq", 0), ("id", None), ("station_id", None), ("at", 1_000_000), ("actor", None),
                  ("action", None), ("detail", None), ("prev_hash", None), ("row_hash", None))


@dataclass(frozen=True)
class Chained:
    """One chained table compared: its outbox kind, the tables here and upstream, the columns, what is shown."""

    kind: str
    what: str
    local: object
    remote: object
    columns: tuple
    shown: frozenset
    chain: str  # the log's attribute holding its storage.chain.Chain

    @property
    def table(self) -> str:
        return self.local.name


# values a difference may show (the rest are only named: ids and readings are personal)
SCREENING_CHAIN = Chained("screening", "screening", SCREENINGS, up.screenings, COMPARED, frozenset({"decision"}),
                              "screening_chain")
AUDIT_CHAIN = Chained("audit", "audit event", AUDIT_EVENTS, up.audit_events, AUDIT_COMPARED, frozenset({"action"}),
                "audit_chain")


def row_line(dialect: str, columns: tuple = COMPARED) -> str:
    """SQL for a row's canonical line; SQLite and PostgreSQL give the same text for the same values."""
    pg = dialect == "postgresql"
    parts = []
    for name, scale in columns:
        if scale is None:
            value = f"to_char({name}, 'YYYY-MM-DD')" if pg and name == DAY else name
            length = f"length({value})::text" if pg else f"length({value})"
            parts.append(f"coalesce({length} || ':' || {value}, '~')")
        elif scale == 0:
            parts.append(f"{name}::text" if pg else name)
        else:  # both truncate toward zero the same IEEE double: the same integer on both sides
            whole = (f"trunc({name} * {scale}::float8 + 0.5::float8)::bigint::text" if pg
                     else f"CAST({name} * {scale} + 0.5 AS INTEGER)")
            parts.append(f"coalesce(CASE WHEN abs({name}) < 1e12 THEN {whole} ELSE 'big' END, '~')")
    return " || '|' || ".join(parts)


@dataclass
class Difference:
    seq: int
    id: str | None
    kind: str  # changed, missing-upstream, not-in-log, purged-range
    detail: str


@dataclass
class StationReport:
    local: dict
    upstream: dict
    compared: int = 0
    ranges: int = 0
    differing_ranges: int = 0
    differences: int = 0
    pending: int = 0
    purged_through: int | None = None
    purged: str = "nothing purged here"
    first: Difference | None = None
    seconds: dict = field(default_factory=dict)  # where the time went: here, upstream, opening ranges, purged


@dataclass
class Report:
    ok: bool
    upstream: str
    stations: dict = field(default_factory=dict)  # screenings, by station
    audit: dict = field(default_factory=dict)  # audit events, by station
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _digest_ranges(lines, size: int) -> dict[int, tuple[int, str]]:
    """{range number: (rows, SHA-256 of the range's lines joined by newlines)} from (seq, line) in seq order."""
    out: dict[int, tuple[int, str]] = {}
    current, h, n = None, None, 0
    for seq, line in lines:
        r = (seq - 1) // size
        if r != current:
            if h is not None:
                out[current] = (n, h.hexdigest())
            current, h, n = r, hashlib.sha256(line.encode("utf-8")), 1
        else:
            h.update(b"\n" + line.encode("utf-8"))
            n += 1
    if h is not None:
        out[current] = (n, h.hexdigest())
    return out


class SyncVerifier:
    """Compares one log with one upstream (an engine made by storage.sync.Sync)."""

    def __init__(self, log, engine, shown_url: str, identity: str | None, size: int = RANGE,
                 school_id: str | None = None, chained: Chained = SCREENING_CHAIN):
        self.log, self.engine, self.shown_url, self.identity, self.size = log, engine, shown_url, identity, size
        self.school_id = school_id  # None: each station is its own school upstream (storage.sync)
        self.k = chained
        self.pg = engine.dialect.name == "postgresql"
        self.remote_line = row_line(engine.dialect.name, chained.columns)
        self.local_line = row_line("sqlite", chained.columns)

    # -- local side ---------------------------------------------------------------------------------------------
    def _local(self, conn, station: str, after: int) -> dict[int, tuple[int, str]]:
        cur = conn.exec_driver_sql(f"SELECT seq, {self.local_line} FROM {self.k.table} WHERE station_id = ? AND "
                                   "seq > ? ORDER BY seq", (station, after))
        return _digest_ranges(iter(cur), self.size)

    def _pending_from(self, conn) -> int | None:
        """The first seq not confirmed by this upstream (sent after its checkpoint, or quarantined)."""
        checkpoint = conn.execute(select(func.max(STATE.c.last_seq)).where(STATE.c.identity == self.identity)
                                  ).scalar() or 0
        unsent = select(OUTBOX.c.record_id).where(OUTBOX.c.kind == self.k.kind, OUTBOX.c.seq > checkpoint)
        refused = select(QUARANTINE.c.record_id).where(QUARANTINE.c.kind == self.k.kind)
        t = self.k.local
        return conn.execute(select(func.min(t.c.seq)).where(t.c.id.in_(unsent) | t.c.id.in_(refused))).scalar()

    # -- upstream side ------------------------------------------------------------------------------------------
    def _school(self, station: str) -> str:
        return self.school_id or station

    def _remote(self, conn, station: str, after: int) -> dict[int, tuple[int, str]]:
        if self.pg:  # PostgreSQL digests its own rows: only one line per range crosses the network
            rows = conn.execute(text(
                f"SELECT (seq - 1) / :size AS r, count(*), encode(sha256(convert_to(string_agg({self.remote_line}, "
                f"E'\\n' ORDER BY seq), 'UTF8')), 'hex') FROM {self.k.table} WHERE school_id = :school "
                "AND station_id = :st AND seq > :after GROUP BY 1"),
                {"size": self.size, "school": self._school(station), "st": station, "after": after}).all()
            return {int(r): (n, d) for r, n, d in rows}
        cur = conn.execute(text(f"SELECT seq, {self.remote_line} FROM {self.k.table} WHERE school_id = :school AND "
                                "station_id = :st AND seq > :after ORDER BY seq"),
                           {"school": self._school(station), "st": station, "after": after})
        return _digest_ranges(iter(cur), self.size)

    def _remote_rows(self, conn, station: str, lo: int, hi: int) -> dict[int, tuple[str, str]]:
        where = "WHERE school_id = :school AND station_id = :st AND seq >= :lo AND seq <= :hi"
        args = {"school": self._school(station), "st": station, "lo": lo, "hi": hi}
        if self.pg:
            return {s: (i, d) for s, i, d in conn.execute(
                text(f"SELECT seq, id, md5({self.remote_line}) FROM {self.k.table} {where}"), args)}
        return {s: (i, hashlib.md5(line.encode("utf-8")).hexdigest()) for s, i, line in conn.execute(
            text(f"SELECT seq, id, {self.remote_line} FROM {self.k.table} {where}"), args)}

    # -- comparing ----------------------------------------------------------------------------------------------
    def verify(self, station_ids: set[str], deep: bool = False) -> Report:
        t0 = time.perf_counter()
        stations = self.stations(station_ids, deep)
        ok = all(s.first is None for s in stations.values())
        return Report(ok, self.shown_url, {k: asdict(v) for k, v in stations.items()},
                      seconds=round(time.perf_counter() - t0, 3))

    def stations(self, station_ids: set[str], deep: bool = False) -> dict[str, StationReport]:
        """One report per station id found here (and per id of ``station_ids`` found upstream)."""
        with self.log.read(f"the {self.k.what}s to compare") as lconn:
            anchor = lconn.execute(select(ANCHORS.c.last_purged_seq, ANCHORS.c.last_purged_hash)
                                   .where(ANCHORS.c.chain == getattr(self.log, self.k.chain).name)).first()
            after = anchor[0] if anchor else 0
            pending_from = self._pending_from(lconn)
            local_stations = {st for (st,) in lconn.execute(select(self.k.local.c.station_id).distinct())}
            stations = {}
            with self.engine.connect() as rconn:
                t = self.k.remote
                remote_stations = {st for st in station_ids if rconn.execute(
                    select(t.c.id).where(t.c.school_id == self._school(st), t.c.station_id == st).limit(1)).first()}
                for st in sorted(local_stations | (station_ids & remote_stations)):
                    stations[st] = self._station(lconn, rconn, st, after, anchor, pending_from, deep)
        return stations

    def _station(self, lconn, rconn, st: str, after: int, anchor, pending_from, deep: bool) -> StationReport:
        t0 = time.perf_counter()
        # Both sides digest at once: SQLite here (it lets go of the GIL while it reads) and PostgreSQL there.
        with ThreadPoolExecutor(1) as pool:
            there = pool.submit(lambda: (self._remote(rconn, st, after), time.perf_counter()))
            local = self._local(lconn, st, after)
            t1 = time.perf_counter()
            remote, t_remote = there.result()
        t2 = time.perf_counter()
        lcount, rcount = sum(n for n, _ in local.values()), sum(n for n, _ in remote.values())
        lt, t = self.k.local, self.k.remote
        head = lconn.execute(select(lt.c.seq, lt.c.row_hash).where(lt.c.station_id == st)
                             .order_by(lt.c.seq.desc()).limit(1)).first()
        rhead = rconn.execute(select(t.c.seq, t.c.row_hash).where(t.c.school_id == self._school(st),
                                                                  t.c.station_id == st)
                              .order_by(t.c.seq.desc()).limit(1)).first()
        rep = StationReport(local={"count": lcount, "head": head[1] if head else None},
                            upstream={"count": rcount, "head": rhead[1] if rhead else None},
                            ranges=len(set(local) | set(remote)), purged_through=after or None)
        for r in sorted(set(local) | set(remote)):
            if local.get(r) == remote.get(r):
                rep.compared += local[r][0]
                continue
            rep.differing_ranges += 1
            lo, hi = max(r * self.size + 1, after + 1), (r + 1) * self.size
            self._open_range(lconn, rconn, st, lo, hi, pending_from, rep)
        t3 = time.perf_counter()
        if anchor is not None:
            self._purged(rconn, st, anchor, deep, rep)
        rep.seconds = {"here": round(t1 - t0, 3), "upstream": round(t_remote - t0, 3), "both": round(t2 - t0, 3),
                       "ranges_opened": round(t3 - t2, 3), "purged_range": round(time.perf_counter() - t3, 3)}
        return rep

    def _open_range(self, lconn, rconn, st: str, lo: int, hi: int, pending_from, rep: StationReport) -> None:
        here = {s: (i, hashlib.md5(line.encode("utf-8")).hexdigest()) for s, i, line in lconn.exec_driver_sql(
            f"SELECT seq, id, {self.local_line} FROM {self.k.table} WHERE station_id = ? AND seq >= ? AND seq <= ?",
            (st, lo, hi))}
        there = self._remote_rows(rconn, st, lo, hi)
        for seq in sorted(set(here) | set(there)):
            mine, theirs = here.get(seq), there.get(seq)
            if mine == theirs:
                rep.compared += 1
                continue
            if theirs is None and pending_from is not None and seq >= pending_from:
                rep.pending += 1
                continue
            if theirs is None:
                d = Difference(seq, mine[0], "missing-upstream", "in the log, missing upstream (deleted there?)")
            elif mine is None:
                d = Difference(seq, theirs[0], "not-in-log", "upstream only: not a row of this log (a fake row, or "
                                                             "another station using this station's id)")
            else:
                d = Difference(seq, mine[0], "changed", "changed upstream: " + self._columns(lconn, rconn, st, seq))
            rep.differences += 1
            if rep.first is None or seq < rep.first.seq:
                rep.first = d

    def _columns(self, lconn, rconn, st: str, seq: int) -> str:
        cols = ", ".join(n for n, _ in self.k.columns)
        mine = lconn.exec_driver_sql(f"SELECT {cols} FROM {self.k.table} WHERE station_id = ? AND seq = ?",
                                     (st, seq)).mappings().one()
        theirs = dict(rconn.execute(text(f"SELECT {cols} FROM {self.k.table} WHERE school_id = :school AND "
                                         "station_id = :st AND seq = :seq"),
                                    {"school": self._school(st), "st": st, "seq": seq}).mappings().one())
        if DAY in theirs:
            theirs[DAY] = _day_text(theirs[DAY])
        out = []
        for name, scale in self.k.columns:
            a, b = mine[name], theirs[name]
            same = a == b if not scale else (a is None) == (b is None) and (a is None or abs(a - b) * scale < 0.5)
            if not same:
                out.append(f"{name} {a} here, {b} upstream" if name in self.k.shown else name)
        return ", ".join(out) or "the same values, written differently"

    def _purged(self, rconn, st: str, anchor, deep: bool, rep: StationReport) -> None:
        """The range purged here: only what the upstream still keeps of it is checked."""
        last, last_hash = anchor
        t = self.k.remote
        mine = (t.c.school_id == self._school(st), t.c.station_id == st)
        kept = rconn.execute(select(func.count(), func.min(t.c.seq)).where(*mine, t.c.seq <= last)).one()
        if not kept[0]:
            rep.purged = f"purged here up to seq {last}; the upstream keeps none of those rows: nothing to compare"
            return
        at_anchor = rconn.execute(select(t.c.id, t.c.row_hash).where(*mine, t.c.seq == last)).first()
        broken = rconn.execute(text(
            "SELECT seq, id FROM (SELECT seq, id, prev_hash, lag(row_hash) OVER w AS before, lag(seq) OVER w AS "
            f"seq_before FROM {self.k.table} WHERE school_id = :school AND station_id = :st AND seq <= :last "
            "WINDOW w AS (ORDER BY seq)) t WHERE seq_before IS NOT NULL AND (prev_hash <> before OR "
            "seq <> seq_before + 1) ORDER BY seq LIMIT 1"),
            {"school": self._school(st), "st": st, "last": last}).first()
        problem = None
        if at_anchor is None or at_anchor.row_hash != last_hash:
            problem = Difference(last, at_anchor.id if at_anchor else None, "purged-range",
                                 "the last row purged here is " + ("missing upstream" if at_anchor is None else
                                                                   "different upstream (its hash is not the anchor's)"))
        elif broken is not None:
            problem = Difference(broken.seq, broken.id, "purged-range", "in the range purged here, the upstream's "
                                 "rows no longer link into one chain (a row removed, added or rewritten there)")
        elif deep:
            problem = self._recompute(rconn, st, last)
        if problem is not None:
            rep.differences += 1
            if rep.first is None or problem.seq < rep.first.seq:
                rep.first = problem
            rep.purged = f"purged here up to seq {last}: the upstream's copy differs"
            return
        rep.purged = (f"purged here up to seq {last}; the upstream keeps {kept[0]} of those rows (from seq {kept[1]}): "
                      f"the anchor matches and they link into one chain"
                      + ("; each row's hash recomputed from its content" if deep else ""))

    def _recompute(self, rconn, st: str, last: int) -> Difference | None:
        chain, t = getattr(self.log, self.k.chain), self.k.remote
        after = 0
        while True:
            rows = rconn.execute(select(t).where(t.c.school_id == self._school(st), t.c.station_id == st,
                                                 t.c.seq <= last, t.c.seq > after)
                                 .order_by(t.c.seq).limit(5000)).mappings().all()
            if not rows:
                return None
            for row in rows:
                row = {**row, DAY: _day_text(row[DAY])} if DAY in row else dict(row)
                try:
                    ok = chain.link(row["prev_hash"], chain.content(row)) == row["row_hash"]
                except (ValueError, TypeError, KeyError):
                    ok = False
                if not ok:
                    return Difference(row["seq"], row["id"], "purged-range", "in the range purged here, the upstream's "
                                      "row does not match its own hash (its content was changed there)")
            after = rows[-1]["seq"]


def _day_text(value) -> str:
    """A day as the log stores it (PostgreSQL gives a date)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def verify(sync, station_ids: set[str], deep: bool = False) -> Report:
    """The report for a storage.sync.Sync (its engine and identity); raises its SyncError when unreachable."""
    from storage.sync import SyncError, _one_line

    engine = sync.engine()
    t0 = time.perf_counter()
    try:
        found = {c.kind: SyncVerifier(sync.log, engine, sync.shown_url, sync.identity, school_id=sync.school_id,
                                      chained=c).stations(station_ids, deep)
                 for c in (SCREENING_CHAIN, AUDIT_CHAIN)}
    except DBAPIError as exc:
        raise SyncError(f"upstream {sync.shown_url} unreachable: {_one_line(exc)}") from None
    ok = all(r.first is None for reports in found.values() for r in reports.values())
    return Report(ok, sync.shown_url, {k: asdict(v) for k, v in found["screening"].items()},
                  {k: asdict(v) for k, v in found["audit"].items()}, round(time.perf_counter() - t0, 3))
