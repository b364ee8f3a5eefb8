"""Fever memory: what the station remembers about one person between screenings. Pure: no I/O, no clock.

Given what the log knows of an entrant (their latest screening, their latest confirmed fever and the clearances
recorded for them), ``recall`` says
- which open retest a new reading of that person belongs to (it links to it by itself, on every path), and
- whether the person is refused because a confirmed fever was never cleared: then they are sent home today and on
  every later day until the health officer (or an admin) records a clearance.

An open retest is a screening that leaves a question about the person open: a RETEST, or any decision that still
carries a suspected fever (a high reading denied for another reason: no mask, a fever not yet cleared). It stays open,
on any day, until the person's next reading answers it: every high reading is answered by a linked lower one before
an admit, or confirms the fever. Anonymous screenings have no memory.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterable

import msgspec

from domain import Decision, Reason, Screening
from domain.errors import Refused
from domain.identifiers import id_key

if TYPE_CHECKING:
    from domain.case import Case
    from domain.clearance import Clearance
    from domain.held import Hold

NOT_CLEARED = Reason.FEVER_NOT_CLEARED
CERTIFICATE = Reason.CERTIFICATE_NEEDED
HELD = Reason.HELD_AT_GATE


def confirms_fever(s: Screening) -> bool:
    return Reason.FEVER_CONFIRMED in s.reasons


def is_open(s: Screening) -> bool:
    """Whether ``s`` leaves a retest open: the next reading of the same person must link to it."""
    if confirms_fever(s):
        return False
    return s.decision is Decision.RETEST or Reason.FEVER_SUSPECTED in s.reasons


class StaleRetest(Refused):
    """A retest or mask confirmation of a screening that is no longer the person's latest: it would judge them on
    old readings while a newer one (perhaps a fever) is open."""


# A frozen msgspec Struct, not a dataclass: built in C when the module loads (gate.policy says why).
class Memory(msgspec.Struct, frozen=True):
    """What a new screening of one person must take into account."""

    follows: Screening | None = None  # the open retest the new reading links to
    fever: Screening | None = None  # the confirmed fever that was never cleared: refuse entry
    latest: Screening | None = None  # the person's latest screening: only it may be retested or confirmed
    case: Case | None = None  # a follow-up case closed as sent home / sick leave with a fever, not yet cleared
    fever_gate: str | None = None  # the school's other gate that confirmed ``fever`` (None: this one)
    held: tuple[Hold, ...] = ()  # another gate holds back an edited record of this person (domain.held)

    @property
    def refused(self) -> bool:
        return self.fever is not None or self.case is not None or bool(self.held)

    def refusals(self, now: float) -> list[tuple[str, dict]]:
        """The reason code and message arguments of each refusal: the fever (else the certificate case), then
        each gate's hold."""
        out = []
        if self.fever is not None:
            out.append((NOT_CLEARED.value, {"when": when_text(self.fever.created_at, now),
                                            "where": where_text(self.fever_gate)}))
        elif self.case is not None:  # one of the two is said: both mean "no entry until the doctor records a clearance"
            out.append((CERTIFICATE.value, certificate_args(self.case, now)))
        for gate in dict.fromkeys(h.gate for h in self.held):  # one line a gate: the earliest hold it has
            out.append((HELD.value, held_args(min((h for h in self.held if h.gate == gate), key=lambda h: h.since),
                                              now)))
        return out

    def refusal(self, now: float) -> tuple[str, dict]:
        """The first refusal's reason code and message arguments (``refused`` must be true)."""
        return self.refusals(now)[0]


def held_args(hold: Hold, now: float) -> dict:
    """The refusal's message arguments for a hold: which gate, since when."""
    return {"gate": hold.gate, "when": when_text(hold.since, now)}


def certificate_args(case: Case, now: float) -> dict:
    """The refusal's message arguments: which case, how it was closed, when."""
    return {"case": case.short_id, "outcome": str(case.outcome), "when": when_text(case.closed_at or now, now)}


def where_text(gate: str | None) -> str:
    """" at north gate" for a fever another gate of the school confirmed, "" for one confirmed here."""
    from gate.i18n import Localised  # the catalogues are read only when a refusal is said

    return "" if gate is None else Localised("where.at-gate", gate=gate)


def when_text(at: float, now: float) -> str:
    """"07:42" on the same local day, else "2026-12-01 07:42": staff must see at once whether it was today."""
    then = time.localtime(at)
    same_day = time.strftime("%Y-%m-%d", then) == time.strftime("%Y-%m-%d", time.localtime(now))
    return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", then)


def is_cleared(fever: Screening, clearances: Iterable[Clearance]) -> bool:
    return any(c.fever_screening_id == fever.id and id_key(c.entrant_id) == id_key(fever.entrant_id or "")
               for c in clearances)


def recall(latest: Screening | None, last_fever: Screening | None, clearances: Iterable[Clearance],
           certificate_case: Case | None = None, fever_gate: str | None = None, held: Iterable[Hold] = ()) -> Memory:
    """The memory of one entrant from their latest screening, their latest confirmed fever, their clearances and
    their latest case closed as sent home / sick leave with a fever (``fever_gate``: the other gate of the school
    that confirmed the fever, when it was pulled from the upstream) and the holds of the school's other gates on a
    record of theirs (``held``: no clearance lifts those, only the gate that holds).

    A clearance clears exactly the fever (or case) it names: a later fever needs a clearance of its own. Clearing a
    confirmed fever also clears the case that followed it up.
    """
    clearances = tuple(clearances)
    fever = last_fever if last_fever is not None and not is_cleared(last_fever, clearances) else None
    case = certificate_case
    # A clearance naming the case or the fever it followed up clears it, and so does any clearance recorded after the
    # case was closed: the school doctor has seen the certificate since.
    if case is not None and any(c.entrant_id == case.entrant_id and (
            c.fever_screening_id in (case.case_id, case.screening_id) or c.at >= (case.closed_at or 0.0))
            for c in clearances):
        case = None
    return Memory(follows=latest if latest is not None and is_open(latest) else None, fever=fever, latest=latest,
                  case=case, fever_gate=fever_gate if fever is not None else None, held=tuple(held))


def episode(memory: Memory, readings: tuple, follows: str | None) -> tuple[tuple, str | None]:
    """The readings to judge and the screening to link to for a new reading of a remembered person.

    An explicit ``follows`` (staff chose whose retest this is, or confirm a mask) must be the person's latest
    screening, else StaleRetest: someone screened them since (another gate, the command line).
    """
    if follows is not None:
        latest = memory.latest
        if latest is not None and follows != latest.id:
            raise StaleRetest(f"{latest.entrant_id} was screened again at "
                              f"{time.strftime('%H:%M', time.localtime(latest.created_at))}: "
                              "retest or confirm on that latest screening")
        return readings, follows
    if memory.follows is None or not readings:
        return readings, None
    return (*memory.follows.readings, *readings), memory.follows.id
