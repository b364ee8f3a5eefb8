"""What the school's OTHER gates recorded, pulled from the upstream by the sync: their fevers, certificates, clearances
and holds, and their case events. One group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table

from storage.tables import METADATA, chain_keys, chain_links, ident, moment, short, text, uuid

# The school's fevers, certificate cases and clearances that OTHER gates recorded, pulled from the upstream by the
# sync (storage.school_records): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_RECORDS = Table(
    "school_records", METADATA,
    *chain_keys(160),  # id: "<origin station>/<kind>/<origin seq>": pulled once
    ident("origin"),  # the station id of the gate that recorded it
    Column("origin_seq", Integer, nullable=False),
    short("kind", 16),  # fever | certificate | clearance | held | lifted (storage.held)
    ident("entrant_id", index=True),
    moment("at"),
    text("content"),  # the record as the upstream holds it (JSON)
    moment("pulled_at"),
    *chain_links(),
)

# The follow-up case events (opens and closes) that the school's OTHER gates recorded, pulled from the upstream by
# the sync (storage.pulled_cases, storage.school_cases): one hash chain, keyed and sealed like the log's own chains.
SCHOOL_CASES = Table(
    "school_cases", METADATA,
    *chain_keys(160),  # id: "<origin station>/<origin seq>": pulled once
    ident("origin"),  # the station id of the gate that recorded the event
    Column("origin_seq", Integer, nullable=False),
    uuid("case_id"),
    ident("entrant_id"),
    moment("at"),
    text("content"),  # the event as the upstream holds it (JSON)
    moment("pulled_at"),
    *chain_links(),
    Index("ix_school_cases_case_id", "case_id"),
)
