"""The station's own settings kept with the log: its users (PIN hashes, lockouts) and the screening policy in force. One
group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from storage.tables import METADATA

# Station users. The PIN is stored only as a peppered scrypt hash (gate.pins); failures and lockouts persist.
USERS = Table(
    "users", METADATA,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", Float),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("classes", Text, nullable=False, default=""),  # a teacher's classes, JSON list
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)

# The screening policy in force (one row); each change is also an audit event, which `gate verify` compares.
STATION_POLICY = Table(
    "station_policy", METADATA,
    Column("id", Integer, primary_key=True),
    Column("content", Text, nullable=False),  # canonical JSON of gate.station_policy.snapshot
    Column("sha256", String(64), nullable=False),
    Column("applied_by", String(64), nullable=False),
    Column("applied_at", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)
