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

from sqlalchemy import select

from storage.log import SCREENINGS, LogError, ScreeningLog, _why
from storage.models import DailyReportRow, OutboxRow
from storage.roster import roster_size, unscreened

REPORTS = DailyReportRow.__table__
OUTBOX = OutboxRow.__table__
SENSOR_REASONS = {"sensor-fault", "sensor-offline", "sensor-warming", "sensor-degraded", "calibration-overdue"}


def daily(log: ScreeningLog, day: str, station_id: str) -> dict:
    with log.engine.connect() as conn:
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
        if last["decision"] == "deny":
            for code in reasons & {"fever-confirmed", "no-mask", "visitor-not-approved"} or {"other"}:
                denied_by[code] += 1
        if any("fever-suspected" in json.loads(r["reasons"]) for r in chain_rows):
            retests["admitted" if last["decision"] == "admit" else
                    "denied" if last["decision"] == "deny" else "open"] += 1
        fevers += "fever-confirmed" in reasons
        no_mask += "no-mask" in reasons
        manual += any(rd.get("source") == "manual" for r in chain_rows for rd in json.loads(r["readings"]))
        sensor_faults += any(SENSOR_REASONS & set(json.loads(r["reasons"])) for r in chain_rows)
    missing = unscreened(log, day) if roster_size(log) else []
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
        "unscreened": len(missing),
        "unscreened_ids": [e.roster_id for e in missing],
        "zero_report": fevers == 0 and retests["open"] == 0,
    }


def store(log: ScreeningLog, report: dict) -> str:
    """Keep the report and queue it for the upstream in one transaction."""
    rid = str(uuid.uuid4())
    try:
        with log.engine.begin() as conn:
            conn.execute(REPORTS.insert().values(id=rid, station_id=report["station_id"], day=report["day"],
                                                 created_at=time.time(),
                                                 content=json.dumps(report, ensure_ascii=False, sort_keys=True)))
            conn.execute(OUTBOX.insert().values(kind="daily_report", record_id=rid, created_at=time.time()))
    except Exception as exc:  # noqa: BLE001
        raise LogError(f"daily report not saved: {_why(exc)}") from exc
    return rid


def day_profile(log: ScreeningLog, day: str) -> dict:
    """Counts by hour and each person's final temperature, for the day view."""
    with log.engine.connect() as conn:
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
    from sqlalchemy import func

    cond = [SCREENINGS.c.day >= date_from, SCREENINGS.c.day <= date_to]
    if decision:
        cond.append(SCREENINGS.c.decision == decision)
    if entrant:
        cond.append(SCREENINGS.c.entrant_id == entrant)
    with log.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(SCREENINGS).where(*cond)).scalar_one()
        rows = conn.execute(select(SCREENINGS.c.id, SCREENINGS.c.created_at, SCREENINGS.c.entrant_id,
                                   SCREENINGS.c.decision, SCREENINGS.c.temperature_c, SCREENINGS.c.source,
                                   SCREENINGS.c.mask_state, SCREENINGS.c.operator, SCREENINGS.c.reasons)
                            .where(*cond).order_by(SCREENINGS.c.seq.desc()).offset(offset).limit(limit)).mappings().all()
    return total, [dict(r) for r in rows]
