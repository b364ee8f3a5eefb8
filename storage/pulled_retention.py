"""What `gate purge` deletes of the records pulled from the school's other gates, and why the rest is kept.

The pulled fevers, certificates, clearances and holds (storage.school_records) and case events (storage.pulled_cases)
are copies of what the school's upstream holds: they go by the station's own retention rule, from the start of their
chains (a chain is purged from its start only, an anchor keeps the last purged hash), in one unit of work with an
audit event (``purge-pulled``). Nothing goes that the gate still needs to decide the same way:

- anything about a pupil the gate still refuses or holds (a fever or certificate not cleared, a hold not lifted:
  ``refused``, from the fever memory), and any event of a case still open or of a case this gate holds events of;
- a clearance whose fever or case is still in this log (without it the fever would refuse again), a fever or
  certificate while an older one of the same pupil stays (it would become the latest), a case event while another
  event of its case stays;
- and where each pull starts: the next pull asks for the rows after the highest origin number kept from each gate
  (and kind), so when the purge takes a gate's newest row it appends a marker row carrying that number to the same
  chain (kind ``upto:<kind>``; a case event ``pulled-up-to``), under the same key and seal: editing it is as
  visible to `gate verify` as editing a fever. The readers skip markers (they are no fever, no case event).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from sqlalchemy import Connection, select

from domain.identifiers import id_key
from storage import cases, pulled_cases, school_records
from storage.log import ScreeningLog
from storage.school_records import MARK, cursor_kind
from storage.tables.log import SCREENINGS
from storage.tables.school import SCHOOL_CASES, SCHOOL_RECORDS

CASE_MARK = "pulled-up-to"  # a pulled case event's "event" that is a marker
_CONFIRMED = '%"fever-confirmed"%'
REASONS = {
    "refused": "about a pupil this gate still refuses or holds (a fever or certificate not cleared, a hold not "
               "lifted): they go once cleared or lifted",
    "open-case": "of a follow-up case still open (or whose opening is not here)",
    "own-case": "of a case this gate holds events of (its own cases are kept)",
    "case-events": "of a case with events not past retention (a case's events go together)",
    "cleared-here": "clearing a fever or case still in this log",
    "older-fever": "while an older fever or certificate of the same pupil stays in this log (it would count again)",
    "behind": "behind those in the chain (a chain is purged from its start only)",
    "unverified": "in a chain that does not verify: run gate verify; an admin restores the log from backup",
}


@dataclass
class Outcome:
    """Rows deleted from each chain (markers not counted), rows past retention kept by reason, markers written."""

    records: int = 0
    cases: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    markers: int = 0

    def keep(self, reason: str, n: int) -> None:
        if n > 0:
            self.kept[reason] = self.kept.get(reason, 0) + n


def is_marker_record(row) -> bool:  # noqa: ANN001 - a school_records row
    return str(row.kind).startswith(MARK)


def is_marker_event(row) -> bool:  # noqa: ANN001 - a school_cases row
    return not row.case_id and row.content == json.dumps({"event": CASE_MARK})


def describe(outcome: Outcome) -> list[str]:
    return [f"kept {n:,} record(s) pulled from the school's other gates past retention {REASONS[why]}"
            for why, n in outcome.kept.items()]


def purge_pulled(log: ScreeningLog, cutoff: float, *, refused: Iterable[str], station_id: str, actor: str,
                 now: float) -> Outcome:
    """Delete the pulled rows past ``cutoff`` (pulled before it) that nothing here still needs; ``refused``: the ids
    of the pupils the gate still refuses or holds. One unit of work, audited when anything went."""
    refused_keys = {id_key(e) for e in refused}
    out = Outcome()
    with log.unit("the purge of the records pulled from the school") as u:
        conn = u.conn
        own_cases = {r["case_id"] for r in cases.chain(log).intact(conn)}
        fevers_here = conn.execute(select(SCREENINGS.c.id, SCREENINGS.c.entrant_key, SCREENINGS.c.created_at).where(
            SCREENINGS.c.entrant_key.is_not(None), SCREENINGS.c.reasons.like(_CONFIRMED))).all()
        records = conn.execute(select(SCHOOL_RECORDS).order_by(SCHOOL_RECORDS.c.seq)).all()
        _purge_cases(log, conn, cutoff, refused_keys, own_cases, fevers_here, records, out, now)
        _purge_records(log, conn, cutoff, refused_keys, fevers_here, records, out, now)
        if out.records or out.cases:
            u.audit(station_id, actor, "purge-pulled", {"records": out.records, "case_events": out.cases,
                                                        "markers": out.markers, "kept": out.kept, "cutoff": cutoff})
    return out


def _prefix(rows: Sequence, cutoff: float, summary: Callable[[Sequence], object],
            why: Callable[[object, object], str | None]) -> tuple[int, str | None]:
    """How many rows from the start may go, and why the first that stays stays; ``why(row, summary(rest))`` judges
    a row past retention against the rows that stay. Shrunk until no row that goes needs one that stays."""
    n = next((i for i, r in enumerate(rows) if r.pulled_at >= cutoff), len(rows))
    reason = None
    while True:
        rest = summary(rows[n:])
        found = next(((i, w) for i, r in enumerate(rows[:n]) if (w := why(r, rest))), None)
        if found is None:
            return n, reason
        n, reason = found


def _earliest(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Each pupil's (id key's) earliest time among ``pairs``."""
    first: dict[str, float] = {}
    for key, at in pairs:
        first[key] = min(first.get(key, at), at)
    return first


def _kept(rows: Sequence, n: int, cutoff: float, reason: str | None, out: Outcome) -> None:
    past = sum(1 for r in rows[n:] if r.pulled_at < cutoff)
    if past and reason:
        out.keep(reason, 1)
        out.keep("behind", past - 1)
    else:
        out.keep("behind", past)


def _verified(chain, conn: Connection, rows: Sequence, cutoff: float, out: Outcome) -> bool:  # noqa: ANN001
    if chain.verify(conn).ok:
        return True
    out.keep("unverified", sum(1 for r in rows if r.pulled_at < cutoff))
    return False


def _purge_cases(log: ScreeningLog, conn: Connection, cutoff: float, refused: set[str], own: set[str],  # noqa: ANN001
                 fevers_here, records: Sequence, out: Outcome, now: float) -> None:
    chain = pulled_cases.chain(log)
    rows = conn.execute(select(SCHOOL_CASES).order_by(SCHOOL_CASES.c.seq)).all()
    if not rows or not _verified(chain, conn, rows, cutoff, out):
        return
    view = cases.all_cases(log, conn)
    certificates = _certificates(view.values())
    fixed = _earliest([*((f.entrant_key, f.created_at) for f in fevers_here),
                       *((id_key(r.entrant_id), r.at) for r in records if r.kind in ("fever", "certificate")),
                       *((k, at) for k, at, cid in certificates if cid in own)])
    closed_at = {cid: at for _k, at, cid in certificates}

    def summary(rest: Sequence) -> tuple[set, dict]:
        staying = {x.case_id for x in rest}
        return staying, _earliest((k, at) for k, at, cid in certificates if cid in staying)

    def why(r, rest) -> str | None:  # noqa: ANN001
        if is_marker_event(r):
            return None
        try:
            event = pulled_cases.event_from(json.loads(r.content))
        except ValueError:
            event = None
        if event is None:
            return None  # nobody reads it (storage.pulled_cases.events): nothing depends on it
        case, key = view.get(r.case_id), id_key(r.entrant_id)
        staying, certified = rest
        if key in refused:
            return "refused"
        if case is None or case.is_open:
            return "open-case"
        if r.case_id in own:
            return "own-case"
        if r.case_id in staying:
            return "case-events"
        at = closed_at.get(r.case_id)
        if at is not None and min(fixed.get(key, at), certified.get(key, at)) < at:
            return "older-fever"
        return None

    n, reason = _prefix(rows, cutoff, summary, why)
    _kept(rows, n, cutoff, reason, out)
    if n:
        gone = rows[:n]
        chain.purge_through(conn, gone[-1].seq, gone[-1].row_hash)
        out.cases = sum(1 for r in gone if not is_marker_event(r))
        _mark(conn, chain, gone, rows[n:], out, lambda r: (r.origin,),
              lambda origin, seq: _case_marker(origin[0], seq, now))


def _purge_records(log: ScreeningLog, conn: Connection, cutoff: float, refused: set[str], fevers_here,  # noqa: ANN001
                   rows: Sequence, out: Outcome, now: float) -> None:
    chain = school_records.chain(log)
    if not rows or not _verified(chain, conn, rows, cutoff, out):
        return
    view = cases.all_cases(log, conn)  # after the case events' purge: what stays of them
    certificates = _certificates(view.values())
    here = {f.id for f in fevers_here} | set(view)
    fixed = _earliest([*((f.entrant_key, f.created_at) for f in fevers_here), *((k, at) for k, at, _c in certificates)])

    def summary(rest: Sequence) -> tuple[set, dict]:
        fevers = [x for x in rest if x.kind in ("fever", "certificate")]
        return {_target(x) for x in fevers}, _earliest((id_key(x.entrant_id), x.at) for x in fevers)

    def why(r, rest) -> str | None:  # noqa: ANN001
        if is_marker_record(r):
            return None
        key = id_key(r.entrant_id)
        targets, earliest = rest
        if key in refused:
            return "refused"
        if r.kind == "clearance":
            target = json.loads(r.content).get("fever_screening_id")
            return "cleared-here" if target in here or target in targets else None
        if r.kind in ("fever", "certificate"):
            return "older-fever" if min(fixed.get(key, r.at), earliest.get(key, r.at)) < r.at else None
        return None  # a hold (an open one is the pupil's: refused) or its lifting

    n, reason = _prefix(rows, cutoff, summary, why)
    _kept(rows, n, cutoff, reason, out)
    if n:
        gone = rows[:n]
        chain.purge_through(conn, gone[-1].seq, gone[-1].row_hash, now)
        out.records = sum(1 for r in gone if not is_marker_record(r))
        _mark(conn, chain, gone, rows[n:], out, lambda r: (r.origin, cursor_kind(r.kind)),
              lambda origin_kind, seq: _record_marker(*origin_kind, seq, now))


def _target(row) -> str | None:  # noqa: ANN001 - a pulled fever's screening id, a certificate's case id
    d = json.loads(row.content)
    return d.get("id") if row.kind == "fever" else d.get("case_id")


def _certificates(view: Iterable) -> list[tuple[str, float, str]]:
    """(pupil's key, closed at, case id) of every case state that needs a certificate (storage.cases)."""
    return [(id_key(s.entrant_id), s.closed_at or 0.0, s.case_id) for c in view for s in cases.certificate_states(c)]


def _mark(conn: Connection, chain, gone: Sequence, rest: Sequence, out: Outcome,  # noqa: ANN001
          key: Callable, marker: Callable) -> None:
    """A marker for each gate (and kind) whose newest pulled number went with the purge: the next pull starts
    after it, as it would have after the row."""
    top: dict[tuple, int] = {}
    for r in gone:
        top[key(r)] = max(top.get(key(r), 0), r.origin_seq)
    for r in rest:
        if top.get(key(r), -1) <= r.origin_seq:
            top.pop(key(r), None)
    for k, seq in sorted(top.items()):
        values = marker(k, seq)
        chain.append(conn, values, chain.content(values))
        out.markers += 1


def _case_marker(origin: str, seq: int, now: float) -> dict:
    return {"id": f"{origin}/{CASE_MARK}/{seq}", "origin": origin, "origin_seq": seq, "case_id": "",
            "entrant_id": "", "at": round(now, 6), "pulled_at": round(now, 6),
            "content": json.dumps({"event": CASE_MARK})}


def _record_marker(origin: str, kind: str, seq: int, now: float) -> dict:
    return {"id": f"{origin}/{MARK}{kind}/{seq}", "origin": origin, "origin_seq": seq, "kind": f"{MARK}{kind}",
            "entrant_id": "", "at": round(now, 6), "pulled_at": round(now, 6), "content": "{}"}
