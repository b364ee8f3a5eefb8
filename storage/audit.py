"""The audit trail: who did what (exports, purges, roster imports, overrides ...), hash-chained and queued for sync."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.log import AUDIT, ScreeningLog
from storage.unit import UnitOfWork

if TYPE_CHECKING:
    from storage.verify_result import VerifyResult


def record(target: ScreeningLog | UnitOfWork, station_id: str, actor: str | None, action: str, detail: dict) -> str:
    """Append one audit event: inside the given unit of work (so it commits with what it records), or in a unit
    of its own when given the log."""
    if isinstance(target, UnitOfWork):
        return target.audit(station_id, actor, action, detail)
    with target.unit(f"audit event {action}") as u:
        return u.audit(station_id, actor, action, detail)


def events(log: ScreeningLog, limit: int = 100) -> list[dict]:
    with log.read("the audit trail") as conn:
        rows = conn.execute(select(AUDIT).order_by(AUDIT.c.seq.desc()).limit(limit)).mappings().all()
    return [{**{k: r[k] for k in ("seq", "id", "station_id", "at", "actor", "action")},
             "detail": json.loads(r["detail"])} for r in rows]


def verify(log: ScreeningLog) -> VerifyResult:
    return log.verify_audit()


def record_config(log: ScreeningLog, station_id: str, path: str, content: bytes, actor: str) -> bool:
    """Note a config file whose content differs from the last one recorded for this path; True if it changed."""
    digest = hashlib.sha256(content).hexdigest()
    with log.unit(f"config change of {path}") as u:  # read and record in one transaction: no change noted twice
        rows = u.conn.execute(select(AUDIT.c.detail).where(AUDIT.c.action == "config-changed")
                              .order_by(AUDIT.c.seq.desc())).scalars()
        last = next((json.loads(d)["sha256"] for d in rows if json.loads(d).get("path") == path), None)
        if last == digest:
            return False
        u.audit(station_id, actor, "config-changed", {"path": path, "sha256": digest, "previous": last})
    return True
