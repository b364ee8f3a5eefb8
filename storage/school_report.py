"""One school across its gates, read from the upstream: who was seen (at any gate), who was not (per class, staff
apart), fevers, follow-up cases; and the roster that makes it possible, sent by the stations that share it.

The one module of the school report's queries (the bureau's view reuses them). Read-only apart from ``push_roster``,
which only inserts (the stations' upstream role may only insert): each roster import is a new version, the newest
one counts. A pupil seen at any gate of the school, in the session asked, is seen.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from domain import Entrant, EntrantKind
from domain.case import Case, CaseReason, Outcome
from storage import upstream_schema as up
from storage.cases import duplicate_absences

FEVER = '%"fever-confirmed"%'


def roster_version(entrants: list[Entrant], imported_as: str | None) -> str:
    """A roster's version: the import that made it (its audit event id), else its content's digest."""
    if imported_as:
        return imported_as
    text = json.dumps(sorted((e.roster_id, e.name, e.group, e.kind.value) for e in entrants), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _insert(engine: Engine, table):
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def push_roster(engine: Engine, school_id: str, station_id: str, version: str, entrants: list[Entrant],
                now: float | None = None) -> bool:
    """Send the roster once per version (pupils and staff, not visitors); True if it was new upstream."""
    rv, rp = up.roster_versions, up.roster_people
    people = [e for e in entrants if e.kind is not EntrantKind.VISITOR]
    with engine.begin() as conn:
        if conn.execute(select(rv.c.version).where(rv.c.school_id == school_id, rv.c.version == version)).first():
            return False
        if people:
            conn.execute(_insert(engine, rp), [{"school_id": school_id, "version": version, "roster_id": e.roster_id,
                                                "name": e.name, "class_name": e.group, "kind": e.kind.value}
                                               for e in people])
        conn.execute(_insert(engine, rv), {"school_id": school_id, "version": version, "station_id": station_id,
                                           "people": len(people), "sent_at": time.time() if now is None else now})
    return True


@dataclass
class SchoolDay:
    """What the school report is made of, for one school, one day, one session (or the whole day)."""

    school_id: str
    name: str
    day: str
    session: str | None
    roster: list[Entrant] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    stations: dict[str, int] = field(default_factory=dict)  # station -> screenings that day (the session)
    fevers: set[str] = field(default_factory=set)  # entrants with a fever confirmed that day, at any gate
    cases: list[Case] = field(default_factory=list)  # every case of the school opened up to that day
    # each registered gate -> the [clusters] numbers its last daily report up to that day carried (None: none sent)
    rules: dict[str, tuple | None] = field(default_factory=dict)

    @property
    def unscreened(self) -> list[Entrant]:
        return [e for e in self.roster if e.roster_id not in self.seen]


def _day(engine: Engine, day: str):
    return dt.date.fromisoformat(day) if engine.dialect.name == "postgresql" else day


def _end_of(day: str) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=1), dt.time()).timestamp()


def seen(engine: Engine, school_id: str, day: str, session: str | None) -> set[str]:
    """Ids screened at any gate of the school on ``day`` (in ``session``)."""
    sc = up.screenings
    cond = [sc.c.school_id == school_id, sc.c.day == _day(engine, day), sc.c.entrant_id.is_not(None)]
    if session is not None:
        cond.append(sc.c.session == session)
    with engine.connect() as conn:
        return set(conn.execute(select(sc.c.entrant_id).where(*cond).distinct()).scalars())


SENT_HOME = ('%"fever-confirmed"%', '%"fever-not-cleared"%', '%"certificate-needed"%')


def sent_home(engine: Engine, school_id: str, day: str) -> set[str]:
    """Ids a gate of the school sent home on ``day`` (a fever, or no clearance yet)."""
    from sqlalchemy import or_

    sc = up.screenings
    with engine.connect() as conn:
        return set(conn.execute(select(sc.c.entrant_id).where(
            sc.c.school_id == school_id, sc.c.day == _day(engine, day), sc.c.decision == "deny",
            sc.c.entrant_id.is_not(None), or_(*(sc.c.reasons.like(r) for r in SENT_HOME))).distinct()).scalars())


def school_day(engine: Engine, school_id: str, day: str, session: str | None = None) -> SchoolDay:
    sc, rv, rp, cs, schools = up.screenings, up.roster_versions, up.roster_people, up.cases, up.schools
    cond = [sc.c.school_id == school_id, sc.c.day == _day(engine, day)]
    if session is not None:
        cond.append(sc.c.session == session)
    with engine.connect() as conn:
        name = conn.execute(select(schools.c.name).where(schools.c.school_id == school_id)).scalar() or ""
        version = conn.execute(select(rv.c.version).where(rv.c.school_id == school_id, rv.c.sent_at < _end_of(day))
                               .order_by(rv.c.sent_at.desc()).limit(1)).scalar()
        if version is None:  # a roster sent later than the day asked is still better than none
            version = conn.execute(select(rv.c.version).where(rv.c.school_id == school_id)
                                   .order_by(rv.c.sent_at.desc()).limit(1)).scalar()
        people = conn.execute(select(rp.c.roster_id, rp.c.name, rp.c.class_name, rp.c.kind)
                              .where(rp.c.school_id == school_id, rp.c.version == version)
                              .order_by(rp.c.class_name, rp.c.roster_id)).all() if version else []
        seen = set(conn.execute(select(sc.c.entrant_id).where(*cond, sc.c.entrant_id.is_not(None))
                                .distinct()).scalars())
        stations = dict(conn.execute(select(sc.c.station_id, func.count()).where(*cond)
                                     .group_by(sc.c.station_id)).all())
        fevers = set(conn.execute(select(sc.c.entrant_id).where(*cond, sc.c.reasons.like(FEVER),
                                                                sc.c.entrant_id.is_not(None)).distinct()).scalars())
        events = conn.execute(select(cs).where(cs.c.school_id == school_id, cs.c.day <= day)
                              .order_by(cs.c.at, cs.c.station_id, cs.c.id)).mappings().all()
    return SchoolDay(school_id, name, day, session,
                     [Entrant(r, n, c, EntrantKind(k)) for r, n, c, k in people], seen,
                     {k: int(v) for k, v in stations.items()}, fevers, _cases(events, _end_of(day)),
                     cluster_rules(engine, school_id, day))


RULE_KEYS = ("same_day_pupils", "window_days", "window_pupils")


def rules_sent(content: object) -> tuple | None:
    """The `[clusters]` numbers a station's daily report carries (its ``cluster_rules``), as sent: text from a station,
    anything may be in it, so anything but an object with those three whole numbers is None (checked against what
    `[clusters]` allows by gate.clusters.Rules.sent)."""
    try:
        data = json.loads(content)
    except (ValueError, TypeError, RecursionError):
        return None
    raw = data.get("cluster_rules") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    numbers = tuple(raw.get(k) for k in RULE_KEYS)
    return numbers if all(isinstance(n, int) and not isinstance(n, bool) for n in numbers) else None


def cluster_rules(engine: Engine, school_id: str, day: str) -> dict[str, tuple | None]:
    """Each registered gate of the school -> the `[clusters]` numbers of its last daily report up to ``day`` (None:
    it has sent no daily report that carries them)."""
    st, rp = up.stations, up.daily_reports
    with engine.connect() as conn:
        gates = conn.execute(select(st.c.station_id).where(st.c.school_id == school_id)).scalars().all()
        reports = conn.execute(select(rp.c.station_id, rp.c.content)
                               .where(rp.c.school_id == school_id, rp.c.day <= day)
                               .order_by(rp.c.day, rp.c.created_at)).all()
    found: dict[str, tuple | None] = {g: None for g in sorted(gates)}
    for station, content in reports:  # in order: the last one that says counts
        numbers = rules_sent(content)
        if numbers is not None or station not in found:
            found[station] = numbers if numbers is not None else found.get(station)
    return found


def what_is_known(engine: Engine, school_id: str) -> tuple[bool, set[str]]:
    """(whether any gate of the school has sent anything here: a screening, a roster or a case; the session names its
    gates have sent screenings under)."""
    sc, rv, cs = up.screenings, up.roster_versions, up.cases
    with engine.connect() as conn:
        sessions = set(conn.execute(select(sc.c.session).where(sc.c.school_id == school_id, sc.c.session.is_not(None))
                                    .distinct()).scalars())
        sent = bool(sessions) or any(conn.execute(select(t.c.school_id).where(t.c.school_id == school_id).limit(1))
                                     .first() is not None for t in (sc, rv, cs))
    return sent, sessions


def gates_synced(engine: Engine, school_id: str) -> tuple[dict[str, float | None], int | None]:
    """Each registered gate of the school -> when it last synced (None: never); and how many gates the bureau
    expects of the school (None: not declared)."""
    st, schools = up.stations, up.schools
    with engine.connect() as conn:
        gates = dict(conn.execute(select(st.c.station_id, st.c.synced_at).where(st.c.school_id == school_id)).all())
        expected = conn.execute(select(schools.c.expected_stations).where(schools.c.school_id == school_id)).scalar()
    return gates, expected


def absence_keepers(engine: Engine, school_id: str) -> set[str]:
    """The gates of the school that have opened not-seen (absence) cases upstream: the gates keeping them."""
    cs = up.cases
    with engine.connect() as conn:
        return set(conn.execute(select(cs.c.station_id).where(cs.c.school_id == school_id, cs.c.event == "open",
                                                                cs.c.reason == CaseReason.ABSENT.value)
                                .distinct()).scalars())


def cases_until(engine: Engine, school_id: str, day: str) -> list[Case]:
    """Every case of the school (all its gates) opened up to ``day``, as it stood at the end of that day."""
    cs = up.cases
    with engine.connect() as conn:
        events = conn.execute(select(cs).where(cs.c.school_id == school_id, cs.c.day <= day)
                              .order_by(cs.c.at, cs.c.station_id, cs.c.id)).mappings().all()
    return _cases(events, _end_of(day))


def _cases(events, until: float) -> list[Case]:
    """Cases from their events as they stood at the end of the day (a close after it is not seen yet); two gates
    closing one case: the first by time counts, a tie goes to the gate id (as at the gates, storage.cases.fold)."""
    same = duplicate_absences(r for r in events if r["event"] == "open")  # one absence case a pupil a session
    found: dict[str, Case] = {}
    # opens first: a close stamped by another gate's clock may read earlier than the open it closes
    for r in sorted(events, key=lambda r: r["event"] != "open"):
        if r["case_id"] in same:
            r = {**r, "case_id": same[r["case_id"]]}
            if r["event"] == "open":
                continue
        if r["event"] == "open":
            found.setdefault(r["case_id"], Case(r["case_id"], r["entrant_id"], r["class_name"], r["day"],
                                                r["session"], CaseReason(r["reason"]), r["screening_id"], r["at"]))
        elif r["event"] == "close" and r["case_id"] in found and r["at"] < until and found[r["case_id"]].is_open:
            c = found[r["case_id"]]
            found[r["case_id"]] = Case(**{**c.__dict__, "outcome": Outcome(r["outcome"]),
                                          "symptoms": tuple(json.loads(r["symptoms"])), "onset": r["onset"],
                                          "note": r["note"], "closed_by": r["by"], "closed_at": r["at"]})
    return list(found.values())
