"""The sync's next batch, read from the log and checked before anything of it goes upstream (storage.sync).

- The outbox entries after the checkpoint (or after the batch read before: the sync reads one batch ahead), their
  range by kind counted by SQLite; for each kind, one join of that range with its records, in outbox order.
- Each record becomes ``((seq, kind, record id), tuple in upstream column order)``: the school first (the key every
  upstream table starts with), the configured one or else the station's own id.
- A chained kind's rows go to the checking helpers (storage.row_check) part by part as they are read, so the re-hash
  runs beside the reading instead of after it; what no helper answered for is checked here (storage.sync_unverified).
- Taken out, to quarantine: an edited daily report, a record changed or cut out of the file, an identifier the
  upstream would refuse (storage.reports, storage.sync_unverified, storage.sync_misfits).
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, wait
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from sqlalchemy import func, literal, select

from storage import reports, sync_links, sync_misfits, sync_unverified, upstream_schema as up
from storage.tables.cases import CASES, CLEARANCES
from storage.tables.log import AUDIT_EVENTS as AUDIT, OUTBOX, SCREENINGS
from storage.tables.records import CALIBRATIONS, DAILY_REPORTS as REPORTS
from storage.row_check import HelperGone

if TYPE_CHECKING:
    from storage.sync import Sync

LOCAL = {"screening": SCREENINGS, "daily_report": REPORTS, "audit": AUDIT, "calibration": CALIBRATIONS,
         "clearance": CLEARANCES, "case": CASES}
PART = 2_500  # rows read and handed to a helper at a time: small enough to start the helpers early


class _NotInOrder(Exception):
    """The table's rows in the outbox range's seq span are not exactly the outbox's records, in its order."""


def _by_seq(conn, table, kind: str, names: list[str], school, outbox: list):
    """The outbox's records of ``kind`` (``outbox``: its ``(seq, record id)`` rows, in order) read straight from their
    table by its own seq span, without joining (about half the reading's cost), each part as it is read. Every record
    is written in the same transaction as its outbox entry, so the span holds exactly those records in that order;
    anything else (a purged record, an entry queued again, a row made by hand) raises _NotInOrder, checked id by id,
    part by part: the caller then reads them joined."""
    ids = list(map(itemgetter(1), outbox))
    span = conn.execute(select(func.min(table.c.seq), func.max(table.c.seq), func.count())
                        .where(table.c.id.in_([ids[0], ids[-1]]))).one()
    if span[2] != min(2, len(ids)):
        raise _NotInOrder(kind)
    # The upstream row straight from SQLite: the school first (the configured one, or the station's own id)
    first = literal(school) if school else table.c.station_id
    cursor = conn.execute(select(first, *(table.c[n] for n in names)).where(table.c.seq.between(span[0], span[1]))
                          .order_by(table.c.seq)).cursor
    at_id, done = 1 + names.index("id"), 0
    while rows := cursor.fetchmany(PART):
        if len(rows) > len(ids) - done or list(map(itemgetter(at_id), rows)) != ids[done:done + len(rows)]:
            raise _NotInOrder(kind)
        keys = zip(map(itemgetter(0), outbox[done:done + len(rows)]), repeat(kind), ids[done:done + len(rows)])
        done += len(rows)
        yield list(zip(keys, rows))
    if done != len(ids):
        raise _NotInOrder(kind)


def _joined(conn, table, kind: str, names: list[str], school, lo: int, hi: int):
    """The same parts, read by one join of the outbox range with the table, in outbox order (purged records drop
    out)."""
    at_id, at_station = 1 + names.index("id"), 1 + names.index("station_id")
    query = (select(OUTBOX.c.seq, *(table.c[n] for n in names))
             .join(table, table.c.id == OUTBOX.c.record_id)
             .where(OUTBOX.c.seq.between(lo, hi), OUTBOX.c.kind == kind).order_by(OUTBOX.c.seq))
    # Plain tuples from the driver's cursor, no column more than needed: making Python objects of the values is
    # most of the station's side.
    cursor = conn.execute(query).cursor
    while rows := cursor.fetchmany(PART):
        yield ([((r[0], kind, r[at_id]), (school, *r[1:])) for r in rows] if school else
               [((r[0], kind, r[at_id]), (r[at_station], *r[1:])) for r in rows])


def next_batch(sync: "Sync", after: int | None = None):
    """How many outbox entries and the last one's seq; the rows to send by kind; the records not to send, taken out
    of the rows, to quarantine."""
    helper, handed = sync._helper, []  # (kind, first position, rows, ticket) of each part given to the helpers
    chains, unlinked = sync_unverified.chains(sync.log), {}
    with sync.log.read("the outbox") as conn:
        start = sync._checkpoint(conn) if after is None else after
        batch = (select(OUTBOX.c.seq, OUTBOX.c.kind).where(OUTBOX.c.seq > start).order_by(OUTBOX.c.seq)
                 .limit(sync.batch_size).subquery())
        # The batch's range by kind, counted by SQLite: one row a kind, not one a record
        kinds = conn.execute(select(batch.c.kind, func.min(batch.c.seq), func.max(batch.c.seq), func.count())
                             .group_by(batch.c.kind)).all()
        groups: dict[str, list[tuple[tuple, tuple]]] = {}
        if not kinds:
            return 0, 0, groups, []
        lo, hi = min(k[1] for k in kinds), max(k[2] for k in kinds)
        for kind in sorted(k[0] for k in kinds):
            table = LOCAL.get(kind)
            if table is None:
                continue
            names = [c.name for c in up.record_columns(up.TABLES[kind])]
            spec = sync_unverified.spec(kind) if helper is not None else None
            outbox = conn.execute(select(OUTBOX.c.seq, OUTBOX.c.record_id).where(
                OUTBOX.c.seq.between(lo, hi), OUTBOX.c.kind == kind).order_by(OUTBOX.c.seq)).all() \
                if "seq" in table.c else []  # a table without its own numbers is read joined
            parts = (_by_seq(conn, table, kind, names, sync.school_id, outbox) if outbox else
                     _joined(conn, table, kind, names, sync.school_id, lo, hi))
            try:
                _take(parts, kind, groups.setdefault(kind, []), spec, helper, handed)
            except _NotInOrder:  # read again, joined; what was handed to the helpers of this kind is not asked for
                handed[:] = [part for part in handed if part[0] != kind]
                groups[kind] = []
                _take(_joined(conn, table, kind, names, sync.school_id, lo, hi), kind, groups[kind], spec, helper,
                      handed)
            if kind in sync_unverified.WHAT:  # a chained kind: each row in its place in its chain
                unlinked[kind] = sync_links.broken(conn, chains[kind], sync_unverified.WHAT[kind], names, groups[kind])
    bad = reports.edited(sync.log, groups)  # while the helpers hash
    bad += sync_unverified.unverified(sync.log, groups, helper if handed else None, (lo, hi), handed)
    taken = {(kind, record_id) for _seq, kind, record_id, _error in bad}
    for kind, found in unlinked.items():  # renumbered in the file: not sent under a made-up number
        bad += sync_links.take_out(groups, kind, found, taken)
    return hi, sum(k[3] for k in kinds), groups, bad + sync_misfits.misfits(groups)


def _take(parts, kind: str, items: list, spec, helper, handed: list) -> None:
    """Each part read into ``items``, and handed to the helpers as it comes (they hash beside the reading)."""
    for part in parts:
        first = len(items)
        items += part
        if spec is not None and not helper.broken and (len(part) == PART or len(items) >= helper.from_rows):
            try:
                ticket = helper.submit(spec, [row for _key, row in part])
                handed.append((kind, first, len(part), ticket))
            except HelperGone:
                pass  # the helpers' answers are not waited for: every row is checked here instead


def after(sync: "Sync", before: Future):
    """The batch after the one ``before`` reads (it ran first: one read-ahead thread, in order)."""
    last, count, _groups, _bad = before.result()
    return sync._next_batch(last) if count else (last, 0, {}, [])


def forget(coming: deque) -> None:
    """Batches read ahead no longer wanted: those not started never start, the one being read ends first (one reading
    at a time: its parts and the helpers' answers are its own)."""
    started = [future for future in coming if not future.cancel()]
    coming.clear()
    wait(started)
