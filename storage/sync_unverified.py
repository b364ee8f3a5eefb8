"""What a sync batch must not send because it was changed in the SQLite file: a screening, case event, audit event or
clearance whose hash no longer recomputes from its content (the check `gate verify` makes, one row at a time, with the
log's keyed digest). Such a row is taken out of the batch, to quarantine, "refused here, not sent": the station
itself already fails closed on it, and no other gate of the school may learn the edit (a close turned into a false
alarm, a fever turned into an admit, a late screening moved into the morning check).

A case event or clearance cut out of the file whose queue entry remains (neither is ever purged) is refused the same
way (``removed``): a deleted close must not simply go unsent and unnoticed.

Run in the sync's read-ahead thread on the rows as read for upstream, so it costs no extra read of the log; a batch
read ahead is hashed in a helper process (storage.row_check) while the batch before goes upstream.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import exists, select

from storage import cases
from storage import held as holds
from storage.cases import HASHED as CASE_HASHED
from storage import records
from storage.records import AUDIT_HASHED, CLEARANCE_HASHED, HASHED_COLUMNS, JSON_COLUMNS, OPTIONAL_HASHED
from storage import row_check, upstream_schema as up
from storage.row_check import HelperGone, RowCheckHelper
from storage.chain import Chain, sha256
from storage.log import ScreeningLog
from storage.tables.cases import CASES, CLEARANCES
from storage.tables.log import OUTBOX
from storage.tables.sync import QUARANTINE

WHAT = {"screening": "screening", "case": "follow-up case event", "audit": "audit event", "clearance": "clearance"}


def chains(log: ScreeningLog) -> dict[str, Chain]:
    return {"screening": log.screening_chain, "case": cases.chain(log), "audit": log.audit_chain,
            "clearance": log.clearance_chain}


# What each chained kind hashes: (columns, of which JSON text, hashed only when set), as its chain's content function
# (storage.records, storage.cases); the fast path below builds that content's canonical text straight from the tuple.
SPEC = {"screening": (HASHED_COLUMNS, JSON_COLUMNS, OPTIONAL_HASHED), "case": (CASE_HASHED, (), ()),
        "audit": (AUDIT_HASHED, ("detail",), ()), "clearance": (CLEARANCE_HASHED, (), ())}


def _holds(kind: str, chain: Chain, row: dict) -> bool:
    """The row's hash recomputes from its content and stored link, and its JSON texts are as the station writes them
    (what the upstream reads as text); the columns derived from the content, which the upstream does not take, are
    not looked at: `gate verify` checks them here."""
    try:
        return chain.link(row["prev_hash"], chain.content(row)) == row["row_hash"] and \
            records.edited_json(row, SPEC[kind][1]) is None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError):
        return False  # unreadable content (a JSON column edited into garbage, or nested past Python's stack): not sent


def _fast(kind: str, chain: Chain, names: tuple[str, ...]):
    """``row tuple -> holds``: the text made from the tuple (storage.row_check.checker), the chain's digest."""
    return row_check.checker((*SPEC[kind], names), chain.digest)


def helper_key(log: ScreeningLog) -> tuple[bool, bytes | None]:
    """(whether a helper process can check this log's chains, the key it needs): the station key's chain key, or
    None for a log from before key files (plain SHA-256); any other digest is checked here only."""
    digest = log.screening_chain.digest
    if log.key is not None and digest == log.key.chain_digest:
        return True, log.key.chain_key
    return digest is sha256, None


@contextmanager
def helper(log: ScreeningLog) -> Iterator[RowCheckHelper | None]:
    """A row-check helper for one sync round (its process started on first use, ended on leaving), or None."""
    can, key = helper_key(log)
    found = RowCheckHelper(key) if can else None
    try:
        yield found
    finally:
        if found is not None:
            found.close()


def removed(log: ScreeningLog, groups: dict, span: tuple[int, int]) -> list[tuple[int, str, str, str]]:
    """The case events and clearances queued in the batch's outbox range ``span`` whose record is gone from the file:
    neither is ever purged, so only an edit removes one (a doctor's close deleted is a close the other gates must not
    simply never hear of: held, storage.held)."""
    found = []
    for kind, table in (("case", CASES), ("clearance", CLEARANCES)):
        if kind not in groups:
            continue
        with log.read("the records the queue names") as conn:
            gone = conn.execute(select(OUTBOX.c.seq, OUTBOX.c.record_id).where(
                OUTBOX.c.seq.between(*span), OUTBOX.c.kind == kind,
                ~exists().where(table.c.id == OUTBOX.c.record_id))).all()
        found += [(seq, kind, record_id, f"refused here, not sent: the {WHAT[kind]} {record_id} was removed from the "
                   "file: changed outside the station (it is queued, and never purged); `gate verify` names the gap")
                  for seq, record_id in gone]
    return found


def spec(kind: str) -> tuple | None:
    """What a helper needs to re-hash a kind's rows as the sync reads them (storage.row_check), or None: not chained.
    The upstream row is the school, then the log's columns under their own names (storage.sync_batch)."""
    if kind not in WHAT:
        return None
    return (*SPEC[kind], ("school_id", *(str(c.name) for c in up.record_columns(up.TABLES[kind]))))  # plain str


def unverified(log: ScreeningLog, groups: dict, helper: RowCheckHelper | None = None,
               span: tuple[int, int] | None = None, handed: list[tuple[str, int, int, int]] = ()
               ) -> list[tuple[int, str, str, str]]:
    """The chained records of ``groups`` whose hash does not match their content: taken out of ``groups``. Each row
    is re-hashed against its stored hash and link, by ``helper`` (other processes) when given, else here; only a
    match is believed, and a row that does not match the fast way is looked at again the chain's own way.
    ``handed``: the parts ``(kind, first position, rows, ticket)`` given to ``helper`` as they were read
    (storage.sync_batch), whose answers are taken here; any row no helper answered for is checked here. With the
    batch's outbox range ``span``, also the case events and clearances cut out of the file (``removed``)."""
    bad = removed(log, groups, span) if span is not None else []
    answered: dict[str, tuple[bytearray, list[int]]] = {}  # kind -> (which rows a helper checked, its misses)
    if handed:
        try:
            got_by_ticket = helper.answers()
            for kind, first, count, ticket in handed:
                got = got_by_ticket.get(ticket)
                if got is None:
                    continue  # not answered for (never so, but then: checked here)
                checked, missed = answered.setdefault(kind, (bytearray(len(groups[kind])), []))
                checked[first:first + count] = b"\x01" * count
                missed += [first + n for n in got]
        except HelperGone:
            answered = {}  # a helper failed: every row is checked here
    found = None
    for kind, items in groups.items():
        if kind not in WHAT or not items:
            continue
        found = found or chains(log)
        chain = found[kind]
        names = spec(kind)[3]
        rows = [row for _key, row in items]
        if kind in answered:
            checked, missed = answered[kind]
            fast = _fast(kind, chain, names)
            missed = missed + [n for n in range(len(rows)) if not checked[n] and not fast(rows[n])]
        else:
            try:
                if helper is None or handed:
                    raise HelperGone("no helper")
                missed = helper.misses(spec(kind), rows)
            except HelperGone:
                fast = _fast(kind, chain, names)
                missed = [n for n, row in enumerate(rows) if not fast(row)]
        wrong = {n for n in missed if not _holds(kind, chain, dict(zip(names, rows[n])))}
        if not wrong:
            continue
        bad += [(seq, kind, record_id, f"refused here, not sent: the {WHAT[kind]} {record_id} was changed outside "
                 "the station (its content does not match its hash); `gate verify` names what changed")
                for n, ((seq, _kind, record_id), _row) in enumerate(items) if n in wrong]
        groups[kind] = [item for n, item in enumerate(items) if n not in wrong]
    return bad


def audit(u, log: ScreeningLog, station_id: str | None, bad: list[tuple[int, str, str, str]], since: float) -> None:
    """One audit event per round that held back records changed in the file (kind and id: what `gate verify` and
    the quarantine name), in the unit that quarantines them; and the word to the school's other gates that a record
    about each pupil concerned is held here (storage.held)."""
    held = [{"kind": kind, "id": record_id} for _seq, kind, record_id, error in bad
            if error.startswith("refused here, not sent:") and "changed outside the station" in error]
    if held:
        u.audit(station_id or "?", "station", "sync-refused-edited", {"records": held[:50], "count": len(held),
                                                                      "see": "gate verify"})
        holds.record(u, log, station_id, bad, since)


def quarantine(u, log: ScreeningLog, station_id: str | None, upstream: str, bad: list[tuple[int, str, str, str]],
               now: float) -> None:
    """The records a round took out (``bad``) quarantined for ``upstream``, in the unit that saves its checkpoint; the
    edited ones held and audited (``audit``). Those already quarantined (by another sync of this log running beside
    this one: the station's own and a teacher's `gate sync --once`) are neither quarantined nor held twice."""
    if not bad:
        return
    known = set(u.conn.execute(select(QUARANTINE.c.outbox_seq).where(
        QUARANTINE.c.upstream == upstream, QUARANTINE.c.outbox_seq.in_([seq for seq, *_ in bad]))).scalars())
    new = [entry for entry in bad if entry[0] not in known]
    audit(u, log, station_id, new, now)
    for seq, kind, record_id, error in new:
        u.conn.execute(QUARANTINE.insert().values(outbox_seq=seq, upstream=upstream, kind=kind, record_id=record_id,
                                                  error=error[:2000], at=now))
