"""What the other gates of the school know about a person's fever, pulled from the upstream by every sync.

A fever confirmed at the north gate, a follow-up case closed there as sent home / sick leave with a fever (it needs a
return-to-school certificate, 复课证明) and a clearance recorded there are otherwise known only to the north gate's log:
the south gate would admit the pupil. Each sync (``gate sync``, the background sync of ``gate run``) therefore pulls
the school's (same ``school_id``) such records from the stations whose key is not this one's, after the highest
sequence number already pulled from each, and stores them here:

- rows keyed ``<origin station>/<kind>/<origin seq>``: pulling twice stores nothing twice;
- one hash chain under the station key with its end sealed (storage.chain, storage.seals), like the log's own chains:
  a row deleted, changed or slipped into the file is named by ``gate verify``;
- ``lookup`` verifies the whole chain first and raises StorageError when it does not hold: the station then refuses
  to screen an identified person on a memory it cannot trust (fail closed) rather than admit a pupil whose fever was
  cut out of the file.

The same pull brings each other gate's word that it holds back an edited record about a pupil, and the lifting of
it (kinds ``held`` / ``lifted``, from that gate's audit events: storage.held); ``lookup`` gives the holds not lifted.

When the upstream cannot be reached the gate keeps working with what it pulled last: the window is the sync interval.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain import Clearance, Decision, MaskResult, Reason, Screening
from domain.case import NEEDS_CERTIFICATE, Case, CaseReason, Outcome
from domain.held import Hold
from domain.identifiers import IdentifierError, check_id, id_key
from storage.chain import Chain
from storage.errors import StorageError
from storage.held import HELD, LIFTED
from storage.log import ScreeningLog
from storage.tables.school import SCHOOL_RECORDS as RECORDS
from storage.tables.log import SEALS

HASHED = ("id", "origin", "origin_seq", "kind", "entrant_id", "at", "content", "pulled_at")
_CONFIRMED = f'%"{Reason.FEVER_CONFIRMED.value}"%'
_WITH_FEVER = '%"fever"%'


MARK = "upto:"  # the kind of a purge's marker row: "upto:fever" holds the origin seq the next pull starts after


def cursor_kind(kind: str) -> str:
    """The kind a pulled row counts for where the next pull starts (a marker for the kind it stands for)."""
    return kind[len(MARK):] if kind.startswith(MARK) else kind


def record_content(row: Mapping) -> dict:
    return {k: row[k] for k in HASHED}


def chain(log: ScreeningLog) -> Chain:
    """The pulled records' chain of this log, with the log's digest and seal (keyed when the log's chains are)."""
    return log.chain(RECORDS, record_content, "pulled school record")


@dataclass(frozen=True)
class Pulled:
    """What the other gates know of one entrant: confirmed fevers, certificate cases, clearances (oldest first)."""

    fevers: tuple[Screening, ...] = ()
    cases: tuple[Case, ...] = ()
    clearances: tuple[Clearance, ...] = ()
    held: tuple[Hold, ...] = ()  # records about the entrant another gate holds back (edited there), not lifted


# -- pulling ------------------------------------------------------------------------------------------------------
# The upstream's tables are imported where the pulling needs them: `gate screen` reads what was pulled and never
# pulls, and building those tables is part of its start-up otherwise (bench/cli_startup.py).
def _others(conn: Connection, school_id: str, fingerprint: str, own: frozenset[str]) -> list[str]:
    from storage import upstream_schema as up

    s = up.stations
    rows = conn.execute(select(s.c.station_id, s.c.fingerprint).where(s.c.school_id == school_id)).all()
    return sorted(sid for sid, fp in rows if sid not in own and fp != fingerprint)


def codes(text: object, needed: str) -> list[str]:
    """A JSON list of codes as another station sent it upward, read without trusting it: the codes that are text, and
    always ``needed`` (the query matched it), so an unreadable list never turns a fever into nothing."""
    try:
        found = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        found = []
    found = [c for c in found if isinstance(c, str)] if isinstance(found, list) else []
    return found if needed in found else [needed, *found]


def _fever(row: Mapping) -> dict:
    return {"id": row["id"], "station_id": row["station_id"], "entrant_id": row["entrant_id"],
            "created_at": row["created_at"], "reasons": codes(row["reasons"], Reason.FEVER_CONFIRMED.value),
            "threshold_c": row["threshold_c"],
            "temperature_c": row["temperature_c"], "message": row["message"]}


def _case(conn: Connection, school_id: str, close: Mapping) -> dict:
    from storage import upstream_schema as up

    c = up.cases
    opened = conn.execute(select(c).where(c.c.school_id == school_id, c.c.case_id == close["case_id"],
                                          c.c.event == "open").limit(1)).mappings().first() or close
    return {"case_id": close["case_id"], "entrant_id": close["entrant_id"], "class_name": opened["class_name"],
            "day": opened["day"], "session": opened["session"],
            "reason": next((r for r in (opened["reason"], close["reason"]) if r in set(CaseReason)),
                           CaseReason.FEVER.value),  # an unknown code from upstream: still the fever it was closed with
            "screening_id": opened["screening_id"], "opened_at": opened["at"], "outcome": close["outcome"],
            "symptoms": codes(close["symptoms"], "fever"), "onset": close["onset"], "note": close["note"],
            "closed_by": close["by"], "closed_at": close["at"], "station_id": close["station_id"]}


def _clearance(row: Mapping) -> dict:
    return {k: row[k] for k in ("id", "entrant_id", "fever_screening_id", "fever_at", "note", "cleared_by", "role",
                                "at", "station_id")}


def held_notice(row: Mapping) -> dict | None:
    """A hold or its lifting as a gate sent it upward, read without trusting it; None when it is not one. The gate is
    the row's own station id (the one the upstream binds to the role that sent it), never what its detail says."""
    try:
        d = json.loads(row["detail"])
        entrant = check_id(d["entrant_id"], "entrant id")
    except (ValueError, TypeError, KeyError, IdentifierError):
        return None
    since = d.get("since", d.get("held_since"))
    since = float(since) if isinstance(since, (int, float)) and not isinstance(since, bool) \
        and math.isfinite(since) else float(row["at"])
    kind, record = d.get("kind"), d.get("record")
    return {"entrant_id": entrant, "gate": str(row["station_id"]), "since": since,
            "kind": kind if kind in ("screening", "case", "clearance") else "record",
            "record_id": record if isinstance(record, str) and len(record) <= 36 else ""}


def _new_rows(conn: Connection, school_id: str, origin: str, after: dict[str, int]) -> list[tuple[str, int, str,
                                                                                                  float, dict]]:
    """(kind, origin seq, entrant, at, content) of ``origin``'s records after those pulled already."""
    from storage import upstream_schema as up

    s, c, k = up.screenings, up.cases, up.clearances
    out = []
    for row in conn.execute(select(s).where(s.c.school_id == school_id, s.c.station_id == origin,
                                            s.c.seq > after.get("fever", 0), s.c.entrant_id.is_not(None),
                                            s.c.reasons.like(_CONFIRMED)).order_by(s.c.seq)).mappings():
        out.append(("fever", row["seq"], row["entrant_id"], row["created_at"], _fever(row)))
    for row in conn.execute(select(c).where(c.c.school_id == school_id, c.c.station_id == origin,
                                            c.c.seq > after.get("certificate", 0), c.c.event == "close",
                                            c.c.outcome.in_([o.value for o in NEEDS_CERTIFICATE]),
                                            c.c.symptoms.like(_WITH_FEVER)).order_by(c.c.seq)).mappings().all():
        out.append(("certificate", row["seq"], row["entrant_id"], row["at"], _case(conn, school_id, row)))
    for row in conn.execute(select(k).where(k.c.school_id == school_id, k.c.station_id == origin,
                                            k.c.seq > after.get("clearance", 0)).order_by(k.c.seq)).mappings():
        out.append(("clearance", row["seq"], row["entrant_id"], row["at"], _clearance(row)))
    # A gate's word that it holds back an edited record of a pupil, or lifts that (storage.held): holds and lifts in
    # one query, in the gate's own order, so that they are stored here in that order (a lift lifts what came before)
    a, kind_of = up.audit_events, {HELD: "held", LIFTED: "lifted"}
    for row in conn.execute(select(a).where(a.c.school_id == school_id, a.c.station_id == origin,
                                            a.c.seq > min(after.get("held", 0), after.get("lifted", 0)),
                                            a.c.action.in_(tuple(kind_of))).order_by(a.c.seq)).mappings():
        kind = kind_of[row["action"]]
        if row["seq"] > after.get(kind, 0) and (notice := held_notice(row)) is not None:
            out.append((kind, row["seq"], notice["entrant_id"], row["at"], notice))
    return out


def pull(log: ScreeningLog, engine: Engine, school_id: str, fingerprint: str, *,
         own: frozenset[str] = frozenset(), now: float | None = None) -> int:
    """Store the school's records from the other gates not pulled yet; returns how many were stored.

    Reads the upstream in one transaction, then writes here in one unit of work: a pull cut off half way stores
    nothing, and the next one starts again from the same place. SQLAlchemy errors reach the caller (the sync turns
    them into one line).
    """
    now = time.time() if now is None else now
    with log.read("what was pulled from the school") as conn:
        after: dict[str, dict[str, int]] = {}
        for origin, kind, seq in conn.execute(select(RECORDS.c.origin, RECORDS.c.kind, func.max(RECORDS.c.origin_seq))
                                              .group_by(RECORDS.c.origin, RECORDS.c.kind)):
            kind = cursor_kind(kind)  # a purge's marker holds the place of the rows it took (storage.pulled_retention)
            after.setdefault(origin, {})[kind] = max(seq, after.get(origin, {}).get(kind, 0))
    with engine.connect() as conn, conn.begin():
        found = [(origin, *r) for origin in _others(conn, school_id, fingerprint, own)
                 for r in _new_rows(conn, school_id, origin, after.get(origin, {}))]
    if not found:
        return 0
    stored = 0
    with log.unit("the records pulled from the school") as u:
        have = set(u.conn.execute(select(RECORDS.c.id).where(
            RECORDS.c.id.in_([f"{o}/{k}/{s}" for o, k, s, *_ in found]))).scalars())
        for origin, kind, seq, entrant_id, at, content in found:
            values = {"id": f"{origin}/{kind}/{seq}", "origin": origin, "origin_seq": seq, "kind": kind,
                      "entrant_id": entrant_id, "at": round(float(at), 6), "pulled_at": round(now, 6),
                      "content": json.dumps(content, ensure_ascii=False, sort_keys=True)}
            if values["id"] in have:
                continue
            chain(log).append(u.conn, values, record_content(values))
            have.add(values["id"])
            stored += 1
    return stored


def pull_for(sync) -> int:
    """The pull of one round of ``storage.sync.Sync.once``: nothing for a station that is its own school. The upstream
    out of reach is the sync's SyncError (one line); the gate goes on with what it pulled before. A gate with nothing
    left to send is noted as synced now (the other gates' daily reports ask whether it reported after a check)."""
    from storage.sync import SyncError, _one_line

    if not sync.school_id:
        return 0
    try:
        got = pull(sync.log, sync.engine(), sync.school_id, sync.fingerprint(), now=sync.clock())
        if not sync.pending():  # all it holds is upstream: it has reported up to now, even with nothing new to send
            from storage.stations import up_to_date

            with sync.engine().begin() as conn:
                up_to_date(conn, sync.school_id, sync.fingerprint(), sync.clock())  # the sync's clock, as its stamps
        return got
    except SQLAlchemyError as exc:
        raise SyncError(f"upstream {sync.shown_url}: cannot pull the school's fevers and clearances from its other "
                        f"gates: {_one_line(exc)}") from None


# -- reading ------------------------------------------------------------------------------------------------------
def _screening(d: dict) -> Screening:
    return Screening(station_id=d["station_id"], readings=(), mask=MaskResult(), decision=Decision.DENY,
                     reasons=tuple(d["reasons"]), message=d["message"], threshold_c=d["threshold_c"],
                     entrant_id=d["entrant_id"], id=d["id"], created_at=d["created_at"])


def _certificate(d: dict) -> Case:
    return Case(d["case_id"], d["entrant_id"], d["class_name"], d["day"], d["session"], CaseReason(d["reason"]),
                d["screening_id"], d["opened_at"], Outcome(d["outcome"]), tuple(d["symptoms"]), d["onset"],
                d["note"], d["closed_by"], d["closed_at"])


def _trusted_rows(log: ScreeningLog, conn: Connection) -> list:
    """Every pulled row, after the whole chain and its seal verified. Raises StorageError when they do not.

    The rows and the seal as last verified are kept with the log: a lookup that finds them exactly so (compared as
    tuples, well under the cost of the HMACs) trusts them without walking the chain again; any difference at all, a
    pull or an edit of the file, walks it again.
    """
    rows = conn.execute(select(RECORDS).order_by(RECORDS.c.seq)).all()
    seal = conn.execute(select(SEALS).where(SEALS.c.name == "chain:school_records")).first()
    state = (rows, seal)
    if getattr(log, "_school_verified", None) == state:
        return rows
    result = chain(log).verify(conn)
    if not result.ok:
        where = f"row {result.bad_seq}: " if result.bad_seq is not None else ""
        raise StorageError(f"the school's fever records pulled from the other gates were changed in this log "
                           f"({where}{result.detail}): nobody identified is screened on them; an admin runs "
                           "`gate verify` and restores the log from backup")
    log._school_verified = state
    return rows


def _open_holds(rows) -> list[tuple[str, Hold]]:
    """(entrant, hold) of each hold no later word of its own gate lifted: a lift counts only from the gate that
    holds, for the same pupil under any spelling, and lifts every hold stored here before it (``rows`` in the order
    pulled, which is each gate's own order: so a hold sent upward under a made-up high number is lifted too)."""
    holds: dict[tuple[str, str], list[tuple[str, Hold]]] = {}
    for r in rows:
        if r.kind not in ("held", "lifted"):
            continue
        d = json.loads(r.content)
        key = (r.origin, id_key(r.entrant_id))
        if r.kind == "held":
            holds.setdefault(key, []).append((r.entrant_id, Hold(d["gate"], d["since"], d["kind"], d["record_id"])))
        else:
            holds.pop(key, None)
    return [pair for found in holds.values() for pair in found]


def lookup(log: ScreeningLog, conn: Connection, entrant_id: str) -> Pulled:
    """The pulled records of one entrant. Raises StorageError when the chain does not verify (fail closed)."""
    by = {"fever": [], "certificate": [], "clearance": []}
    rows = _trusted_rows(log, conn)
    for r in rows:
        if r.entrant_id == entrant_id and r.kind in by:
            by[r.kind].append(json.loads(r.content))
    key = id_key(entrant_id)
    return Pulled(tuple(_screening(d) for d in by["fever"]), tuple(_certificate(d) for d in by["certificate"]),
                  tuple(Clearance(**d) for d in by["clearance"]),
                  tuple(h for who, h in _open_holds(r for r in rows if id_key(r.entrant_id) == key)))


def holds(log: ScreeningLog) -> list[tuple[str, Hold]]:
    """(entrant, hold) of every hold of the school's other gates not lifted, oldest first."""
    with log.read("the records pulled from the school") as conn:
        return sorted(_open_holds(_trusted_rows(log, conn)), key=lambda h: h[1].since)


def entrants(log: ScreeningLog, kind: str) -> list[str]:
    """The entrants with a pulled record of ``kind`` (fever | certificate | clearance), oldest first."""
    with log.read("the records pulled from the school") as conn:
        return list(dict.fromkeys(r.entrant_id for r in _trusted_rows(log, conn) if r.kind == kind))
