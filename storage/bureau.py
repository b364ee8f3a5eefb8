"""The education bureau's reading of the upstream: one row per school for a day, the late list, a school's gates,
sessions and cases, a 7-day trend. Read-only: every query is a SELECT (the bureau's role may only read).

A figure the schools did not send is ``None`` ("not reported"), never a guess: screenings-derived counts (screened,
confirmed fevers, no-mask refusals) need the school's screenings of that day or its report; report-derived ones
(unscreened, open cases, clusters, zero report) need the school's daily report (日报告) or its case events.
A school is **late** when, at ``now``, the day's cutoff (default 09:00) has passed and no station of the school has
sent its daily report for the day. Clock-dependent answers take ``now`` as a parameter.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from itertools import islice

from sqlalchemy import Engine, and_, case, func, select

from storage import upstream as up
from storage.bureau_access import BureauError, NoSchoolSeen, check_sees_schools  # noqa: F401  (named here before)
from storage.provisional import half_school, school_waits  # noqa: F401  (half_school: the rule's part, named here before)

FEVER = '%"fever-confirmed"%'
NO_MASK = '%"no-mask"%'


@dataclass
class SchoolDay:
    """One school on one day, as the bureau's table shows it."""

    school_id: str
    name: str
    day: str
    expected_stations: int
    stations_registered: int
    stations_reported: int
    last_sync: float | None
    screened: int | None
    confirmed_fevers: int | None
    no_mask_refusals: int | None
    unscreened: int | None
    open_cases: int | None
    clusters: int | None
    zero_report: bool | None
    reported_at: float | None
    late: bool
    provisional: bool = False  # a gate has not reported yet, or said its checks wait for another gate: no zero report

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SchoolDetail:
    """A school's drill-down: its gates, its sessions, its cases (pseudonymised ids, classes, no names)."""

    school: SchoolDay
    gates: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)


def cutoff_at(day: dt.date, cutoff: dt.time) -> float:
    """The moment (local time of the bureau's machine) a day's reports are due."""
    return dt.datetime.combine(day, cutoff).timestamp()


def _day_value(engine: Engine, day: dt.date):
    return day if engine.dialect.name == "postgresql" else day.isoformat()


def _end_of(day: dt.date) -> float:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()


def _counts(engine: Engine, first, last, by_day: bool = False, only: str | None = None):
    """Per school (and day): screened, confirmed fevers, no-mask refusals from ``first`` to ``last`` (of school
    ``only`` when given). On PostgreSQL from the daily rollup the upstream keeps as screenings arrive (upstream
    migration u0012: one row a school and day, not a scan of the day's screenings, for a province's 20,000 schools);
    elsewhere counted from the screenings."""
    if engine.dialect.name == "postgresql":
        d = up.school_days
        return _of(select(d.c.school_id, *([d.c.day] if by_day else []), d.c.screened, d.c.confirmed_fevers,
                          d.c.no_mask_refusals).where(d.c.day >= first, d.c.day <= last), d.c.school_id, only)
    sc = up.screenings
    keys = [sc.c.school_id, *([sc.c.day] if by_day else [])]
    return _of(select(*keys, func.sum(case((sc.c.follows.is_(None), 1), else_=0)),
                      func.sum(case((sc.c.reasons.like(FEVER), 1), else_=0)),
                      func.sum(case((and_(sc.c.decision == "deny", sc.c.reasons.like(NO_MASK)), 1), else_=0)))
               .where(sc.c.day >= first, sc.c.day <= last), sc.c.school_id, only).group_by(*keys)


def _of(query, column, only: str | None):
    """``query`` narrowed to one school when ``only`` names one (a drill-down reads one school, not a province)."""
    return query if only is None else query.where(column == only)


def schools_on(engine: Engine, day: dt.date, now: float, cutoff: dt.time = dt.time(9, 0),
               only: str | None = None) -> list[SchoolDay]:
    """Every school (declared by the bureau or registered by its stations) on ``day``, ordered by id; or the one
    school ``only`` names (every statement then reads that school's rows only)."""
    s, st, cs = up.schools, up.stations, up.cases
    on = _day_value(engine, day)
    with engine.connect() as conn:
        schools = conn.execute(_of(select(s.c.school_id, s.c.name, s.c.expected_stations), s.c.school_id, only)
                               .order_by(s.c.school_id)).all()
        if not schools and only is None:
            check_sees_schools(conn)  # none seen: a role listed for no school is told so, never "0 late"
        gates: dict[str, dict[str, float | None]] = {}
        for school_id, station_id, synced in conn.execute(
                _of(select(st.c.school_id, st.c.station_id, st.c.synced_at), st.c.school_id, only)):
            gates.setdefault(school_id, {})[station_id] = synced
        counts = {r[0]: r[1:] for r in conn.execute(_counts(engine, on, on, only=only))}
        latest = gate_reports(conn, day, only)
        opened = cs.alias("o")
        open_cases = dict(conn.execute(
            _of(select(opened.c.school_id, func.count(func.distinct(opened.c.case_id)))
                .where(opened.c.event == "open", opened.c.day <= day.isoformat(),
                       ~select(cs.c.id).where(cs.c.school_id == opened.c.school_id,
                                              cs.c.case_id == opened.c.case_id,
                                              cs.c.event == "close", cs.c.at < _end_of(day)).exists()),
                opened.c.school_id, only)
            .group_by(opened.c.school_id)).all())
    due = cutoff_at(day, cutoff)
    out = []
    for school_id, name, expected in schools:
        synced = gates.get(school_id, {})
        registered = len(synced)
        last_sync = max((t for t in synced.values() if t is not None), default=None)
        got = latest.get(school_id, {})
        screened, fevers, no_mask = counts.get(school_id, (None, None, None))
        reported_at = min((c for c, _ in got.values()), default=None)
        if got and screened is None:
            screened = fevers = no_mask = 0  # reported, nothing screened: a real zero
        contents = [c for _, c in got.values()]
        clusters = None
        if any(c["clusters"] is not None for c in contents):
            clusters = sum(c["clusters"] or 0 for c in contents)
        # Half a school is not a zero report: a gate has not synced since a check ended, a gate the bureau expects
        # has not reported, or a gate said its checks wait for another gate's sync (storage.provisional, the school
        # report's rule too). A fever or a cluster already makes it no zero report. Nothing reported: not reported.
        half = school_waits({g: c for g, (_, c) in got.items()}, synced, expected, day.isoformat(), now,
                            {s for c in contents for s in c["sessions"]}) if got else None
        provisional = half is not None
        zeros = [c["zero_report"] for c in contents]
        if not got:
            zero = None
        elif fevers or clusters or False in zeros:
            zero = False
        elif provisional or None in zeros:
            zero = None  # undecided until the last gate reports
        else:
            zero = True
        out.append(SchoolDay(
            school_id=school_id, name=name, day=day.isoformat(),
            expected_stations=expected if expected is not None else registered,
            stations_registered=registered, stations_reported=len(got), last_sync=last_sync,
            screened=_int(screened), confirmed_fevers=_int(fevers), no_mask_refusals=_int(no_mask),
            unscreened=school_unscreened([c for _, c in got.values()], half),
            open_cases=open_cases.get(school_id, 0) if got or school_id in open_cases else None,
            clusters=clusters, zero_report=zero, reported_at=reported_at,
            late=now >= due and not got, provisional=provisional))
    return out


def gate_reports(conn, day: dt.date, school_id: str | None = None) -> dict[str, dict[str, tuple[float, dict]]]:
    """Per school, each gate's last daily report for ``day``: gate -> (when it was made, what the bureau reads of it,
    ``report_figures``)."""
    rp = up.daily_reports
    query = (select(rp.c.school_id, rp.c.station_id, rp.c.created_at, rp.c.content)
             .where(rp.c.day == day.isoformat()).order_by(rp.c.created_at))
    if school_id is not None:
        query = query.where(rp.c.school_id == school_id)
    latest: dict[str, dict[str, tuple[float, dict]]] = {}
    for school, station_id, created_at, content in conn.execute(query):  # the last report of each gate counts
        latest.setdefault(school, {})[station_id] = (created_at, report_figures(content))
    return latest


def school_unscreened(reports: list[dict], half: dict | None) -> int | None:
    """The school's own unscreened figure from its gates' daily reports: the roster's people no gate saw (seen at
    any gate is seen: the gates' lists intersected). None (not reported) while a gate's report is missing, or when
    no gate keeps a roster, or while a gate has not synced since a check ended (``storage.provisional``): never 0 for
    a figure nobody sent, nor a count of something else."""
    if half is not None and (half.get("gates") or half["not_reported"] or half["unregistered"]):
        return None  # a gate's figures are missing, or older than a check's end
    lists = [r["unscreened"] for r in reports if r["unscreened"] is not None]
    if not lists:
        return None
    return len(frozenset.intersection(*lists))


def report_figures(content: str) -> dict:
    """What the bureau reads from a station's daily report (text a station sent: anything may be in it). Clusters:
    how many (a list of alerts, or a count), None when the report does not say; zero_report: True only when the
    report says exactly true, None when it says null (undecided: the station was waiting for another gate);
    provisional: the report says so. A report that is not a JSON object says nothing (and so is no zero report)."""
    try:
        data = json.loads(content)
    except (ValueError, TypeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return {"clusters": None, "zero_report": None, "provisional": False, "unscreened": None, "sessions": ()}
    raw = data.get("clusters")
    if isinstance(raw, list):
        clusters = len(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10**6:
        clusters = raw
    else:
        clusters = None
    raw_zero = data.get("zero_report")
    zero = True if raw_zero is True else None if raw_zero is None and "zero_report" in data else False
    return {"clusters": clusters, "zero_report": zero, "provisional": data.get("provisional") is True,
            "unscreened": _unscreened_ids(data), "sessions": _sessions(data)}


def _sessions(data: dict) -> tuple[str, ...]:
    """The checks a gate's report lists (its config's sessions): only their names count, and only strings."""
    raw = data.get("sessions")
    return tuple(islice((k for k in raw if isinstance(k, str)), 32)) if isinstance(raw, dict) else ()


def _unscreened_ids(data: dict) -> frozenset | None:
    """The roster ids a gate's report says it did not see; None when it keeps no roster (or says nothing usable).
    A report made before gates sent "roster" counts as having one when it lists anyone."""
    ids, roster = data.get("unscreened_ids"), data.get("roster")
    if not isinstance(ids, list) or len(ids) > 10**6 or not all(isinstance(i, str) for i in ids):
        return None
    numeric = isinstance(roster, (int, float)) and not isinstance(roster, bool)
    has_roster = roster > 0 if numeric else bool(ids)  # nan > 0 is false: no roster
    return frozenset(ids) if has_roster else None


def _int(value) -> int | None:
    return None if value is None else int(value)


def late(engine: Engine, day: dt.date, now: float, cutoff: dt.time = dt.time(9, 0)) -> list[dict]:
    """The schools with no daily report for ``day`` once its cutoff has passed: id, name, last sync."""
    s, st, rp = up.schools, up.stations, up.daily_reports
    reported = select(rp.c.school_id).where(rp.c.day == day.isoformat())
    last = (select(func.max(st.c.synced_at)).where(st.c.school_id == s.c.school_id)
            .correlate(s).scalar_subquery())
    with engine.connect() as conn:
        rows = [] if now < cutoff_at(day, cutoff) else conn.execute(
            select(s.c.school_id, s.c.name, last).where(s.c.school_id.not_in(reported)).order_by(s.c.school_id)).all()
        if not rows:
            check_sees_schools(conn)  # nobody late to a role that sees no school is no answer: a cron mail must go
    return [{"school_id": i, "name": n, "last_sync": t} for i, n, t in rows]


def pseudonym(identity: str, school_id: str, entrant_id: str) -> str:
    """A pupil's id as the bureau sees it: stable for one upstream, not the school's roster id."""
    return "p-" + hashlib.sha256(f"{identity}|{school_id}|{entrant_id}".encode()).hexdigest()[:10]


def detail(engine: Engine, school_id: str, day: dt.date, now: float, cutoff: dt.time = dt.time(9, 0)
           ) -> SchoolDetail | None:
    found = schools_on(engine, day, now, cutoff, only=school_id)
    if not found:
        return None
    st, sc, rp, cs = up.stations, up.screenings, up.daily_reports, up.cases
    on = _day_value(engine, day)
    out = SchoolDetail(found[0])
    with engine.connect() as conn:
        identity = up.identity_table
        secret = conn.execute(select(identity.c.id)).scalar() or ""
        per_gate = dict((r[0], r[1:]) for r in conn.execute(
            select(sc.c.station_id, func.count(), func.sum(case((sc.c.reasons.like(FEVER), 1), else_=0)))
            .where(sc.c.school_id == school_id, sc.c.day == on).group_by(sc.c.station_id)))
        reported = {r[0] for r in conn.execute(select(rp.c.station_id).where(rp.c.school_id == school_id,
                                                                            rp.c.day == day.isoformat()))}
        for station_id, last_sync, claimed in conn.execute(
                select(st.c.station_id, st.c.synced_at, st.c.last_sync_at)
                .where(st.c.school_id == school_id).order_by(st.c.station_id)):
            n, fevers = per_gate.get(station_id, (0, 0))
            # last_sync: the server's stamp (believed); claimed: the gate's own clock's, shown beside it only
            out.gates.append({"station_id": station_id, "last_sync": last_sync, "claimed_sync": claimed,
                              "screenings": n,
                              "confirmed_fevers": int(fevers or 0), "reported": station_id in reported})
        for session, n, fevers in conn.execute(
                select(sc.c.session, func.sum(case((sc.c.follows.is_(None), 1), else_=0)),
                       func.sum(case((sc.c.reasons.like(FEVER), 1), else_=0)))
                .where(sc.c.school_id == school_id, sc.c.day == on).group_by(sc.c.session).order_by(sc.c.session)):
            out.sessions.append({"session": session or "(outside every session)", "screened": int(n or 0),
                                 "confirmed_fevers": int(fevers or 0)})
        events = conn.execute(select(cs.c.case_id, cs.c.event, cs.c.entrant_id, cs.c.class_name, cs.c.day,
                                     cs.c.reason, cs.c.outcome, cs.c.symptoms, cs.c.at)
                              .where(cs.c.school_id == school_id, cs.c.day <= day.isoformat())
                              .order_by(cs.c.at)).all()
    cases: dict[str, dict] = {}
    for case_id, event, entrant, class_name, opened_on, reason, outcome, symptoms, at in events:
        if event == "open":
            cases[case_id] = {"case": case_id[:8], "pupil": pseudonym(secret, school_id, entrant),
                              "class": class_name, "opened": opened_on, "reason": reason, "outcome": None}
        elif case_id in cases and at < _end_of(day):
            cases[case_id]["outcome"] = outcome
    out.cases = sorted(cases.values(), key=lambda c: (c["outcome"] is not None, c["opened"], c["class"]))
    return out


def trend(engine: Engine, day: dt.date, days: int = 7) -> dict[str, list[dict]]:
    """Per school, the ``days`` days up to ``day``: screened, confirmed fevers, reported or not."""
    rp = up.daily_reports
    first = day - dt.timedelta(days=days - 1)
    span = [first + dt.timedelta(days=i) for i in range(days)]
    with engine.connect() as conn:
        counts = {(r[0], str(r[1])): (int(r[2] or 0), int(r[3] or 0)) for r in conn.execute(
            _counts(engine, _day_value(engine, first), _day_value(engine, day), by_day=True))}
        reported = {(r[0], r[1]) for r in conn.execute(
            select(rp.c.school_id, rp.c.day).where(rp.c.day >= first.isoformat(), rp.c.day <= day.isoformat()))}
        schools = [r[0] for r in conn.execute(select(up.schools.c.school_id).order_by(up.schools.c.school_id))]
    return {s: [{"day": d.isoformat(), "screened": counts.get((s, d.isoformat()), (0, 0))[0],
                 "confirmed_fevers": counts.get((s, d.isoformat()), (0, 0))[1],
                 "reported": (s, d.isoformat()) in reported} for d in span] for s in schools}


def reader(url: str, connect_timeout: float = 5.0, lock_wait_s: float | None = None,
           answer_within_s: float | None = None) -> Engine:
    """An engine that only reads: every transaction is READ ONLY on PostgreSQL, and the schema must already be the
    current one (the bureau never migrates; the database's owner does, e.g. with `gate upstream maintain`).
    ``answer_within_s``: no read waits longer for a server that stopped answering (storage.upstream_answer)."""
    from sqlalchemy import event
    from sqlalchemy.exc import SQLAlchemyError

    from storage.bureau_access import said

    engine = up.make_upstream_engine(url, connect_timeout, lock_wait_s, answer_within_s)
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):  # noqa: ANN001
            with dbapi_conn.cursor() as cur:
                cur.execute("SET default_transaction_read_only = on")
            dbapi_conn.commit()
    try:
        with engine.connect() as conn:  # the revision read with one query: a read-only command loads no Alembic
            current = up.current_revision(conn)
    except SQLAlchemyError as exc:  # storage.upstream_answer.NoAnswer is one
        line = said(exc, engine, up.safe_url(url), lock_wait_s, "try again")
        engine.dispose()
        raise BureauError(line or f"upstream {up.safe_url(url)} unreachable: {' '.join(str(exc).split())[:200]}"
                          ) from None
    head = up.newest_revision()
    if current != head:
        engine.dispose()
        raise BureauError(f"upstream {up.safe_url(url)} has schema {current or 'none'}, this gate reads {head}: "
                          "the database's owner upgrades it (gate upstream maintain --upstream URL)")
    return engine
