"""Follow-up cases open by themselves: when a session closes (each pupil not seen, each retest left open), and with
the screening that confirms a fever or refuses a pupil for no mask. The clock is a parameter.

A session of a day is closed out once, and only on a school day: a day on which this station screened someone (a
weekend or a holiday with nobody at the gate opens nothing). Days up to ``LOOKBACK_DAYS`` back are caught up, so a
station switched on at 09:00 still opens the morning's cases.
"""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import select

from domain import Decision, EntrantKind, Reason, Screening
from domain.case import CaseReason
from domain.identifiers import id_key
from domain.sessions import Session, ended
from gate.fever_memory import is_open
from storage import cases
from storage.log import ScreeningLog, local_day
from storage.tables.log import SCREENINGS
from storage.tables.roster import ENTRANTS
from storage.records import screening_from_row
from storage.unit import UnitOfWork

LOOKBACK_DAYS = 7


def _class_of(u: UnitOfWork, entrant_id: str) -> str:
    """The roster's class of the entrant under any spelling (p42 is the pupil P42), or "" when not on the roster."""
    found = u.conn.execute(select(ENTRANTS.c.group).where(ENTRANTS.c.roster_id == entrant_id)).scalar()
    if found is None:
        key = id_key(entrant_id)
        found = next((g for rid, g in u.conn.execute(select(ENTRANTS.c.roster_id, ENTRANTS.c.group))
                      if id_key(rid) == key), None)
    return found or ""


def on_screening(u: UnitOfWork, log: ScreeningLog, s: Screening) -> None:
    """Open the case a stored screening calls for, in its own unit of work: a confirmed fever, or a no-mask
    refusal (once a day per person while the case is open). Anonymous screenings cannot be followed up."""
    if not s.entrant_id or s.decision is not Decision.DENY:
        return
    day = local_day(s.created_at)
    if Reason.FEVER_CONFIRMED in s.reasons:
        reason = CaseReason.FEVER
    elif Reason.NO_MASK in s.reasons and not cases.has_open(u.conn, s.entrant_id, CaseReason.NO_MASK, day):
        reason = CaseReason.NO_MASK
    else:
        return
    cases.open_case(u, log, station_id=s.station_id, entrant_id=s.entrant_id, class_name=_class_of(u, s.entrant_id),
                    day=day, session=s.session, reason=reason, screening_id=s.id, at=s.created_at)


def _school_days(conn, now: float) -> list[str]:
    first = local_day(now - LOOKBACK_DAYS * 86400)
    return list(conn.execute(select(SCREENINGS.c.day).where(SCREENINGS.c.day >= first, SCREENINGS.c.day <= local_day(now))
                             .distinct().order_by(SCREENINGS.c.day)).scalars())


SeenElsewhere = Callable[[str, str], set]  # (day, session) -> ids seen at the school's other gates; raises if unknown


def close_sessions(log: ScreeningLog, sessions: tuple[Session, ...], station_id: str, now: float, *,
                   absences: str = "this-gate", seen_elsewhere: SeenElsewhere | None = None,
                   waiting: list | None = None) -> int:
    """Close out every session that has ended by ``now`` and was not closed out yet; returns the cases opened.

    ``absences``: "this-gate" opens a case for each pupil not seen here; "school" also counts who
    ``seen_elsewhere`` says was seen at another gate (a session whose answer cannot be had is left for later: a case
    opened on a guess would send a teacher after a pupil who came in by the other gate); "off" opens none (another
    gate of the school keeps the absence cases). Each (day, session) left waiting for the upstream is added to
    ``waiting`` when given, so the list can say it is not complete."""
    opened = 0
    with log.read("the sessions to close") as conn:
        done = cases.closed_out(conn, log.key)
        due = [(day, s) for day in _school_days(conn, now) for s in ended(sessions, day, now)
               if (day, s.name) not in done]
    for day, session in due:
        elsewhere: set | None = set()
        if absences == "school":
            try:
                elsewhere = seen_elsewhere(day, session.name) if seen_elsewhere else None
            except Exception:  # noqa: BLE001  upstream unreachable or unusable: close this session out later
                elsewhere = None
            if elsewhere is None:
                if waiting is not None:
                    waiting.append((day, session.name))
                continue
        with log.unit(f"the close of {day} {session.name}") as u:
            if (day, session.name) in cases.closed_out(u.conn, log.key):  # another process closed it meanwhile
                continue
            n = _close(u, log, day, session, station_id, now, elsewhere if absences != "off" else None)
            cases.mark_closed(u.conn, log.key, day, session.name, now, n)
            u.audit(station_id, "station", "session-closed", {"day": day, "session": session.name, "cases": n})
            opened += n
    return opened


def _close(u: UnitOfWork, log: ScreeningLog, day: str, session: Session, station_id: str, now: float,
           elsewhere: set | None) -> int:
    """Open the session's cases; ``elsewhere`` is who the other gates saw (None: open no absence case here)."""
    conn = u.conn
    rows = conn.execute(select(SCREENINGS).where(SCREENINGS.c.day == day, SCREENINGS.c.session == session.name,
                                                 SCREENINGS.c.entrant_id.is_not(None))
                        .order_by(SCREENINGS.c.seq)).mappings().all()
    rows = [r for r in rows if log.screening_chain.holds(r)]  # a row edited in the file (moved into the session) is
    # not a sighting: the pupil gets a case, and gate verify names the row
    # Each person's last screening of the session, by the key of the id (the pupil P42 screened as p42 was seen).
    latest = {r["entrant_key"] or id_key(r["entrant_id"]): r for r in rows}
    elsewhere = {id_key(e) for e in elsewhere} if elsewhere is not None else None
    pupils = conn.execute(select(ENTRANTS.c.roster_id, ENTRANTS.c.group)
                          .where(ENTRANTS.c.kind == EntrantKind.PUPIL.value)).all()
    n = 0
    end = session.end_on(day)
    sent_home = _sent_home(conn, day)
    for rid, group in pupils if elsewhere is not None else ():
        if id_key(rid) in latest or id_key(rid) in elsewhere or id_key(rid) in sent_home or \
                cases.has_open(conn, rid, CaseReason.ABSENT, day):
            continue
        cases.open_case(u, log, station_id=station_id, entrant_id=rid, class_name=group, day=day,
                        session=session.name, reason=CaseReason.ABSENT, screening_id=None, at=end)
        n += 1
    groups = {id_key(rid): group for rid, group in pupils}
    for key, row in latest.items():
        s, rid = screening_from_row(row), row["entrant_id"]
        # Still open if nothing answered it later (another session, another day, any spelling) before this close-out.
        later = conn.execute(select(SCREENINGS.c.id).where(SCREENINGS.c.entrant_key == key,
                                                           SCREENINGS.c.seq > row["seq"]).limit(1)).first()
        if is_open(s) and later is None and not cases.has_open(conn, rid, CaseReason.RETEST_OPEN):
            group = groups.get(key) or _class_of(u, rid)
            cases.open_case(u, log, station_id=station_id, entrant_id=rid, class_name=group, day=day,
                            session=session.name, reason=CaseReason.RETEST_OPEN, screening_id=s.id, at=end)
            n += 1
    return n


_SENT_HOME = (Reason.FEVER_CONFIRMED, Reason.FEVER_NOT_CLEARED, Reason.CERTIFICATE_NEEDED)


def _sent_home(conn, day: str) -> set[str]:
    """The keys of the pupils the gate sent home that day (a fever, or no clearance yet): their absence later is known, and their
    fever case (or the one already closed) follows it up."""
    from sqlalchemy import or_

    rows = conn.execute(select(SCREENINGS.c.entrant_id).where(
        SCREENINGS.c.day == day, SCREENINGS.c.decision == Decision.DENY.value, SCREENINGS.c.entrant_id.is_not(None),
        or_(*(SCREENINGS.c.reasons.like(f'%"{r.value}"%') for r in _SENT_HOME))).distinct())
    return {id_key(e) for e in rows.scalars()}


def open_count(log: ScreeningLog, classes: tuple[str, ...] | None = None) -> int:
    """The school's open cases (this gate's and those pulled from its other gates) of ``classes``."""
    return len(cases.listed(log, open_only=True, classes=classes))


def list_scope(log: ScreeningLog, cfg) -> str:
    """Whose cases a list shows: the school's as of the last sync, or this gate's only (and why)."""
    from storage import pulled_cases

    if not cfg.upstream_url or not cfg.school_id:
        why = "no upstream in the config" if not cfg.upstream_url else "no [school] id in the config"
        return f"this gate's cases only ({why}): cases opened or closed at the school's other gates are not here"
    with log.read("the last sync") as conn:
        pulled, synced = pulled_cases.last_pull(conn)
        check = pulled_cases.verify(log, conn)
    if synced is None:
        return "this gate's cases only so far: not synced yet (gate sync pulls the school's other gates' cases)"
    said = (f"the school's cases ({cfg.school_id}): this gate's and {pulled} event(s) pulled from its other gates, "
            f"as of the last sync {now_text(synced)}")
    if not check.ok:  # the list believes the pulled chain up to the break only
        where = f" at row {check.bad_seq}" if check.bad_seq is not None else ""
        said += (f"; WARNING: the cases pulled from the other gates were changed in this log{where}: what follows "
                 "it is not shown; an admin runs gate verify")
    return said


def now_text(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
