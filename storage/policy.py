"""The screening policy stored with the log: the current one in `station_policy`, each change in the audit trail.

`gate verify` compares the stored policy with the last `policy-applied` audit event, so a policy edited in the file
by hand (the audit chain cannot be edited without detection) is reported.
"""
from __future__ import annotations

import hashlib
import json
import time

from sqlalchemy import select

from storage.audit import AUDIT
from storage.log import ScreeningLog
from storage.tables.station import STATION_POLICY as POLICY, USERS
from storage.seals import sealed_write

ACTION = "policy-applied"


def _canonical(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(content: dict) -> str:
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


def _current(conn) -> dict | None:
    row = conn.execute(select(POLICY.c.content).where(POLICY.c.id == 1)).scalar()
    return None if row is None else json.loads(row)


def current(log: ScreeningLog) -> dict | None:
    """The stored policy, or None for a log that has none yet."""
    with log.read("the stored screening policy") as conn:
        return _current(conn)


def pins_on(log: ScreeningLog) -> bool:
    """Whether the station has users (PINs on): then only an admin stores the first policy."""
    with log.read("the users") as conn:
        return conn.execute(select(USERS.c.name).limit(1)).first() is not None


def store(log: ScreeningLog, station_id: str, content: dict, actor: str, source: str,
          previous: dict | None) -> None:
    """Store ``content`` as the policy with its audit event (from -> to) in one transaction."""
    values = {"content": _canonical(content), "sha256": digest(content), "applied_by": actor,
              "applied_at": time.time(), "source": source}
    changed = {k: {"from": (previous or {}).get(k), "to": v} for k, v in content.items()
               if (previous or {}).get(k) != v}
    with log.unit("the screening policy") as u, sealed_write(u.conn, log.key, "station_policy", replaces_all=True):
        if u.conn.execute(select(POLICY.c.id).where(POLICY.c.id == 1)).scalar() is None:
            u.conn.execute(POLICY.delete())  # a row slipped in by hand beside the policy goes with the repair
            u.conn.execute(POLICY.insert().values(id=1, **values))
        else:
            u.conn.execute(POLICY.update().where(POLICY.c.id == 1).values(**values, mac=None))
        u.audit(station_id, actor, ACTION,
                {"source": source, "sha256": digest(content), "policy": content, "changed": changed})


def check(log: ScreeningLog) -> str | None:
    """None when the stored policy is the one the audit trail last recorded, else what is wrong."""
    with log.read("the stored screening policy") as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'station_policy'").first():
            return None  # a log from before policies were stored, opened read-only: nothing to compare yet
        return _problem(conn, _current(conn))


def checked(log: ScreeningLog) -> tuple[str | None, dict | None]:
    """``check`` and ``current`` in one read transaction (one snapshot: the station's start and each screening
    command read the policy once). A log without the policy's table fails as ``current`` does."""
    with log.read("the stored screening policy") as conn:
        stored = _current(conn)
        return _problem(conn, stored), stored


def _problem(conn, stored: dict | None) -> str | None:
    detail = conn.execute(select(AUDIT.c.detail).where(AUDIT.c.action == ACTION)
                          .order_by(AUDIT.c.seq.desc()).limit(1)).scalar()
    last = None if detail is None else json.loads(detail)
    if stored is None:
        return None if last is None else "the stored screening policy was removed (the audit trail records one)"
    if last is None:
        return "the stored screening policy has no audit event: it was written outside the station"
    if last.get("sha256") != digest(stored):
        return "the stored screening policy differs from the last one applied (edited outside the station)"
    return None
