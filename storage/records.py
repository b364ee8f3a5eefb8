"""How the domain's records become rows and back: the columns stored, the content each chain hashes."""
from __future__ import annotations

import json
import time
from typing import Mapping

from domain import Screening
from domain.identifiers import id_key

JSON_COLUMNS = ("reasons", "mask", "readings")
# What the chain hashes, fixed for good: a column added later must not change the hash of rows already written.
HASHED_COLUMNS = ("id", "station_id", "created_at", "day", "entrant_id", "operator", "follows", "decision", "reasons",
                  "message", "threshold_c", "temperature_c", "mask", "readings")
# Hashed when set: rows from before sessions existed (NULL) keep the content they were hashed with, and a session
# written into such a row, or changed in a later one, breaks the chain.
OPTIONAL_HASHED = ("session",)
DERIVED_COLUMNS = ("source", "mask_state", "entrant_key")
AUDIT_HASHED = ("id", "station_id", "at", "actor", "action", "detail")


def local_day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def _json(v: object) -> str:
    # Canonical, as the chain writes it (keys sorted): the sync's re-hash then splices the stored text in as it is
    # (storage.row_check). Rows written before this keep their text; the check re-encodes those.
    return json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def derived(content: Mapping) -> dict:
    """Columns computed from the hashed content, kept for fast queries."""
    readings = content["readings"]
    entrant = content["entrant_id"]
    return {"source": readings[-1].get("source") if readings else None,
            "mask_state": (content["mask"] or {}).get("state"),
            "entrant_key": id_key(entrant) if entrant else None}


def screening_content(s: Screening) -> dict:
    """Column values with JSON columns still as Python objects: exactly what the chain hashes."""
    c = s.content()
    return {
        "id": s.id,
        "station_id": s.station_id,
        "created_at": c["created_at"],
        "day": local_day(s.created_at),
        "entrant_id": s.entrant_id,
        "operator": s.operator,
        "follows": s.follows,
        "decision": s.decision.value,
        "reasons": c["reasons"],
        "message": s.message,
        "threshold_c": s.threshold_c,
        "temperature_c": s.temperature_c,
        "mask": c["mask"],
        "readings": c["readings"],
        **{k: c[k] for k in OPTIONAL_HASHED if c.get(k) is not None},
    }


def screening_columns(s: Screening) -> tuple[dict, dict]:
    """(column values as stored, with JSON columns as text; the content the chain hashes)."""
    content = screening_content(s)
    return {**{k: (_json(v) if k in JSON_COLUMNS else v) for k, v in content.items()}, **derived(content)}, content


def screening_values(s: Screening) -> dict:
    """Column values as stored (JSON columns as text)."""
    return screening_columns(s)[0]


def row_content(row: Mapping) -> dict:
    """What the chain hashes for a stored row: every column but the sequence number and the hashes themselves."""
    content = {k: (json.loads(row[k]) if k in JSON_COLUMNS else row[k]) for k in HASHED_COLUMNS}
    content.update({k: row[k] for k in OPTIONAL_HASHED if row.get(k) is not None})
    return content


def derived_disagree(row: Mapping, content: dict) -> str | None:
    """A stored row whose derived columns were edited apart from the readings they come from."""
    want = derived(content)
    if row.get("entrant_key", want["entrant_key"]) != want["entrant_key"]:
        return "its entrant_key column was changed (it disagrees with its entrant id)"
    if all(row[k] == want[k] for k in ("source", "mask_state")):
        return None
    return "its source or mask columns were changed (they disagree with its readings)"


def edited_json(row: Mapping, columns: tuple[str, ...]) -> str | None:
    """A JSON column whose stored text is not one the station writes for its value (storage.row_check.as_written):
    the same value to Python, another text to whoever reads it as text."""
    from storage.row_check import as_written  # loaded when a chain is checked: not on gate screen's path

    for column in columns:
        try:
            as_written(row[column])
        except (ValueError, TypeError, RecursionError):
            return f"its {column} column's text was changed outside the station (not as the station writes it)"
    return None


def screening_problem(row: Mapping, content: dict) -> str | None:
    """What the screening chain checks beyond the hash: JSON texts as written, derived columns agreeing."""
    return edited_json(row, JSON_COLUMNS) or derived_disagree(row, content)


def audit_problem(row: Mapping, _content: dict) -> str | None:
    return edited_json(row, ("detail",))


def screening_from_row(row: Mapping) -> Screening:
    return Screening.from_content(row_content(row))


def audit_values(station_id: str, actor: str | None, action: str, detail: dict, *, event_id: str,
                 at: float) -> dict:
    return {"id": event_id, "station_id": station_id, "at": round(at, 6), "actor": actor or "?", "action": action,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)}


def audit_content(row: Mapping) -> dict:
    """What the audit chain hashes for an event (``detail`` as its JSON object)."""
    return {k: (json.loads(row[k]) if k == "detail" else row[k]) for k in AUDIT_HASHED}


CLEARANCE_HASHED = ("id", "station_id", "entrant_id", "fever_screening_id", "fever_at", "note", "cleared_by", "role",
                    "at")


def clearance_content(row: Mapping) -> dict:
    """What the clearance chain hashes: every column but the sequence number and the hashes."""
    return {k: row[k] for k in CLEARANCE_HASHED}
