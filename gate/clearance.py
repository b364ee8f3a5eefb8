"""Recording a clearance: the health officer (or an admin) lets a person with a confirmed fever back in.

Only a fever that is confirmed and not yet cleared can be cleared, so a mistyped id is refused rather than recorded
against someone else; the note says what the clearance rests on (a doctor's note, its date).
"""
from __future__ import annotations

from domain import Clearance
from domain.errors import UsageError
from domain.identifiers import IdentifierError, check_id, check_text, id_key
from gate.fever_memory import recall
from gate.roles import RIGHTS
from storage import clearances
from storage.clearances import ClearanceRefused
from storage.log import ScreeningLog

NOTE_MAX = 500
# Who may clear: the school's health officer, or an admin standing in for them (the one table in gate.roles).
CLEARING_ROLES = tuple(sorted(RIGHTS["clearance-add"]))


def check_note(text: object) -> str:
    try:
        return check_text(text, "note", max_len=NOTE_MAX)
    except IdentifierError as exc:
        raise UsageError(f"{exc} (say what the clearance rests on, e.g. \"doctor's note, 2 Dec\")") from None


def clear(log: ScreeningLog, *, station_id: str, entrant_id: str, note: str, by: str, role: str,
          now: float) -> Clearance:
    """Record the clearance of ``entrant_id``'s confirmed fever.

    UsageError for an id or note that cannot be one; ClearanceRefused when there is no fever waiting to clear.
    """
    try:
        entrant_id = check_id(entrant_id, "entrant id")
    except IdentifierError as exc:
        raise UsageError(str(exc)) from None
    note = check_note(note)
    h = clearances.history(log, entrant_id)
    memory = recall(h.latest, h.last_fever, h.clearances, h.certificate_case, h.fever_gate)
    if memory.fever is not None:  # the confirmed fever first: clearing it clears the case that followed it up
        named, at = memory.fever.id, memory.fever.created_at
    elif memory.case is not None:  # a case closed as sent home / sick leave with a fever: the 复课证明 seen
        named, at = memory.case.case_id, memory.case.closed_at or now
    else:
        raise ClearanceRefused(f"{entrant_id} has no confirmed fever waiting for a clearance: check the id "
                               "(gate clearance list shows who is waiting)")
    c = Clearance(entrant_id=h.latest.entrant_id if h.latest and h.latest.entrant_id else entrant_id,
                  fever_screening_id=named, fever_at=at,
                  note=note, cleared_by=by, role=role, at=now, station_id=station_id)
    return clearances.add(log, c)


def waiting(log: ScreeningLog) -> list:
    """Confirmed fevers not yet cleared, newest first: the people the health officer is waiting to hear about."""
    return clearances.waiting(log)


def certificates_waiting(log: ScreeningLog) -> list:
    """Follow-up cases closed as sent home / sick leave with a fever whose certificate (复课证明) is not recorded yet:
    the pupils the gate refuses until the school doctor records a clearance."""
    from storage import cases

    out = []
    from storage import school_records

    pupils: dict[str, str] = {}  # one line per pupil, whatever the spelling of the id in each case
    for e in [*(c.entrant_id for c in cases.listed(log) if c.needs_certificate),
              *school_records.entrants(log, "certificate")]:
        pupils.setdefault(id_key(e), e)
    for entrant_id in pupils.values():
        h = clearances.history(log, entrant_id)
        memory = recall(h.latest, h.last_fever, h.clearances, h.certificate_case, h.fever_gate)
        if memory.fever is None and memory.case is not None:
            out.append(memory.case)
    return out
