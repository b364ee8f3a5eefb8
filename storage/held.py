"""Held at this gate: the school's word that this gate holds back a record about a pupil, edited in its SQLite file.

The sync refuses to send a screening, case event or clearance whose hash no longer recomputes (storage.sync_unverified):
no other gate learns the edit. But the record may be what sends the pupil home (a doctor's close "sick leave, fever"
edited into a false alarm), and the other gates then never learn that either. So, in the unit that quarantines it,
the sync writes one audit event ``entrant-held`` per pupil the record may be about; the audit events go upward like any
other (chained, hash-checked when sent, bound to their gate by the upstream's row-level security, u0013) and every
other gate pulls them (storage.school_records, kinds ``held`` / ``lifted``) and refuses the pupil until it is lifted.

Nothing of the edited row is believed as a fact: the notice says only who it may be about, the kind, the record id,
the gate and since when. Who: the pupil the row names as it is now, the pupil of the case it names (from the case
lists that still verify) and the pupils named by the audit events written with it that still verify (a close's
``case-closed``, a clearance's ``fever-cleared``). One pupil too many is refused until an auditor looks; none too few.

Lifting (``lift``): at the holding gate, by an auditor or admin (signed in, audited), only when its log verifies again
(the edit undone: ``gate verify`` clean). The held records go back into the outbox, to be sent as the station wrote
them, and one ``entrant-held-lifted`` event per pupil goes upward after them: the other gates lift the hold only on
word from the gate that holds.
"""
from __future__ import annotations

import json
import time
from itertools import takewhile

from sqlalchemy import Connection, select

from domain.errors import Refused
from domain.identifiers import IdentifierError, check_id
from storage import cases
from storage.chain import Chain
from storage.log import ScreeningLog
from storage.tables.log import AUDIT_EVENTS as AUDIT, OUTBOX, SCREENINGS
from storage.tables.cases import CASES, CLEARANCES
from storage.tables.sync import QUARANTINE

HELD, LIFTED = "entrant-held", "entrant-held-lifted"
ABOUT_A_PUPIL = {"screening": SCREENINGS, "case": CASES, "clearance": CLEARANCES}
EDITED = "changed outside the station"  # what storage.sync_unverified's quarantine reason says


class LiftRefused(Refused):
    """Nothing is lifted: the log does not verify yet, or this gate holds nothing back."""


def _holds(chain: Chain, row) -> bool:
    try:
        return chain.link(row["prev_hash"], chain.content(row)) == row["row_hash"]
    except (ValueError, TypeError, KeyError):
        return False


def about(log: ScreeningLog, conn: Connection, kind: str, record_id: str, outbox_seq: int) -> list[str]:
    """Every pupil the held record may be about (see the module's docstring), in a stable order."""
    table = ABOUT_A_PUPIL[kind]
    row = conn.execute(select(table).where(table.c.id == record_id)).mappings().first()
    names = []
    if row is not None:
        names.append(row["entrant_id"])
        if kind == "case" and isinstance(row["case_id"], str):
            found = cases.all_cases(log, conn).get(row["case_id"])
            names.append(found.entrant_id if found else None)
    # The audit events the same unit of work queued right after it (before the next record of another kind)
    following = conn.execute(select(OUTBOX.c.kind, OUTBOX.c.record_id).where(OUTBOX.c.seq > outbox_seq)
                             .order_by(OUTBOX.c.seq).limit(8)).all()
    ids = [rid for _kind, rid in takewhile(lambda r: r[0] == "audit", following)]
    if ids:
        chain = log.audit_chain
        for a in conn.execute(select(AUDIT).where(AUDIT.c.id.in_(ids))).mappings():
            if _holds(chain, a):
                try:
                    names.append(json.loads(a["detail"]).get("entrant_id"))
                except (ValueError, AttributeError):
                    pass
    return list(dict.fromkeys(n for n in names if _an_id(n)))


def _an_id(value: object) -> bool:
    """An id the other gates will take (storage.school_records.held_notice checks it the same way)."""
    try:
        check_id(value, "entrant id")
    except (IdentifierError, TypeError):
        return False
    return True


def record(u, log: ScreeningLog, station_id: str | None, bad: list[tuple[int, str, str, str]],
           since: float) -> list[str]:
    """In the unit that quarantines ``bad``: one ``entrant-held`` audit event per pupil an edited record may be
    about; returns the pupils."""
    out = []
    for seq, kind, record_id, error in bad:
        if kind not in ABOUT_A_PUPIL or EDITED not in error:
            continue
        for entrant in about(log, u.conn, kind, record_id, seq):
            u.audit(station_id or "?", "station", HELD, {"entrant_id": entrant, "kind": kind, "record": record_id,
                                                         "gate": station_id or "?", "since": since,
                                                         "see": "gate verify; gate held lift"})
            out.append(entrant)
    return list(dict.fromkeys(out))


def held_here(conn: Connection) -> dict[str, dict]:
    """This gate's own holds not lifted: entrant -> the latest ``entrant-held`` detail (read as written: `gate held
    lift` runs only on a log that verifies)."""
    found: dict[str, dict] = {}
    for action, detail in conn.execute(select(AUDIT.c.action, AUDIT.c.detail)
                                       .where(AUDIT.c.action.in_((HELD, LIFTED))).order_by(AUDIT.c.seq)):
        try:
            d = json.loads(detail)
        except ValueError:
            continue
        entrant = d.get("entrant_id") if isinstance(d, dict) else None
        if not isinstance(entrant, str):
            continue
        if action == HELD:
            found[entrant] = d
        else:
            found.pop(entrant, None)
    return found


def lift(log: ScreeningLog, station_id: str, *, note: str, by: str, role: str, verified: bool,
         now: float | None = None, entrants: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """Lift this gate's holds: (the pupils, how many held records were queued again for the upstream).

    ``verified``: `gate verify` found nothing wrong in this log just now (storage.integrity.check); otherwise refused.
    ``entrants``: lift these pupils, whether or not this log remembers holding them (a log restored from a backup older
    than the hold; a hold sent upward under this gate's id by someone with its database password); default: every
    hold this log remembers.
    """
    if not verified:
        raise LiftRefused("this log still does not verify: an auditor runs gate verify, undoes the edit (or restores "
                          "the log and its key from backup), then lifts the hold; nothing was lifted")
    with log.unit("the holds lifted") as u:
        held = held_here(u.conn)
        if entrants:
            held = {e: held.get(e, {}) for e in entrants}
        if not held:
            raise LiftRefused("this gate holds back no record about anyone (a hold this log does not remember: name "
                              "the pupil with --entrant ID); nothing was lifted")
        again = u.conn.execute(select(QUARANTINE.c.kind, QUARANTINE.c.record_id)
                               .where(QUARANTINE.c.error.like(f"%{EDITED}%"))).all()
        for kind, record_id in dict.fromkeys(again):  # sent now as the station wrote them (the log verifies)
            u.queue(kind, record_id)
        u.conn.execute(QUARANTINE.delete().where(QUARANTINE.c.error.like(f"%{EDITED}%")))
        for entrant, d in held.items():
            u.audit(station_id, by, LIFTED, {"entrant_id": entrant, "gate": station_id, "role": role, "note": note,
                                             "held_since": d.get("since"), "at": time.time() if now is None else now})
    return sorted(held), len(dict.fromkeys(again))


__all__ = ["HELD", "LIFTED", "LiftRefused", "about", "record", "held_here", "lift"]
