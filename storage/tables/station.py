"""The station's own settings kept with the log: its users (PIN hashes, lockouts) and the screening policy in force. One
group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, Table

from storage.tables import METADATA, count, digest, ident, moment, seal_mac, short, text

# Station users. The PIN is stored only as a peppered scrypt hash (gate.pins); failures and lockouts persist.
USERS = Table(
    "users", METADATA,
    ident("name", primary_key=True),
    short("role", 16),
    short("pin_hash", 200),
    count("failures", default=0),
    moment("locked_until", optional=True),
    Column("disabled", Boolean, nullable=False, default=False),
    moment("created_at"),
    text("classes", default=""),  # a teacher's classes, JSON list
    seal_mac(),
)

# The screening policy in force (one row); each change is also an audit event, which `gate verify` compares.
STATION_POLICY = Table(
    "station_policy", METADATA,
    Column("id", Integer, primary_key=True),
    text("content"),  # canonical JSON of gate.station_policy.snapshot
    digest("sha256"),
    ident("applied_by"),
    moment("applied_at"),
    text("source"),
    seal_mac(),
)
