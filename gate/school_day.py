"""The school day around the gate, for the duty screen and the reports: which check is on now and how far it is.

The clock is a parameter everywhere: ``now`` is given, never read here.
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from domain import Entrant, EntrantKind
from domain.case import CaseReason
from domain.errors import Refused, UsageError
from domain.identifiers import class_key, class_keys
from domain.sessions import Session, ended, session_at
from gate.clusters import Alert, Rules, active, alerts, illnesses
from gate.roles import scope
from storage import audit, cases
from storage.log import ScreeningLog, local_day
from storage.roster import roster_size, seen, session_progress


@dataclass(frozen=True)
class SessionState:
    """What the widget shows: the session now (None outside every window), seen and expected of the roster."""

    name: str | None
    label_zh: str = ""
    label_en: str = ""
    window: str = ""
    seen: int = 0
    expected: int = 0
    next_label: str = ""  # outside every window: the next check of the day, e.g. "午检 noon check 12:30"

    def text(self, language: str) -> str:
        if self.name is None:
            nxt = f" · next: {self.next_label}" if self.next_label else ""
            return ("当前无检查 / no check now" if language.startswith("zh") else "no check now / 当前无检查") + nxt
        label = f"{self.label_zh} {self.label_en}" if language.startswith("zh") else f"{self.label_en} {self.label_zh}"
        if not self.expected:  # no roster: "seen 0" would be a count of nobody while the gate screens pupils
            return f"{label} {self.window} · seen — (no roster loaded)"
        return f"{label} {self.window} · 已检 seen {self.seen} / {self.expected}"


def session_state(log: ScreeningLog, sessions: tuple[Session, ...], now: float) -> SessionState:
    """The check on at ``now`` with seen / expected of the roster, or the next check of the day."""
    s = session_at(sessions, now)
    if s is None:
        lt = time.localtime(now)
        at = datetime.time(lt.tm_hour, lt.tm_min, lt.tm_sec)
        nxt = min((x for x in sessions if x.start > at), key=lambda x: x.start, default=None)
        return SessionState(None, next_label=f"{nxt.label_zh} {nxt.label_en} {nxt.start:%H:%M}" if nxt else "")
    seen, expected = session_progress(log, local_day(now), s.name)
    return SessionState(s.name, s.label_zh, s.label_en, s.window(), seen, expected)


class NotYourClass(Refused):
    """A teacher asked for a class that is not theirs."""


def find_session(sessions: tuple[Session, ...], name: str) -> Session:
    """The session called ``name`` (name or label), else UsageError naming the configured ones."""
    found = next((s for s in sessions if name in (s.name, s.label_zh, s.label_en)), None)
    if found is None:
        known = ", ".join(f"{s.name} ({s.label_zh})" for s in sessions) or "none configured"
        raise UsageError(f"no session {name!r} in this station's config: {known}")
    return found


def classes_for(user, wanted: str | None, *, log: ScreeningLog, station_id: str, action: str
                ) -> tuple[str, ...] | None:
    """The classes ``user`` sees for ``action``: ``wanted`` alone, or all of theirs (None: every class).

    A teacher asking for another class is refused, and the attempt is in the audit trail.
    """
    allowed = scope(user.role, user.classes) if user is not None else None
    if wanted is None:
        return allowed
    if allowed is not None and class_key(wanted) not in class_keys(allowed):  # under any spelling
        audit.record(log, station_id, user.name, "refused", {"action": action, "why": "not the teacher's class",
                                                             "class": wanted})
        theirs = ", ".join(allowed) or "no class"
        raise NotYourClass(f"{user.name} is the teacher of {theirs}; {wanted} is not theirs to see")
    return (wanted,)


def by_class(people: list[Entrant]) -> tuple[dict[str, list[Entrant]], list[Entrant]]:
    """Pupils grouped by class (classes in order; one class under two spellings is one, named as first met), and
    the staff apart."""
    classes: dict[str, list[Entrant]] = {}
    named: dict[str, str] = {}
    for e in sorted((p for p in people if p.kind is EntrantKind.PUPIL), key=lambda p: (p.group, p.roster_id)):
        classes.setdefault(named.setdefault(class_key(e.group), e.group), []).append(e)
    return classes, sorted((p for p in people if p.kind is EntrantKind.STAFF), key=lambda p: (p.group, p.roster_id))


def close_out(log: ScreeningLog, cfg, now: float, waiting: list | None = None) -> int:
    """Close out the sessions that have ended (their cases open), as the config's ``[school] absence_cases`` says;
    with "school", the upstream says who was seen at the school's other gates."""
    from gate.followup import close_sessions  # gate.followup imports the station's fever memory

    seen_elsewhere = None
    if cfg.absence_cases == "school" and cfg.upstream_url:
        def seen_elsewhere(day: str, session: str) -> set:
            from storage import school_report, upstream as up  # the upstream's libraries: only when asked

            engine = up.make_upstream_engine(cfg.upstream_url)
            try:
                # seen at another gate in this session, or sent home by one earlier that day: not absent
                return school_report.seen(engine, cfg.school, day, session) | \
                    school_report.sent_home(engine, cfg.school, day)
            finally:
                engine.dispose()
    return close_sessions(log, cfg.school_sessions(), cfg.station_id, now, absences=cfg.absence_cases,
                          seen_elsewhere=seen_elsewhere, waiting=waiting)


def provisional(cfg, day: str, now: float, waiting: list | None = None) -> list[dict]:
    """The sessions of ``day`` ended by ``now`` whose school figures are not all in, for a gate of a school with
    several gates (``[school] absence_cases`` other than "this-gate"): each with the gates that have not synced
    since it ended (or that the bureau expects and never registered), or "upstream" when it could not be asked.
    ``waiting`` are the (day, session) close_out left waiting for the upstream. Empty: the day's figures are whole."""
    if cfg.absence_cases == "this-gate" or not cfg.upstream_url:
        return []
    done = ended(cfg.school_sessions(), day, now)
    if not done:
        return []
    stuck = {s for d, s in waiting or () if d == day}
    from sqlalchemy.exc import SQLAlchemyError

    from domain.errors import UpstreamFailure
    from storage import school_report, upstream as up  # the upstream's libraries: only when asked
    from storage.provisional import synced_since

    try:
        engine = up.make_upstream_engine(cfg.upstream_url)
        try:
            gates, expected = school_report.gates_synced(engine, cfg.school)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError, ImportError, OSError, UpstreamFailure):  # every ended session is unknown
        return [{"session": s.name, "label": s.label_zh, "gates": [], "unregistered": 0, "upstream": False}
                for s in done]
    others = {g: at for g, at in gates.items() if g != cfg.station_id}
    # The school's own count and the bureau's: the larger counts (never a zero report while either expects more)
    expected = max((n for n in (cfg.school_gates, expected) if n is not None), default=None)
    unregistered = max(0, (expected or 0) - len(others) - 1)
    # No count known: the keeper cannot tell a one-gate school from a partner that never synced (a gate saying "off"
    # knows a keeper exists, so only its absence upstream leaves it unsure).
    unknown = expected is None and (cfg.absence_cases == "school" or not others)
    out = []
    for s in done:
        late = sorted(g for g, at in others.items() if not synced_since(at, s.end_on(day), now))  # the bureau's rule
        if late or unregistered or unknown or s.name in stuck:
            out.append({"session": s.name, "label": s.label_zh, "gates": late, "unregistered": unregistered,
                        "upstream": s.name not in stuck, "gates_known": not unknown})
    return out


def provisional_line(waits: list[dict]) -> str:
    """One line for the operator: which checks are provisional, waiting for which gates, and what to do."""
    parts = []
    for w in waits:
        who = ", ".join(w["gates"]) + (f" + {w['unregistered']} gate(s) never synced" if w["unregistered"] else "")
        if not w["upstream"]:
            who = "the upstream (out of reach: the other gates cannot be asked)"
        elif not w.get("gates_known", True):
            who = ", ".join(filter(None, (who, "a count of the school's gates")))
        parts.append(f"{w['label']} {w['session']} waits for {who or 'the upstream'}")
    line = ("provisional 临时: " + "; ".join(parts) + ". Not a zero report until every gate has reported: run gate "
            "sync at those gates, then gate report daily here again")
    if any(w["upstream"] and not w.get("gates_known", True) for w in waits):
        line += (". How many gates the school has is not known here (a school of one gate, or a gate that never "
                 "synced?): set [school] gates = N in the config, or ask the bureau to register the count")
    return line


def rules_of(cfg) -> Rules:
    return Rules(cfg.cluster_same_day, cfg.cluster_window_days, cfg.cluster_window_pupils)


def cluster_alerts(log: ScreeningLog, cfg, day: str, classes: tuple[str, ...] | None = None, *,
                   school: bool = False) -> list[Alert]:
    """The cluster alerts to show on ``day`` (raised within the rule's window), of ``classes`` when given.

    ``school``: in a school with several gates (``[school] absence_cases`` other than "this-gate"), the cases the other
    gates sent upward count too, so every gate's duty screen shows the school's clusters; an upstream that cannot be
    read leaves this gate's own cases."""
    rules = rules_of(cfg)
    every = cases.all_cases(log)
    if school and cfg.upstream_url and cfg.absence_cases != "this-gate":
        every = {**{c.case_id: c for c in school_cases(cfg, day)}, **every}
    found = active(alerts(illnesses(every.values()), rules, day), rules, day)
    return [a for a in found if classes is None or class_key(a.class_name) in class_keys(classes)]


def school_cases(cfg, day: str) -> list:
    """The school's cases from the upstream (every gate), or none when it cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    from domain.errors import UpstreamFailure
    from storage import school_report, upstream as up  # the upstream's libraries: only when asked

    try:
        engine = up.make_upstream_engine(cfg.upstream_url)
        try:
            return school_report.cases_until(engine, cfg.school, day)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError, ImportError, OSError, UpstreamFailure):
        return []


def daily_figures(log: ScreeningLog, cfg, day: str) -> dict:
    """What the daily report adds for the school day: per-session figures, cases opened / closed / still open,
    and the clusters raised that day."""
    sessions = {}
    known = roster_size(log) > 0  # no roster here: who was expected, seen or not seen is not known (null), never 0
    for s in cfg.school_sessions():
        n, expected = session_progress(log, day, s.name)
        sessions[s.name] = {"label": s.label_zh, "window": s.window(), "seen": n if known else None,
                            "expected": expected if known else None, "unseen": expected - n if known else None,
                            "screened_ids": len(seen(log, day, s.name))}
    # The cases this gate opened (the school report adds the gates up), as they stand at any gate of the school
    own, school = cases.all_cases(log, school=False), cases.all_cases(log)
    every = [school.get(cid, c) for cid, c in own.items()]
    rules = rules_of(cfg)
    raised = [a.to_dict() for a in alerts(illnesses(every), rules, day) if a.raised == day]
    return {"school_id": cfg.school, "sessions": sessions, "cluster_rules": rules.to_dict(),
            "cases": {"opened": sum(c.day == day for c in every),
                      "closed": sum(c.closed_at is not None and local_day(c.closed_at) == day for c in every),
                      "open": sum(c.is_open for c in every),
                      "absent_for_illness": sum(c.day == day and c.reason.value == "absent" and bool(c.symptoms)
                                                for c in every)},
            "clusters": raised}


def share_roster(log: ScreeningLog, cfg, engine) -> bool:
    """Send the roster to the upstream once per import, when ``[upstream] share_roster`` allows; True if sent."""
    if not cfg.share_roster:
        return False
    from sqlalchemy import select

    from storage import school_report  # the upstream's tables: only when sharing
    from storage.tables.log import AUDIT_EVENTS
    from storage.roster import roster

    with log.read("the last roster import") as conn:
        imported = conn.execute(select(AUDIT_EVENTS.c.id).where(AUDIT_EVENTS.c.action == "roster-import")
                                .order_by(AUDIT_EVENTS.c.seq.desc()).limit(1)).scalar()
    people = roster(log)
    return school_report.push_roster(engine, cfg.school, cfg.station_id,
                                     school_report.roster_version(people, imported), people)


def other_keepers(cfg, engine) -> str | None:
    """A warning for a gate keeping the absence cases (``absence_cases = "school"``) when another gate of the school
    opened some upstream too: two keepers open two cases a pupil (the lists show the first one); None when alone."""
    if cfg.absence_cases != "school":
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from storage import school_report  # the upstream's tables: only when syncing

    try:
        others = sorted(school_report.absence_keepers(engine, cfg.school) - {cfg.station_id})
    except SQLAlchemyError:  # the sync said what it could; this warning waits for the next one
        return None
    return _two_keepers(cfg, others)


def _two_keepers(cfg, others: list[str]) -> str | None:
    if not others:
        return None
    return (f"warning: {', '.join(others)} keeps the absence cases of {cfg.school} already, and so does this gate "
            f"([school] absence_cases = \"school\" at both): each not-seen pupil gets two cases (the lists show the "
            "first opened). Keep them at one gate: set absence_cases = \"off\" at the others")


def pulled_keepers(cfg, log) -> tuple[str | None, bool]:
    """``other_keepers`` without the network, from the case events this log pulled at its syncs (storage.pulled_cases:
    another gate's absence opens mean it keeps them too): (the warning or None, whether this log has ever synced,
    i.e. whether "None" means anything)."""
    if cfg.absence_cases != "school":
        return None, True
    from storage import pulled_cases

    with log.read("the case events pulled from the school") as conn:
        _n, synced = pulled_cases.last_pull(conn)
        others = {e["station_id"] for e in pulled_cases.events(log, conn)
                  if e["event"] == "open" and e["reason"] == CaseReason.ABSENT.value} - {cfg.station_id}
    return _two_keepers(cfg, sorted(others)), synced is not None
