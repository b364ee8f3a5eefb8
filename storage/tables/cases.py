"""A person's health record at this gate: clearances of confirmed fevers, follow-up cases and the sessions whose
absences were closed out. One group of the log's tables (storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Index, Table

from storage.tables import METADATA, calendar_day, chain_keys, chain_links, count, ident, moment, short, text, uuid

# A clearance of one confirmed fever (doctor's note seen by the health officer), hash-chained like the audit.
CLEARANCES = Table(
    "clearances", METADATA,
    *chain_keys(),
    ident("station_id"),
    ident("entrant_id"),
    uuid("fever_screening_id"),
    moment("fever_at"),
    text("note"),
    ident("cleared_by"),
    short("role", 16),
    moment("at"),
    *chain_links(),
    Index("ix_clearances_entrant", "entrant_id"),
)

# A follow-up case event (因病缺勤追踪): a case is opened by one row and closed by a later one; hash-chained.
CASES = Table(
    "cases", METADATA,
    *chain_keys(),
    uuid("case_id"),  # the opening row's id
    short("event", 8),  # open | close
    ident("station_id"),
    ident("entrant_id"),
    short("class_name", 64),
    calendar_day("day"),
    short("session", 64, optional=True),
    short("reason", 16),  # absent | fever | no-mask | retest-open
    uuid("screening_id", optional=True),
    short("outcome", 16, optional=True),
    text("symptoms", default="[]"),  # JSON list
    calendar_day("onset", optional=True),
    text("note", default=""),
    ident("by"),
    short("role", 16, default=""),
    moment("at"),
    *chain_links(),
    Index("ix_cases_case", "case_id"),
    Index("ix_cases_entrant", "entrant_id"),
)

# A session of one day whose cases were opened (so that a session is closed out once).
SESSION_CLOSURES = Table(
    "session_closures", METADATA,
    calendar_day("day", primary_key=True),
    short("session", 64, primary_key=True),
    moment("at"),
    count("cases"),
)
