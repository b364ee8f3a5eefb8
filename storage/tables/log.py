"""The chained log itself: screenings, the audit trail, the outbox that queues both for the upstream, the purge anchors
and the seals (storage.seals). Every command that writes to the log uses these. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table

from storage.tables import (METADATA, calendar_day, celsius, chain_keys, chain_links, count, digest, ident, moment,
                            short, text, uuid)

SCREENINGS = Table(
    "screenings", METADATA,
    *chain_keys(),
    ident("station_id"),
    moment("created_at"),
    calendar_day("day"),  # local calendar day, for daily reports
    ident("entrant_id", optional=True),
    ident("operator", optional=True),
    uuid("follows", optional=True),
    short("decision", 8),
    text("reasons"),  # JSON list
    text("message"),
    celsius("threshold_c"),
    celsius("temperature_c", optional=True),
    text("mask"),  # JSON object
    text("readings"),  # JSON list
    *chain_links(),
    # Derived from readings / mask for fast exports and reports; not hashed, but verify checks they agree.
    short("source", 64, optional=True),
    short("mask_state", 8, optional=True),
    short("session", 64, optional=True),  # the check of the day (hashed when set)
    # The entrant id with case and compatibility forms folded (domain.identifiers.id_key): P42, p42 and Ｐ４２ are one
    # person for the fever memory. Derived like source: not hashed; verify checks it agrees with entrant_id.
    ident("entrant_key", optional=True),
    Index("ix_screenings_day", "day"),
    Index("ix_screenings_entrant", "entrant_id"),
    Index("ix_screenings_day_session", "day", "session"),
    Index("ix_screenings_entrant_key", "entrant_key"),
)

# Records waiting to go upstream; written in the same transaction as the record itself.
OUTBOX = Table(
    "outbox", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    short("kind", 32),
    uuid("record_id"),
    moment("created_at"),
)

# Who did what (exports, purges, roster changes, overrides ...), hash-chained like screenings.
AUDIT_EVENTS = Table(
    "audit_events", METADATA,
    *chain_keys(),
    ident("station_id"),
    moment("at"),
    ident("actor"),
    short("action", 64),
    text("detail"),
    *chain_links(),
)

# After a purge: the last purged row of a chain, so the rows that remain still verify.
CHAIN_ANCHORS = Table(
    "chain_anchors", METADATA,
    short("chain", 32, primary_key=True),
    Column("last_purged_seq", Integer, nullable=False),
    digest("last_purged_hash"),
    moment("at"),
)

# A MAC'd summary under the station key: a chain's row count and head, a sealed table's rows and digest, and the
# fingerprint of the log's station key (``station-key``). See storage.seals.
SEALS = Table(
    "seals", METADATA,
    short("name", 64, primary_key=True),
    count("rows"),
    digest("digest"),
    digest("mac"),
)
