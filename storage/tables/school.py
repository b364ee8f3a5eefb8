"""What the school's OTHER gates recorded, pulled from the upstream by the sync: their fevers, certificates, clearances
and holds, and their case events. One group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from storage.tables import METADATA

# The school's fevers, certificate cases and clearances that OTHER gates recorded, pulled from the upstream by the
# sync (storage.school_records): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_RECORDS = Table(
    "school_records", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(160), unique=True, nullable=False),  # "<origin station>/<kind>/<origin seq>": pulled once
    Column("origin", String(64), nullable=False),  # the station id of the gate that recorded it
    Column("origin_seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # fever | certificate | clearance | held | lifted (storage.held)
    Column("entrant_id", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("content", Text, nullable=False),  # the record as the upstream holds it (JSON)
    Column("pulled_at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# The follow-up case events (opens and closes) that the school's OTHER gates recorded, pulled from the upstream by
# the sync (storage.pulled_cases, storage.school_cases): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_CASES = Table(
    "school_cases", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(160), unique=True, nullable=False),  # "<origin station>/<origin seq>": pulled once
    Column("origin", String(64), nullable=False),  # the station id of the gate that recorded the event
    Column("origin_seq", Integer, nullable=False),
    Column("case_id", String(36), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("content", Text, nullable=False),  # the event as the upstream holds it (JSON)
    Column("pulled_at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_school_cases_case_id", "case_id"),
)
