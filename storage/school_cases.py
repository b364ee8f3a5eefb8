"""One follow-up case list for a school with several gates: each sync pulls the case events (opens and closes) the
school's other gates sent upward, and settles this gate's absence cases against who the other gates saw.

- Every gate sends its own case events upward already (the outbox, storage.sync); a close recorded here of a case
  another gate opened is one of them, so the opening gate learns it at its next sync.
- ``pull`` stores the other gates' events after the highest origin sequence pulled from each, in one chain
  (storage.pulled_cases): pulling twice stores nothing twice.
- Two gates closing one case before either heard of the other: the first close by time counts everywhere
  (storage.cases.fold), the other is kept as a note; the gate that finds the clash audits it
  (``case-close-conflict``).
- ``settle``: a pupil seen at any gate of the school in a session is seen (the school report's rule), so this gate's
  "not seen" case of that session is closed by the station as ``seen-at-gate``, audited, naming the gate and time.
"""
from __future__ import annotations

import datetime
import json
import time

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain.case import CaseReason, Outcome
from domain.identifiers import id_key
from domain.sessions import Session
from storage import cases, pulled_cases
from storage import upstream_schema as up
from storage.log import ScreeningLog
from storage.tables.school import SCHOOL_CASES as PULLED
from storage.school_records import _others
from storage.unit import UnitOfWork

SEEN_NOTE = "seen at {gate} in the {session} check at {time}: not absent (the station closed this case)"


def _new_events(conn: Connection, school_id: str, origin: str, after: int) -> list[dict]:
    c = up.cases
    rows = conn.execute(select(c).where(c.c.school_id == school_id, c.c.station_id == origin, c.c.seq > after)
                        .order_by(c.c.seq)).mappings().all()
    return [{**{k: r[k] for k in pulled_cases.EVENT_KEYS}, "seq": r["seq"]} for r in rows]


def pull(log: ScreeningLog, engine: Engine, school_id: str, fingerprint: str, station_id: str, *,
         own: frozenset[str] = frozenset(), now: float | None = None) -> int:
    """Store the other gates' case events not pulled yet; returns how many were stored. One read of the upstream,
    one unit of work here (a pull cut off half way stores nothing). A close that clashes with one already known is
    audited in the same unit."""
    now = time.time() if now is None else now
    with log.read("the case events pulled from the school") as conn:
        after = dict(conn.execute(select(PULLED.c.origin, func.max(PULLED.c.origin_seq)).group_by(PULLED.c.origin))
                     .all())
    with engine.connect() as conn, conn.begin():
        found = [(origin, e) for origin in _others(conn, school_id, fingerprint, own | {station_id})
                 for e in _new_events(conn, school_id, origin, after.get(origin, 0))]
    if not found:
        return 0
    stored, closed = 0, set()
    with log.unit("the case events pulled from the school") as u:
        have = set(u.conn.execute(select(PULLED.c.id).where(
            PULLED.c.id.in_([f"{o}/{e['seq']}" for o, e in found]))).scalars())
        for origin, e in found:
            seq = e.pop("seq")
            values = {"id": f"{origin}/{seq}", "origin": origin, "origin_seq": seq, "case_id": str(e["case_id"]),
                      "entrant_id": str(e["entrant_id"]), "at": round(float(e["at"]), 6), "pulled_at": round(now, 6),
                      "content": json.dumps(e, ensure_ascii=False, sort_keys=True)}
            if values["id"] in have:
                continue
            pulled_cases.chain(log).append(u.conn, values, pulled_cases.pulled_content(values))
            have.add(values["id"])
            stored += 1
            if e["event"] == "close":
                closed.add(values["case_id"])
        _audit_clashes(u, log, station_id, closed)
    return stored


def _close_text(gate: str, by: str, at: float, outcome: object) -> dict:
    return {"gate": gate, "by": by, "at": at, "outcome": str(outcome)}


def _audit_clashes(u: UnitOfWork, log: ScreeningLog, station_id: str, closed: set[str]) -> None:
    """Each case just closed from another gate that was closed twice: which close counts, which is a note."""
    if not closed:
        return
    view = cases.all_cases(log, u.conn)
    for cid in sorted(closed):
        c = view.get(cid)
        if c is None or not c.other_closes:
            continue
        u.audit(station_id, "station", "case-close-conflict", {
            "case": cid, "entrant_id": c.entrant_id,
            "counts": _close_text(c.closed_at_gate or "", c.closed_by or "", c.closed_at or 0.0, c.outcome),
            "notes": [_close_text(o.gate, o.by, o.at, o.outcome) for o in c.other_closes],
            "rule": "the first close by time counts; the later one is kept as a note"})


def _sightings(engine: Engine, school_id: str, day: str, session: Session | None,
               station_id: str) -> dict[str, tuple]:
    """id key -> (gate, first time) of each person screened at another gate of the school in that session: its
    name AND its time inside this gate's window of it (a label can be edited, or typed wider at the other gate)."""
    if session is None:  # a session this gate's config does not know: nobody is seen in it
        return {}
    sc = up.screenings
    when = datetime.date.fromisoformat(day) if engine.dialect.name == "postgresql" else day
    start = time.mktime(datetime.datetime.combine(datetime.date.fromisoformat(day), session.start).timetuple())
    with engine.connect() as conn:
        rows = conn.execute(select(sc.c.entrant_id, sc.c.station_id, func.min(sc.c.created_at)).where(
            sc.c.school_id == school_id, sc.c.day == when, sc.c.session == session.name, sc.c.station_id != station_id,
            sc.c.created_at >= start, sc.c.created_at < session.end_on(day),
            sc.c.entrant_id.is_not(None)).group_by(sc.c.entrant_id, sc.c.station_id)).all()
    found: dict[str, tuple] = {}
    for entrant, gate, first in rows:
        key = id_key(entrant)
        if key not in found or first < found[key][1]:
            found[key] = (gate, first)
    return found


def settle(log: ScreeningLog, engine: Engine, school_id: str, station_id: str, now: float | None = None,
           sessions: tuple[Session, ...] = ()) -> int:
    """Close, as ``seen-at-gate``, each of this gate's open "not seen" cases whose pupil another gate of the school
    screened in that session (within its window in ``sessions``, this gate's config; none given: nothing settles);
    returns how many. Audited, chained, and sent upward like a teacher's close."""
    now = time.time() if now is None else now
    mine = [c for c in cases.listed(log, open_only=True)
            if c.reason is CaseReason.ABSENT and c.session and c.gate == station_id]
    if not mine:
        return 0
    known = {s.name: s for s in sessions}
    seen = {(d, s): _sightings(engine, school_id, d, known.get(s), station_id)
            for d, s in {(c.day, c.session) for c in mine}}
    closed = 0
    for c in mine:
        found = seen[(c.day, c.session)].get(id_key(c.entrant_id))
        if found is None:
            continue
        gate, first = found
        note = SEEN_NOTE.format(gate=gate, session=c.session, time=time.strftime("%H:%M", time.localtime(first)))
        try:
            cases.close_case(log, c.case_id, station_id=station_id, outcome=Outcome.SEEN_AT_GATE, symptoms=(),
                             onset=None, note=note, by="station", role="", at=now)
        except cases.CaseRefused:
            continue  # closed meanwhile (a teacher here): that close counts
        closed += 1
    return closed


def pull_for(sync) -> tuple[int, int]:
    """The case part of one round of ``storage.sync.Sync.once``: (events pulled, absence cases settled). Nothing for
    a station that is its own school or whose station id the sync was not told."""
    from storage.sync import SyncError, _one_line

    if not sync.school_id or not sync.station_id:
        return 0, 0
    try:
        engine = sync.engine()
        n = pull(log := sync.log, engine, sync.school_id, sync.fingerprint(), sync.station_id, now=sync.clock())
        return n, settle(log, engine, sync.school_id, sync.station_id, now=sync.clock(), sessions=sync.sessions)
    except SQLAlchemyError as exc:
        raise SyncError(f"upstream {sync.shown_url}: cannot pull the school's follow-up cases from its other "
                        f"gates: {_one_line(exc)}") from None
