"""The chained log itself: screenings, the audit trail, the outbox that queues both for the upstream, the purge anchors
and the seals (storage.seals). Every command that writes to the log uses these. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from storage.tables import METADATA

SCREENINGS = Table(
    "screenings", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("day", String(10), nullable=False),  # local calendar day, for daily reports
    Column("entrant_id", String(64)),
    Column("operator", String(64)),
    Column("follows", String(36)),
    Column("decision", String(8), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("message", Text, nullable=False),
    Column("threshold_c", Float, nullable=False),
    Column("temperature_c", Float),
    Column("mask", Text, nullable=False),  # JSON object
    Column("readings", Text, nullable=False),  # JSON list
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    # Derived from readings / mask for fast exports and reports; not hashed, but verify checks they agree.
    Column("source", String(64)),
    Column("mask_state", String(8)),
    Column("session", String(64)),  # the check of the day (hashed when set)
    # The entrant id with case and compatibility forms folded (domain.identifiers.id_key): P42, p42 and Ｐ４２ are one
    # person for the fever memory. Derived like source: not hashed; verify checks it agrees with entrant_id.
    Column("entrant_key", String(64)),
    Index("ix_screenings_day", "day"),
    Index("ix_screenings_entrant", "entrant_id"),
    Index("ix_screenings_day_session", "day", "session"),
    Index("ix_screenings_entrant_key", "entrant_key"),
)

# Records waiting to go upstream; written in the same transaction as the record itself.
OUTBOX = Table(
    "outbox", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Who did what (exports, purges, roster changes, overrides ...), hash-chained like screenings.
AUDIT_EVENTS = Table(
    "audit_events", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# After a purge: the last purged row of a chain, so the rows that remain still verify.
CHAIN_ANCHORS = Table(
    "chain_anchors", METADATA,
    Column("chain", String(32), primary_key=True),
    Column("last_purged_seq", Integer, nullable=False),
    Column("last_purged_hash", String(64), nullable=False),
    Column("at", Float, nullable=False),
)

# A MAC'd summary under the station key: a chain's row count and head, a sealed table's rows and digest, and the
# fingerprint of the log's station key (``station-key``). See storage.seals.
SEALS = Table(
    "seals", METADATA,
    Column("name", String(64), primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
)
