"""The daily report for the education bureau: counts, retests and their outcomes, fevers, and the zero-report flag.

A person's screenings form an episode (a retest or a staff confirmation ``follows`` the screening before it); the
episode's last decision is the person's outcome. Abnormal = a confirmed fever, or a suspected fever whose retest is
still open. ``zero_report`` is true when nothing abnormal happened that day.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter

from sqlalchemy import func, select

from domain import Decision, Reason
from domain.identifiers import id_key
from storage.log import SCREENINGS, ScreeningLog
from storage.seals import chain_heads
from storage.tables.records import DAILY_REPORTS as REPORTS
from storage.seals import row_trusted, sealed_write
from storage.roster import roster_size, unscreened

SENSOR_REASONS = {Reason.SENSOR_FAULT, Reason.SENSOR_OFFLINE, Reason.SENSOR_WARMING, Reason.SENSOR_DEGRADED,
                  Reason.CALIBRATION_OVERDUE}
DENIAL_REASONS = {Reason.FEVER_CONFIRMED, Reason.NO_MASK, Reason.VISITOR_NOT_APPROVED}


def daily(log: ScreeningLog, day: str, station_id: str) -> dict:
    with log.read(f"the screenings of {day}") as conn:
        rows = conn.execute(select(SCREENINGS.c.id, SCREENINGS.c.follows, SCREENINGS.c.decision,
                                   SCREENINGS.c.reasons, SCREENINGS.c.readings, SCREENINGS.c.seq)
                            .where(SCREENINGS.c.day == day).order_by(SCREENINGS.c.seq)).mappings().all()
    by_id = {r["id"]: r for r in rows}
    root_of: dict[str, str] = {}
    for r in rows:  # in sequence order, so a follower's predecessor is already placed
        root_of[r["id"]] = root_of.get(r["follows"], r["follows"]) if r["follows"] in by_id else r["id"]
    episodes: dict[str, list] = {}
    for r in rows:
        episodes.setdefault(root_of[r["id"]], []).append(r)
    outcomes = Counter()
    denied_by = Counter()
    retests = Counter()
    fevers = no_mask = manual = sensor_faults = 0
    for chain_rows in episodes.values():
        last = chain_rows[-1]
        reasons = set(json.loads(last["reasons"]))
        outcomes[last["decision"]] += 1
        if last["decision"] == Decision.DENY:
            for code in reasons & DENIAL_REASONS or {"other"}:
                denied_by[str(code)] += 1
        if any(Reason.FEVER_SUSPECTED in json.loads(r["reasons"]) for r in chain_rows):
            retests["admitted" if last["decision"] == Decision.ADMIT else
                    "denied" if last["decision"] == Decision.DENY else "open"] += 1
        fevers += Reason.FEVER_CONFIRMED in reasons
        no_mask += Reason.NO_MASK in reasons
        manual += any(rd.get("source") == "manual" for r in chain_rows for rd in json.loads(r["readings"]))
        sensor_faults += any(SENSOR_REASONS & set(json.loads(r["reasons"])) for r in chain_rows)
    on_roster = roster_size(log)
    missing = unscreened(log, day) if on_roster else []
    return {
        "station_id": station_id,
        "day": day,
        "screened": len(episodes),
        "screenings": len(rows),
        "admitted": outcomes["admit"],
        "denied": outcomes["deny"],
        "denied_by_reason": dict(sorted(denied_by.items())),
        "unresolved": outcomes["retest"],
        "retests": {"total": sum(retests.values()), "admitted": retests["admitted"], "denied": retests["denied"],
                    "open": retests["open"]},
        "confirmed_fevers": fevers,
        "no_mask": no_mask,
        "manual_readings": manual,
        "sensor_faults": sensor_faults,
        "unscreened": len(missing) if on_roster else None,  # no roster here: not known (null), never 0
        "unscreened_ids": [e.roster_id for e in missing],
        "roster": on_roster,  # 0: no roster here, so "unscreened" is not known (the bureau shows it as not reported)
        "zero_report": fevers == 0 and retests["open"] == 0,
    }


def store(log: ScreeningLog, report: dict, now: float | None = None) -> str:
    """Keep the report, with the chains' sealed heads and row counts, and queue it for the upstream in one
    transaction; made at ``now`` (the command's clock; the machine's when None)."""
    rid = str(uuid.uuid4())
    with log.unit("daily report") as u, sealed_write(u.conn, log.key, "daily_reports"):
        # The chains' heads as sealed now, so upstream keeps a trail of them outside the station's file.
        report = {**report, "chains": chain_heads(u.conn),
                  "station_key": log.key.fingerprint if log.key is not None else None}
        u.conn.execute(REPORTS.insert().values(id=rid, station_id=report["station_id"], day=report["day"],
                                               created_at=time.time() if now is None else now,
                                               content=json.dumps(report, ensure_ascii=False, sort_keys=True)))
        u.queue("daily_report", rid)
    return rid


def day_profile(log: ScreeningLog, day: str) -> dict:
    """Counts by hour and each person's final temperature, for the day view."""
    with log.read(f"the screenings of {day}") as conn:
        rows = conn.execute(select(SCREENINGS.c.created_at, SCREENINGS.c.decision, SCREENINGS.c.temperature_c,
                                   SCREENINGS.c.follows).where(SCREENINGS.c.day == day)).all()
    by_hour: dict[int, dict[str, int]] = {}
    temps = []
    for created, decision, temp, follows in rows:
        hour = time.localtime(created).tm_hour
        by_hour.setdefault(hour, {"admit": 0, "deny": 0, "retest": 0})[decision] += 1
        if temp is not None and follows is None:
            temps.append(temp)
    return {"day": day, "by_hour": dict(sorted(by_hour.items())), "temperatures": temps}


def query(log: ScreeningLog, *, date_from: str, date_to: str, decision: str | None = None,
          entrant: str | None = None, offset: int = 0, limit: int = 100) -> tuple[int, list[dict]]:
    """One page of screenings for the auditor screen, newest first, and how many match in all."""
    cond = [SCREENINGS.c.day >= date_from, SCREENINGS.c.day <= date_to]
    if decision:
        cond.append(SCREENINGS.c.decision == decision)
    if entrant:
        cond.append(SCREENINGS.c.entrant_key == id_key(entrant))  # the auditor finds P42 typing p42
    with log.read("screenings") as conn:
        total = conn.execute(select(func.count()).select_from(SCREENINGS).where(*cond)).scalar_one()
        rows = conn.execute(select(SCREENINGS.c.id, SCREENINGS.c.created_at, SCREENINGS.c.entrant_id,
                                   SCREENINGS.c.decision, SCREENINGS.c.temperature_c, SCREENINGS.c.threshold_c,
                                   SCREENINGS.c.source,
                                   SCREENINGS.c.mask_state, SCREENINGS.c.operator, SCREENINGS.c.reasons)
                            .where(*cond).order_by(SCREENINGS.c.seq.desc()).offset(offset).limit(limit)).mappings().all()
    return total, [dict(r) for r in rows]


def edited(log: ScreeningLog, groups: dict) -> list[tuple[int, str, str, str]]:
    """The daily reports of a sync batch (``groups``) that no longer match their MAC (edited in the file: a fever
    turned into a zero report), taken out of ``groups`` for quarantine: they are never sent upstream."""
    items = groups.get("daily_report") or []
    if not items:
        return []
    with log.read("the daily reports to send") as conn:
        ids = [record_id for (_seq, _kind, record_id), _row in items]
        stored = {r["id"]: r for r in conn.execute(select(REPORTS).where(REPORTS.c.id.in_(ids))).mappings()}
        ok = {i for i, r in stored.items() if row_trusted(conn, log.key, "daily_reports", r)}
    groups["daily_report"] = [item for item in items if item[0][2] in ok]
    return [(seq, kind, rid, f"refused here, not sent: the daily report of "
             f"{stored[rid]['day'] if rid in stored else '?'} was changed outside the station (its MAC does not "
             "match); `gate verify` lists what changed") for (seq, kind, rid), _row in items if rid not in ok]
