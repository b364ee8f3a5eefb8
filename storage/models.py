"""Every table of the local log, in one place. Schema changes go through Alembic revisions in storage/migrations.

The tables themselves live in storage.tables, one module per group, so that a command builds only the groups it
uses (`gate screen` builds neither the roster's nor the sync's tables). Importing this module imports every group:
the METADATA here is complete, as Alembic's environment and tests/unit/storage/test_schema.py need. Code that runs
on a command's path imports its tables from their group (``from storage.tables.log import SCREENINGS``). A new
table is a ``Table(...)`` in its group plus a migration; the schema test checks that the two agree.
"""
from __future__ import annotations

from storage.tables import METADATA
from storage.tables.cases import CASES, CLEARANCES, SESSION_CLOSURES
from storage.tables.log import AUDIT_EVENTS, CHAIN_ANCHORS, OUTBOX, SCREENINGS, SEALS
from storage.tables.records import CALIBRATIONS, DAILY_REPORTS
from storage.tables.roster import ENTRANTS, VISITORS
from storage.tables.school import SCHOOL_CASES, SCHOOL_RECORDS
from storage.tables.station import STATION_POLICY, USERS
from storage.tables.sync import QUARANTINE, SYNC_STATE

__all__ = ["METADATA", "AUDIT_EVENTS", "CALIBRATIONS", "CASES", "CHAIN_ANCHORS", "CLEARANCES", "DAILY_REPORTS",
           "ENTRANTS", "OUTBOX", "QUARANTINE", "SCHOOL_CASES", "SCHOOL_RECORDS", "SCREENINGS", "SEALS",
           "SESSION_CLOSURES", "STATION_POLICY", "SYNC_STATE", "USERS", "VISITORS"]
