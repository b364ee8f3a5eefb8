"""The follow-up case events of the school's other gates, as pulled into this log (table ``school_cases``).

One hash chain under the station key with its end sealed (storage.chain, storage.seals), like the pulled fevers: an
event edited, slipped in or cut out of the file is named by `gate verify`, and the case list believes the chain only
up to the first row whose link does not hold (a forged close closes nothing). What another station sent upward is
read without trusting it: an event that is not one (an unknown reason or outcome, a wrong type) is left out, never a
crash. Writing (the pull) is storage.school_cases.
"""
from __future__ import annotations

import json
import math
from typing import Iterator, Mapping

from sqlalchemy import Connection, func, select

from domain.case import NOTE_MAX, CaseReason, Outcome
from domain.identifiers import IdentifierError, check_text
from storage.chain import Chain
from storage.log import ScreeningLog
from storage.tables.school import SCHOOL_CASES as PULLED
from storage.tables.sync import SYNC_STATE
from storage.verify_result import VerifyResult

HASHED = ("id", "origin", "origin_seq", "case_id", "entrant_id", "at", "content", "pulled_at")
EVENT_KEYS = ("id", "case_id", "event", "station_id", "entrant_id", "class_name", "day", "session", "reason",
              "screening_id", "outcome", "symptoms", "onset", "note", "by", "role", "at")
_TEXT = {"id": 36, "case_id": 36, "station_id": 64, "entrant_id": 64, "class_name": 64, "day": 10, "by": 64,
         "role": 16}
_MAYBE = {"session": 64, "screening_id": 36, "onset": 10}
_REASONS = tuple(r.value for r in CaseReason)
_OUTCOMES = tuple(o.value for o in Outcome)


def pulled_content(row: Mapping) -> dict:
    return {k: row[k] for k in HASHED}


def chain(log: ScreeningLog) -> Chain:
    """The pulled case events' chain of this log, with the log's digest and seal."""
    return log.chain(PULLED, pulled_content, "pulled case event")


def symptoms_of(value: object) -> tuple[str, ...]:
    """A JSON list of symptoms as a station wrote it, read without trusting it: the entries that are text."""
    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return ()
    return tuple(s for s in found if isinstance(s, str) and len(s) <= 32) if isinstance(found, list) else ()


def _plain(value: str, n: int) -> bool:
    """Empty, or printable text of at most ``n`` characters: what another gate sent is shown to a teacher, and a
    terminal escape or a bidi override in it is no note."""
    if not value.strip():
        return True
    try:
        check_text(value, "field", max_len=n)
    except IdentifierError:
        return False
    return True


def event_from(data: object) -> dict | None:
    """One case event as another station sent it upward, checked field by field; None when it is not one."""
    if not isinstance(data, dict):
        return None
    out = {}
    for k, n in _TEXT.items():
        v = data.get(k)
        if not isinstance(v, str) or len(v) > n or (k in ("id", "case_id", "station_id", "entrant_id") and not v):
            return None
        out[k] = v
    for k, n in _MAYBE.items():
        v = data.get(k)
        if v is not None and (not isinstance(v, str) or len(v) > n):
            return None
        out[k] = v
    at = data.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
        return None
    out["at"] = float(at)
    if not all(isinstance(data.get(k), str) for k in ("event", "reason")) or data["event"] not in ("open", "close") \
            or data["reason"] not in _REASONS:  # compared as text: a list or a dict sent upward is no reason
        return None
    out["event"], out["reason"] = data["event"], data["reason"]
    if out["event"] == "close" and (not isinstance(data.get("outcome"), str) or data["outcome"] not in _OUTCOMES):
        return None
    out["outcome"] = data.get("outcome") if out["event"] == "close" else None
    out["symptoms"] = json.dumps(list(symptoms_of(data.get("symptoms"))))
    note = data.get("note")
    out["note"] = note if isinstance(note, str) else ""
    shown = {**_TEXT, **_MAYBE, "note": NOTE_MAX}
    if not all(out[k] is None or _plain(out[k], n) for k, n in shown.items()):
        return None
    return out


def events(log: ScreeningLog, conn: Connection) -> Iterator[dict]:
    """The pulled events that can be believed: the chain up to its first broken link, each event checked."""
    for row in chain(log).intact(conn):
        try:
            found = event_from(json.loads(row["content"]))
        except ValueError:
            found = None
        if found is not None:
            yield found


def verify(log: ScreeningLog, conn: Connection) -> VerifyResult:
    return chain(log).verify(conn)


def last_pull(conn: Connection) -> tuple[int, float | None]:
    """(how many case events were pulled from the other gates, when this log last synced at all)."""
    n = conn.execute(select(func.count()).select_from(PULLED).where(PULLED.c.case_id != "")).scalar_one()  # no marker
    return n, conn.execute(select(func.max(SYNC_STATE.c.last_success))).scalar()
