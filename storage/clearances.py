"""Clearances in the station's log, and the lookups behind the fever memory.

A clearance row is hash-chained (like the audit trail), queued for the upward sync and written in one transaction with
its audit event. ``history`` gives the station what it needs to remember a person: their latest screening, their
latest confirmed fever and the clearances recorded for them. Clearances are read only up to the first row whose chain
link does not hold: a row slipped into the file by hand clears nobody. What the school's other gates recorded (pulled
by the sync, storage.school_records) counts as if recorded here: a fever confirmed at the north gate refuses at the
south gate, and a clearance recorded at either gate clears at both.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from domain import Clearance, Reason, Screening
from domain.held import Hold
from domain.errors import Refused
from domain.case import NEEDS_CERTIFICATE, Case
from domain.identifiers import id_key
from storage import cases as case_log
from storage import school_records, trust
from storage.log import SCREENINGS, ScreeningLog
from storage.tables.cases import CLEARANCES
from storage.records import clearance_content, screening_from_row
from storage.verify_result import VerifyResult
# Reasons are stored as a JSON list of codes; the quotes make the match exact ("fever-confirmed" only).
_CONFIRMED_CODE = Reason.FEVER_CONFIRMED.value
_CONFIRMED = f'%"{_CONFIRMED_CODE}"%'


class ClearanceRefused(Refused):
    """The clearance cannot be recorded (nothing to clear, or cleared already); the message says why and what to do."""


@dataclass(frozen=True)
class History:
    """What the log knows of one entrant, for the fever memory."""

    latest: Screening | None
    last_fever: Screening | None
    clearances: tuple[Clearance, ...]
    certificate_case: Case | None = None  # the latest case closed as sent home / sick leave with a fever
    fever_gate: str | None = None  # the other gate that confirmed ``last_fever`` (None: this one)
    held: tuple[Hold, ...] = ()  # records about the entrant another gate of the school holds back (storage.held)


def _trusted(log: ScreeningLog, conn: Connection, entrant_id: str | None = None) -> list[Clearance]:
    """Clearances whose chain holds from the first row, oldest first (of one entrant, under any spelling, when
    given)."""
    key = id_key(entrant_id) if entrant_id is not None else None
    return [Clearance(**clearance_content(row)) for row in log.clearance_chain.intact(conn)
            if key is None or id_key(row["entrant_id"]) == key]


def _last_fever(conn, entrant_id: str) -> Screening | None:
    row = conn.execute(select(SCREENINGS).where(SCREENINGS.c.entrant_key == id_key(entrant_id),
                                                SCREENINGS.c.reasons.like(_CONFIRMED))
                       .order_by(SCREENINGS.c.seq.desc()).limit(1)).mappings().first()
    return None if row is None else screening_from_row(row)


def fever_before(log: ScreeningLog, entrant_id: str, at: float) -> Screening | None:
    """The entrant's latest confirmed fever before ``at``: what a stored refusal referred to."""
    with log.read(f"the fevers of {entrant_id}") as conn:
        row = conn.execute(select(SCREENINGS).where(SCREENINGS.c.entrant_key == id_key(entrant_id),
                                                    SCREENINGS.c.reasons.like(_CONFIRMED),
                                                    SCREENINGS.c.created_at < at)
                           .order_by(SCREENINGS.c.seq.desc()).limit(1)).mappings().first()
    return None if row is None else screening_from_row(row)


_CLOSED_WITH_FEVER = '%"fever"%'


def _certificate_case(log: ScreeningLog, conn: Connection, entrant_id: str) -> Case | None:
    """The entrant's latest follow-up case closed as sent home / sick leave with a fever (trusted chain only).

    A cheap look at such closes first (few): only when one is the entrant's, under any spelling (P42, p42), is the
    case chain walked."""
    C, key = case_log.CASES, id_key(entrant_id)
    closes = conn.execute(select(C.c.entrant_id).where(C.c.event == "close",
                                                       C.c.outcome.in_([o.value for o in NEEDS_CERTIFICATE]),
                                                       C.c.symptoms.like(_CLOSED_WITH_FEVER))).scalars()
    if not any(id_key(who or "") == key for who in closes):
        return None
    found = [s for c in case_log.all_cases(log, conn).values() if id_key(c.entrant_id) == key
             for s in case_log.certificate_states(c)]
    return max(found, key=lambda c: c.closed_at or 0.0, default=None)


def _known(log: ScreeningLog, conn: Connection, entrant_id: str, has_screenings: bool = True
           ) -> tuple[Screening | None, str | None, Case | None, tuple[Clearance, ...]]:
    """The entrant's latest confirmed fever (and the other gate that confirmed it), latest certificate case and
    clearances, here and at the school's other gates. StorageError when the pulled records were tampered with."""
    pulled = school_records.lookup(log, conn, entrant_id)
    fever = _last_fever(conn, entrant_id) if has_screenings else None
    gate = None
    for f in pulled.fevers:
        if fever is None or f.created_at > fever.created_at:
            fever, gate = f, f.station_id
    case = _certificate_case(log, conn, entrant_id)
    for c in pulled.cases:
        if case is None or (c.closed_at or 0.0) > (case.closed_at or 0.0):
            case = c
    cleared = (*_trusted(log, conn, entrant_id), *pulled.clearances) if fever is not None or case is not None else ()
    return fever, gate, case, tuple(cleared)


def history(log: ScreeningLog, entrant_id: str) -> History:
    """What the log knows of this person, under any spelling of the id (P42, p42, Ｐ４２).

    Raises StorageError when it cannot be read, and LogEdited when the person's rows or the chain around them do not
    hold (storage.trust): the station must not screen on a memory it could not read or cannot believe.
    """
    with log.read(f"the history of {entrant_id}") as conn:
        rows = trust.entrant_rows(conn, entrant_id)
        trust.check(log, conn, entrant_id, rows)
        latest = screening_from_row(rows[-1]) if rows else None
        # Cases and the other gates' records carry the spelling this person's screenings are stored under.
        spelled = latest.entrant_id if latest and latest.entrant_id else entrant_id
        trust.check_cases(log, conn, entrant_id, spelled)
        fever, gate, case, cleared = _known(log, conn, spelled, latest is not None)
        held = school_records.lookup(log, conn, spelled).held  # the pulled rows' check is kept: no second walk
    return History(latest, fever, cleared, case, gate, held)


def add(log: ScreeningLog, c: Clearance) -> Clearance:
    """Store ``c`` with its audit event and outbox row in one transaction.

    Refused (ClearanceRefused) when the fever it names is not this entrant's latest confirmed fever, or is cleared
    already: a clearance never reaches back to an old fever or forward to a future one.
    """
    with log.unit("clearance") as u:
        fever, _gate, case, cleared = _known(log, u.conn, c.entrant_id)
        # What it clears: the latest confirmed fever, or the latest case closed as sent home / sick leave with fever
        named = (fever.id, fever.created_at) if fever is not None and fever.id == c.fever_screening_id else \
            (case.case_id, case.closed_at) if case is not None and case.case_id == c.fever_screening_id else None
        if named is None:
            raise ClearanceRefused(f"{c.entrant_id} has no confirmed fever {c.fever_screening_id} to clear")
        if any(x.fever_screening_id == named[0] for x in cleared):
            raise ClearanceRefused(f"the fever of {c.entrant_id} confirmed at "
                                   f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(named[1]))} "
                                   "is cleared already")
        log.clearance_chain.append(u.conn, c.content(), c.content())
        u.queue("clearance", c.id)
        u.audit(c.station_id, c.cleared_by, "fever-cleared",
                {"clearance": c.id, "entrant_id": c.entrant_id, "fever_screening": c.fever_screening_id,
                 "role": c.role, "note": c.note})
    return c


def records(log: ScreeningLog, entrant_id: str | None = None) -> list[Clearance]:
    """Trusted clearances, newest first."""
    with log.read("the clearances") as conn:
        return list(reversed(_trusted(log, conn, entrant_id)))


def fevers(log: ScreeningLog) -> list[Screening]:
    """Each entrant's latest confirmed fever (cleared or not), newest first."""
    with log.read("the confirmed fevers") as conn:
        latest = (select(func.max(SCREENINGS.c.seq).label("seq"))
                  .where(SCREENINGS.c.entrant_id.is_not(None), SCREENINGS.c.reasons.like(_CONFIRMED))
                  .group_by(SCREENINGS.c.entrant_key).subquery())
        rows = conn.execute(select(SCREENINGS).join(latest, latest.c.seq == SCREENINGS.c.seq)
                            .order_by(SCREENINGS.c.seq.desc())).mappings().all()
    return [screening_from_row(r) for r in rows]


def waiting(log: ScreeningLog) -> list[Screening]:
    """Confirmed fevers not yet cleared (each entrant's latest), newest first: people the gate must keep refusing,
    with those confirmed at the school's other gates (``station_id`` names the gate) and without those cleared there."""
    found = []
    for entrant_id in dict.fromkeys([*(s.entrant_id for s in fevers(log)), *school_records.entrants(log, "fever")]):
        h = history(log, entrant_id)
        if h.last_fever is not None and not any(c.fever_screening_id == h.last_fever.id for c in h.clearances):
            found.append(h.last_fever)
    return sorted(found, key=lambda s: s.created_at, reverse=True)


def verify(log: ScreeningLog) -> VerifyResult:
    """Recompute the clearance chain; the first row changed, removed, reordered or slipped in is named."""
    with log.read("the clearances to verify") as conn:
        return log.clearance_chain.verify(conn)
