"""What a sync batch must not send because it was changed in the SQLite file: a screening, case event, audit event or
clearance whose hash no longer recomputes from its content (the check `gate verify` makes, one row at a time, with the
log's keyed digest). Such a row is taken out of the batch, to quarantine, "refused here, not sent": the station
itself already fails closed on it, and no other gate of the school may learn the edit (a close turned into a false
alarm, a fever turned into an admit, a late screening moved into the morning check).

Run in the sync's read-ahead thread on the rows as read for upstream, so it costs no extra read of the log.
"""
from __future__ import annotations

import json

from storage import cases
from storage import held as holds
from storage.cases import HASHED as CASE_HASHED
from storage.records import AUDIT_HASHED, CLEARANCE_HASHED, HASHED_COLUMNS, JSON_COLUMNS, OPTIONAL_HASHED
from storage import upstream_schema as up
from storage.chain import Chain
from storage.log import ScreeningLog

WHAT = {"screening": "screening", "case": "follow-up case event", "audit": "audit event", "clearance": "clearance"}


def _chains(log: ScreeningLog) -> dict[str, Chain]:
    return {"screening": log.screening_chain, "case": cases.chain(log), "audit": log.audit_chain,
            "clearance": log.clearance_chain}


# What each chained kind hashes: (columns, of which JSON text, hashed only when set), as its chain's content function
# (storage.records, storage.cases); the fast path below builds that content straight from the upstream tuple.
SPEC = {"screening": (HASHED_COLUMNS, JSON_COLUMNS, OPTIONAL_HASHED), "case": (CASE_HASHED, (), ()),
        "audit": (AUDIT_HASHED, ("detail",), ()), "clearance": (CLEARANCE_HASHED, (), ())}
# chain.canonical's settings, one encoder made once (json.dumps with settings makes one per call)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def _holds(chain: Chain, row: dict) -> bool:
    """The row's hash recomputes from its content and stored link (the columns derived from the content, which the
    upstream does not take, are not looked at: `gate verify` checks them here)."""
    try:
        return chain.link(row["prev_hash"], chain.content(row)) == row["row_hash"]
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return False  # unreadable content (a JSON column edited into garbage): not sent either


def _checker(kind: str, chain: Chain, names: tuple[str, ...]):
    """``row tuple -> holds``: the content made from the tuple by position, one encoder, the chain's digest. Only a
    match is believed from it (it means the station wrote this content); a miss is looked at again by ``_holds``."""
    hashed, as_json, optional = SPEC[kind]
    at = {n: i for i, n in enumerate(names)}
    plain = [(n, at[n]) for n in hashed if n not in as_json]
    parsed = [(n, at[n]) for n in as_json]
    maybe = [(n, at[n]) for n in optional]
    prev_at, hash_at, digest, loads = at["prev_hash"], at["row_hash"], chain.digest, json.loads

    def fast(row: tuple) -> bool:
        try:
            content = {n: row[i] for n, i in plain}
            for n, i in parsed:
                content[n] = loads(row[i])
            for n, i in maybe:
                if row[i] is not None:
                    content[n] = row[i]
            if digest((row[prev_at] + "\n" + _CANONICAL(content)).encode("utf-8")) == row[hash_at]:
                return True
        except (ValueError, TypeError):
            pass
        return _holds(chain, dict(zip(names, row)))

    return fast


def unverified(log: ScreeningLog, groups: dict) -> list[tuple[int, str, str, str]]:
    """The chained records of ``groups`` whose hash does not match their content: taken out of ``groups``."""
    bad = []
    chains = None
    for kind, items in groups.items():
        if kind not in WHAT or not items:
            continue
        chains = chains or _chains(log)
        # The upstream row is the school, then the log's columns under their own names (storage.sync._next_batch)
        holds = _checker(kind, chains[kind], ("school_id", *(c.name for c in up.record_columns(up.TABLES[kind]))))
        keep = [item for item in items if holds(item[1])]
        if len(keep) == len(items):
            continue
        kept = {id(item) for item in keep}
        bad += [(seq, kind, record_id, f"refused here, not sent: the {WHAT[kind]} {record_id} was changed outside "
                 "the station (its content does not match its hash); `gate verify` names what changed")
                for item in items if id(item) not in kept for (seq, _kind, record_id), _row in (item,)]
        groups[kind] = keep
    return bad


def audit(u, log: ScreeningLog, station_id: str | None, bad: list[tuple[int, str, str, str]], since: float) -> None:
    """One audit event per round that held back records changed in the file (kind and id: what `gate verify` and
    the quarantine name), in the unit that quarantines them; and the word to the school's other gates that a record
    about each pupil concerned is held here (storage.held)."""
    held = [{"kind": kind, "id": record_id} for _seq, kind, record_id, error in bad
            if error.startswith("refused here, not sent:") and "changed outside the station" in error]
    if held:
        u.audit(station_id or "?", "station", "sync-refused-edited", {"records": held[:50], "count": len(held),
                                                                      "see": "gate verify"})
        holds.record(u, log, station_id, bad, since)
