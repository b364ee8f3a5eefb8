"""A chained record goes upstream only in its place in its chain (storage.chain): its ``prev_hash`` must be the hash
of the row numbered just before it (or, for the chain's oldest row, the anchor of what was purged).

The row's own hash does not cover its number (``seq``), and the upstream and the school's other gates go by that
number: what a gate received is remembered as the station's highest seq, and the other gates pull its fevers, holds
and case events after the last number they pulled. A record renumbered in the SQLite file (moved to 100000, two
swapped) would be sent under the made-up number and hide the gate's later records from the other gates. So a sync
batch's chained rows are checked against their neighbours' links, in the batch's read transaction, and a row whose
link does not hold is refused like a changed one ("changed outside the station": quarantined, the pupil held; see
storage.held). Its neighbour renumbered around it fails too: a chain cut there proves nothing about either side until
the file is put back (`gate verify` names the break) and an auditor lifts the hold.

Cheap for a batch read straight from its table (storage.sync_batch): its rows follow each other, so one comparison
of two columns in C; only a batch that fails it, or one read joined, is looked at row by row.
"""
from __future__ import annotations

from operator import itemgetter

from sqlalchemy import func, select

from storage.chain import Chain

REASON = ("refused here, not sent: the {what} {id} was changed outside the station (it is not in its place in its "
          "chain: number {seq} does not follow the one before it); `gate verify` names what changed")


def broken(conn, chain: Chain, what: str, names: list[str], items: list) -> dict[str, str]:
    """{record id: reason} for the ``items`` (``(key, upstream row)``: the school, then the ``names`` columns) whose
    link to the row numbered before them does not hold in ``chain``'s table, as the file is now."""
    if not items:
        return {}
    at_seq, at_prev, at_hash, at_id = (1 + names.index(n) for n in ("seq", "prev_hash", "row_hash", "id"))
    rows = sorted(map(itemgetter(1), items), key=itemgetter(at_seq))
    seqs = list(map(itemgetter(at_seq), rows))
    if all(type(s) is int for s in seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs))) and \
            list(map(itemgetter(at_prev), rows[1:])) == list(map(itemgetter(at_hash), rows[:-1])):
        rows = rows[:1]  # one after the other, each on the one before: only the first's link is left to look at
    table = chain.table
    hashes = {r[at_seq]: r[at_hash] for r in rows}
    wanted = sorted({s - 1 for s in (r[at_seq] for r in rows) if type(s) is int} - set(hashes))
    for i in range(0, len(wanted), 500):
        hashes.update(conn.execute(select(table.c.seq, table.c.row_hash).where(table.c.seq.in_(wanted[i:i + 500])))
                      .all())
    first = conn.execute(select(func.min(table.c.seq))).scalar()
    anchor = chain.anchor(conn)
    found = {}
    for r in rows:
        seq = r[at_seq]
        before = anchor if seq == first else hashes.get(seq - 1) if type(seq) is int else None
        if before is None or r[at_prev] != before:
            found[r[at_id]] = REASON.format(what=what, id=r[at_id], seq=seq)
    return found


def take_out(groups: dict, kind: str, found: dict[str, str], already: set) -> list[tuple[int, str, str, str]]:
    """The items of ``kind`` named in ``found`` taken out of ``groups``, to quarantine (those already taken out for
    another reason, in ``already``, are not named twice)."""
    if not found:
        return []
    bad = [(seq, kind, record_id, found[record_id]) for (seq, _k, record_id), _row in groups.get(kind, [])
           if record_id in found and (kind, record_id) not in already]
    groups[kind] = [item for item in groups.get(kind, []) if item[0][2] not in found]
    return bad
