"""A person's health record at this gate: clearances of confirmed fevers, follow-up cases and the sessions whose
absences were closed out. One group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from storage.tables import METADATA

# A clearance of one confirmed fever (doctor's note seen by the health officer), hash-chained like the audit.
CLEARANCES = Table(
    "clearances", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("fever_screening_id", String(36), nullable=False),
    Column("fever_at", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("cleared_by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_clearances_entrant", "entrant_id"),
)

# A follow-up case event (因病缺勤追踪): a case is opened by one row and closed by a later one; hash-chained.
CASES = Table(
    "cases", METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), unique=True, nullable=False),
    Column("case_id", String(36), nullable=False),  # the opening row's id
    Column("event", String(8), nullable=False),  # open | close
    Column("station_id", String(64), nullable=False),
    Column("entrant_id", String(64), nullable=False),
    Column("class_name", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("session", String(64)),
    Column("reason", String(16), nullable=False),  # absent | fever | no-mask | retest-open
    Column("screening_id", String(36)),
    Column("outcome", String(16)),
    Column("symptoms", Text, nullable=False, default="[]"),  # JSON list
    Column("onset", String(10)),
    Column("note", Text, nullable=False, default=""),
    Column("by", String(64), nullable=False),
    Column("role", String(16), nullable=False, default=""),
    Column("at", Float, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_cases_case", "case_id"),
    Index("ix_cases_entrant", "entrant_id"),
)

# A session of one day whose cases were opened (so that a session is closed out once).
SESSION_CLOSURES = Table(
    "session_closures", METADATA,
    Column("day", String(10), primary_key=True),
    Column("session", String(64), primary_key=True),
    Column("at", Float, nullable=False),
    Column("cases", Integer, nullable=False),
)
