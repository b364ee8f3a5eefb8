"""The audit trail: who did what (exports, purges, roster imports, overrides ...), hash-chained and queued for sync."""
from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import select

from storage import chain
from storage.log import LogError, ScreeningLog, VerifyResult, _why
from storage.models import AuditEventRow, ChainAnchorRow, OutboxRow

AUDIT = AuditEventRow.__table__
ANCHORS = ChainAnchorRow.__table__
OUTBOX = OutboxRow.__table__
HASHED = ("id", "station_id", "at", "actor", "action", "detail")


def _content(row) -> dict:
    return {k: (json.loads(row[k]) if k == "detail" else row[k]) for k in HASHED}


def record(log: ScreeningLog, station_id: str, actor: str, action: str, detail: dict, conn=None) -> str:
    """Append one audit event (inside ``conn``'s transaction when given, so it commits with what it records)."""
    values = {"id": str(uuid.uuid4()), "station_id": station_id, "at": round(time.time(), 6), "actor": actor or "?",
              "action": action, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)}

    def write(c) -> None:
        prev = (c.execute(select(AUDIT.c.row_hash).order_by(AUDIT.c.seq.desc()).limit(1)).scalar()
                or c.execute(select(ANCHORS.c.last_purged_hash).where(ANCHORS.c.chain == "audit")).scalar()
                or chain.GENESIS)
        values["prev_hash"] = prev
        values["row_hash"] = chain.link(prev, _content(values))
        c.execute(AUDIT.insert().values(**values))
        c.execute(OUTBOX.insert().values(kind="audit", record_id=values["id"], created_at=time.time()))

    try:
        if conn is not None:
            write(conn)
        else:
            with log.engine.begin() as c:
                write(c)
    except Exception as exc:  # noqa: BLE001 - any storage failure is a LogError for the caller
        raise LogError(f"audit event {action} not saved: {_why(exc)}") from exc
    return values["id"]


def events(log: ScreeningLog, limit: int = 100) -> list[dict]:
    with log.engine.connect() as conn:
        rows = conn.execute(select(AUDIT).order_by(AUDIT.c.seq.desc()).limit(limit)).mappings().all()
    return [{**{k: r[k] for k in ("seq", "id", "station_id", "at", "actor", "action")},
             "detail": json.loads(r["detail"])} for r in rows]


def verify(log: ScreeningLog) -> VerifyResult:
    prev, n = chain.GENESIS, 0
    with log.engine.connect() as conn:
        anchor = conn.execute(select(ANCHORS.c.last_purged_hash).where(ANCHORS.c.chain == "audit")).scalar()
        prev = anchor or prev
        for row in conn.execute(select(AUDIT).order_by(AUDIT.c.seq)).mappings():
            n += 1
            if row["prev_hash"] != prev or chain.link(prev, _content(row)) != row["row_hash"]:
                return VerifyResult(False, n, prev, row["seq"], row["id"], "audit event changed, removed or reordered")
            prev = row["row_hash"]
    return VerifyResult(True, n, prev)



def record_config(log: ScreeningLog, station_id: str, path: str, content: bytes, actor: str) -> bool:
    """Note a config file whose content differs from the last one recorded for this path; True if it changed."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    with log.engine.connect() as conn:
        rows = conn.execute(select(AUDIT.c.detail).where(AUDIT.c.action == "config-changed")
                            .order_by(AUDIT.c.seq.desc())).scalars()
        last = next((json.loads(d)["sha256"] for d in rows if json.loads(d).get("path") == path), None)
    if last == digest:
        return False
    record(log, station_id, actor, "config-changed", {"path": path, "sha256": digest, "previous": last})
    return True
