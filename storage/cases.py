"""Follow-up cases in the station's log: open and close events in one hash chain, queued for the upward sync.

The cases a teacher sees are the school's: this gate's events and those pulled from the school's other gates
(storage.pulled_cases), folded together; a close recorded here of a case another gate opened goes upward like any
other event, and the opening gate learns it at its next sync.

A case's state is read from the chain up to the first row whose link does not hold (like clearances): a close slipped
into the file by hand closes nothing, and an open case stays open. Every write is one unit of work with its audit
event. The sessions already closed out are kept in ``session_closures`` so that a session opens its cases once.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Iterable, Mapping

from sqlalchemy import Connection, select

from domain.case import Case, CaseReason, Close, Outcome, onset_from
from domain.errors import Refused, UsageError
from domain.identifiers import class_key, class_keys, id_key
from storage import pulled_cases
from storage.chain import Chain
from storage.log import ScreeningLog
from storage.pulled_cases import symptoms_of
from storage.tables.cases import CASES, SESSION_CLOSURES as CLOSURES
from storage.keys import StationKey
from storage.seals import add_side_row, trusted_rows
from storage.unit import UnitOfWork
from storage.verify_result import VerifyResult

HASHED = ("id", "case_id", "event", "station_id", "entrant_id", "class_name", "day", "session", "reason",
          "screening_id", "outcome", "symptoms", "onset", "note", "by", "role", "at")


class CaseRefused(Refused):
    """The case cannot be closed (unknown, closed already, not the teacher's class); the message says why."""


def case_content(row: Mapping) -> dict:
    return {k: row[k] for k in HASHED}


def chain(log: ScreeningLog) -> Chain:
    """The case chain of this log, with the log's digest (keyed when the log's chains are)."""
    return log.chain(CASES, case_content, "case event")


def _close_of(r: Mapping) -> Close:
    return Close(Outcome(r["outcome"]), symptoms_of(r["symptoms"]), r["onset"], r["note"] or "", r["by"], r["at"],
                 r["station_id"])


def fold(rows: Iterable[Mapping]) -> dict[str, Case]:
    """Cases by id from their events (this gate's and those pulled from the school's other gates), in the order
    opened. Two gates may close one case before either hears of the other: the first close by time counts (ties: by
    station, then event id, so every gate decides alike), the others are kept as notes (``Case.other_closes``)."""
    opens: dict[str, Mapping] = {}
    closes: dict[str, list[Mapping]] = {}
    for r in rows:
        if r["event"] == "open":
            opens.setdefault(r["case_id"], r)
        elif r["event"] == "close":
            closes.setdefault(r["case_id"], []).append(r)
    _one_absence_a_session(opens, closes)
    cases: dict[str, Case] = {}
    for cid, r in sorted(opens.items(), key=lambda item: item[1]["at"]):
        case = Case(r["case_id"], r["entrant_id"], r["class_name"], r["day"], r["session"], CaseReason(r["reason"]),
                    r["screening_id"], r["at"], gate=r["station_id"])
        found = sorted(closes.get(cid, ()), key=lambda e: (e["at"], e["station_id"], e["id"]))
        if found:
            first = _close_of(found[0])
            case = replace(case, outcome=first.outcome, symptoms=first.symptoms, onset=first.onset, note=first.note,
                           closed_by=first.by, closed_at=first.at, closed_at_gate=first.gate,
                           other_closes=tuple(_close_of(e) for e in found[1:]))
        cases[cid] = case
    return cases


def duplicate_absences(opens: Iterable[Mapping]) -> dict[str, str]:
    """Two gates both keeping the absence cases (a wrong config: both say absence_cases = "school") open one each for
    a pupil not seen: the school has one case a pupil a session. Each later open -> the case that counts: the first
    opened (ties: by station, then case id, so every gate decides alike). Its closes count for that case (a teacher
    may have closed either before the gates synced)."""
    kept: dict[tuple, str] = {}
    out: dict[str, str] = {}
    for r in sorted(opens, key=lambda r: (r["at"], r["station_id"], r["case_id"])):
        if r["reason"] == CaseReason.ABSENT:
            first = kept.setdefault((id_key(r["entrant_id"] or ""), r["day"], r["session"]), r["case_id"])
            if first != r["case_id"]:
                out[r["case_id"]] = first
    return out


def _one_absence_a_session(opens: dict[str, Mapping], closes: dict[str, list[Mapping]]) -> None:
    for dup, first in duplicate_absences(opens.values()).items():
        del opens[dup]
        closes.setdefault(first, []).extend(closes.pop(dup, ()))


def _merged_ids(log: ScreeningLog, conn: Connection | None) -> dict[str, str]:
    if conn is None:
        with log.read("the follow-up cases") as c:
            return _merged_ids(log, c)
    return duplicate_absences(r for r in _events(log, conn, True) if r["event"] == "open")


def _events(log: ScreeningLog, conn: Connection, school: bool) -> list[Mapping]:
    own = list(chain(log).intact(conn))
    return [*own, *pulled_cases.events(log, conn)] if school else own


def all_cases(log: ScreeningLog, conn: Connection | None = None, *, school: bool = True) -> dict[str, Case]:
    """Every trusted case by id, in the order opened: the school's (this gate's and those pulled from its other
    gates, with their closes from any gate), or this gate's own events only with ``school=False``."""
    if conn is not None:
        return fold(_events(log, conn, school))
    with log.read("the follow-up cases") as c:
        return fold(_events(log, c, school))


def listed(log: ScreeningLog, *, open_only: bool = False, classes: tuple[str, ...] | None = None,
           entrant_id: str | None = None) -> list[Case]:
    """The school's cases (open ones only when asked) of ``classes`` (None: every class), oldest first; of
    ``entrant_id`` under any spelling (P42, p42, Ｐ４２: domain.identifiers.id_key) when given."""
    key = id_key(entrant_id) if entrant_id is not None else None
    keys = class_keys(classes or ())  # a class under any spelling (三年级二班, 三年级 二班)
    return [c for c in all_cases(log).values()
            if (not open_only or c.is_open) and (classes is None or class_key(c.class_name) in keys)
            and (key is None or id_key(c.entrant_id) == key)]


def certificate_states(case: Case) -> list[Case]:
    """The case as each of its closes that needs a 复课证明 would leave it: the close that counts, and also a later
    one kept as a note (a gate that heard "sent home with a fever" refuses until the certificate is seen, whatever
    the other gate wrote first)."""
    found = [case] if case.needs_certificate else []
    return found + [replace(case, outcome=c.outcome, symptoms=c.symptoms, onset=c.onset, note=c.note,
                            closed_by=c.by, closed_at=c.at, closed_at_gate=c.gate, other_closes=())
                    for c in case.other_closes if c.needs_certificate]


def _write(u: UnitOfWork, log: ScreeningLog, values: dict) -> None:
    values = {"id": str(uuid.uuid4()), **values}
    values["at"] = round(values["at"], 6)
    chain(log).append(u.conn, values, case_content(values))
    u.queue("case", values["id"])


def open_case(u: UnitOfWork, log: ScreeningLog, *, station_id: str, entrant_id: str, class_name: str, day: str,
              session: str | None, reason: CaseReason, screening_id: str | None, at: float) -> str:
    """Open a case inside the caller's unit of work (with the screening or session closure that causes it)."""
    case_id = str(uuid.uuid4())
    _write(u, log, {"case_id": case_id, "event": "open", "station_id": station_id, "entrant_id": entrant_id,
                    "class_name": class_name, "day": day, "session": session, "reason": reason.value,
                    "screening_id": screening_id, "outcome": None, "symptoms": "[]", "onset": None, "note": "",
                    "by": "station", "role": "", "at": at})
    return case_id


def find(log: ScreeningLog, ref: str, conn: Connection | None = None) -> Case:
    """The case whose id is ``ref`` or starts with it (at least 6 characters, as `gate followup list` shows 8); a
    pupil's id is no case id (`gate followup list --entrant ID` finds the pupil's cases under any spelling)."""
    cases = all_cases(log, conn)
    if ref in cases:
        return cases[ref]
    hits = [c for cid, c in cases.items() if len(ref) >= 6 and cid.startswith(ref)]
    if not hits and len(ref) >= 6:  # a second keeper's case (listed before the gates synced) is the pupil's one case
        merged = _merged_ids(log, conn)
        hits = list({merged[d]: cases[merged[d]] for d in merged if d.startswith(ref) and merged[d] in cases}.values())
    if len(hits) != 1:
        raise CaseRefused(f"no case {ref[:40]!r}" if not hits else f"{ref!r} names {len(hits)} cases: give more of "
                          "the id" + "; gate followup list shows the open cases")
    return hits[0]


def close_case(log: ScreeningLog, ref: str, *, station_id: str, outcome: Outcome, symptoms: tuple[str, ...],
               onset: str | None, note: str, by: str, role: str, at: float,
               classes: tuple[str, ...] | None = None) -> Case:
    """Close a case with its outcome, audited, in one transaction; refused when it is not open or not in
    ``classes`` (a teacher's), and the refusal is audited too."""
    refusal = None
    with log.unit("the case") as u:
        case = find(log, ref, u.conn)
        if classes is not None and class_key(case.class_name) not in class_keys(classes):
            refusal = (f"case {case.short_id} is of {case.class_name or 'no class'}; {by} is the teacher of "
                       f"{', '.join(classes) or 'no class'}")
            u.audit(station_id, by, "refused", {"action": "followup-close", "case": case.case_id,
                                                "why": "not the teacher's class"})
        elif onset is not None and (why := _onset_refused(onset, case.day)):
            raise UsageError(f"{why}; nothing was recorded")
        elif not case.is_open:
            raise CaseRefused(f"case {case.short_id} was closed already ({case.outcome}, by {case.closed_by}"
                              + (f" at {case.closed_at_gate}" if case.closed_at_gate != station_id else "") + ")")
        else:
            _write(u, log, {"case_id": case.case_id, "event": "close", "station_id": station_id,
                            "entrant_id": case.entrant_id, "class_name": case.class_name, "day": case.day,
                            "session": case.session, "reason": case.reason.value, "screening_id": case.screening_id,
                            "outcome": outcome.value, "symptoms": json.dumps(list(symptoms)), "onset": onset,
                            "note": note, "by": by, "role": role, "at": at})
            u.audit(station_id, by, "case-closed", {"case": case.case_id, "entrant_id": case.entrant_id,
                                                    "outcome": outcome.value, "symptoms": list(symptoms),
                                                    "role": role, "opened_at": case.gate})
    if refusal:
        raise CaseRefused(refusal)
    return all_cases(log)[case.case_id]


def _onset_refused(onset: str, case_day: str) -> str | None:
    """Why this onset cannot be the case's (more than two weeks before it, or not a date), else None."""
    try:
        onset_from(onset, None, case_day)
    except ValueError as exc:
        return str(exc)
    return None


def has_open(conn: Connection, entrant_id: str, reason: CaseReason, day: str | None = None) -> bool:
    """An open case of this kind for the entrant under any spelling (on ``day``): the same absence or refusal is not
    opened twice, whether the pupil was typed P42 or p42."""
    cond = [CASES.c.reason == reason.value]
    if day is not None:
        cond.append(CASES.c.day == day)
    key = id_key(entrant_id)
    events = [(cid, ev) for cid, ev, who in conn.execute(select(CASES.c.case_id, CASES.c.event, CASES.c.entrant_id)
                                                         .where(*cond)) if id_key(who or "") == key]
    closed = {cid for cid, ev in events if ev == "close"}
    return any(ev == "open" and cid not in closed for cid, ev in events)


def closed_out(conn: Connection, key: StationKey | None) -> set[tuple[str, str]]:
    """The sessions this station closed out: a closure without a valid MAC (written into the file by hand) does not
    count, so the session's cases are opened all the same (has_open keeps them from opening twice)."""
    return {(r["day"], r["session"]) for r in trusted_rows(conn, key, "session_closures")}


def mark_closed(conn: Connection, key: StationKey | None, day: str, session: str, at: float, opened: int) -> None:
    """Record the close-out, MAC'd. A forged closure of the same session is left in place for `gate verify` to name
    (nothing is recorded over it: the session is opened again next time, which opens no case twice)."""
    if key is None or conn.execute(select(CLOSURES.c.day).where(CLOSURES.c.day == day,
                                                                CLOSURES.c.session == session)).first():
        return
    row = {"day": day, "session": session, "at": at, "cases": opened}
    conn.execute(CLOSURES.insert().values(**row))
    add_side_row(conn, key, "session_closures", row)


def verify(log: ScreeningLog) -> VerifyResult:
    with log.read("the case events to verify") as conn:
        return chain(log).verify(conn)
