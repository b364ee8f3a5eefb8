"""The sync's own state: each upstream's checkpoint and the records it refused. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from storage.tables import METADATA

SYNC_STATE = Table(
    "sync_state", METADATA,
    Column("upstream", String(64), primary_key=True),  # a hash of the URL without password
    Column("identity", String(36)),  # the upstream database's own id: whose checkpoint
    Column("last_seq", Integer, nullable=False, default=0),
    Column("last_success", Float),
    Column("last_error", Text),
    Column("last_error_at", Float),
)

# Records the upstream refused, with its reason; the rest of the outbox goes on.
QUARANTINE = Table(
    "quarantine", METADATA,
    Column("outbox_seq", Integer, primary_key=True),
    Column("upstream", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("error", Text, nullable=False),
    Column("at", Float, nullable=False),
)
