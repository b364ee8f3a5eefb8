"""The unit of work: one write transaction. What is written inside it commits together or not at all.

A screening, its audit events and their outbox entries; a roster import and its audit event; a calibration record,
its outbox entry and the lock or unlock it causes. Nothing else in the station writes to the log.
"""
from __future__ import annotations

import time
import uuid

from sqlalchemy import Connection

from domain import Screening
from storage.chain import Chain
from storage.records import audit_content, audit_values, screening_columns

_INSERT_OUTBOX = "INSERT INTO outbox (kind, record_id, created_at) VALUES (?, ?, ?)"


class UnitOfWork:
    """Writes inside one IMMEDIATE transaction of the log (``ScreeningLog.unit()`` opens it).

    ``conn`` is the transaction's connection, for the caller's own statements (users, roster, sync state).
    """

    def __init__(self, conn: Connection, screenings: Chain, audit: Chain):
        self.conn = conn
        self._screenings = screenings
        self._audit = audit

    def queue(self, kind: str, record_id: str) -> None:
        """Queue a record for the upstream, in the transaction that writes the record."""
        self.conn.exec_driver_sql(_INSERT_OUTBOX, (kind, record_id, time.time()))

    def screening(self, s: Screening) -> Screening:
        """Store ``s`` at the head of the screening chain and queue it for sync."""
        values, content = screening_columns(s)
        self._screenings.append(self.conn, values, content)
        self.queue("screening", s.id)
        return s

    def audit(self, station_id: str, actor: str | None, action: str, detail: dict) -> str:
        """Append one event to the audit chain and queue it for sync; returns its id."""
        values = audit_values(station_id, actor, action, detail, event_id=str(uuid.uuid4()), at=time.time())
        self._audit.append(self.conn, values, audit_content(values))
        self.queue("audit", values["id"])
        return values["id"]
