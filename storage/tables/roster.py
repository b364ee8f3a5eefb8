"""Who may come in: the school's roster and the visitors approved for a day. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Table

from storage.tables import METADATA, calendar_day, full_name, ident, moment, seal_mac, short, text

ENTRANTS = Table(
    "entrants", METADATA,
    ident("roster_id", primary_key=True),
    full_name("name"),
    short("group", 64, default=""),
    short("kind", 16, default="pupil"),
    seal_mac(),
)

VISITORS = Table(
    "visitors", METADATA,
    ident("visitor_id", primary_key=True),
    full_name("name"),
    short("phone", 32),
    text("reason"),
    full_name("host"),
    calendar_day("day", optional=True),
    ident("approved_by"),
    moment("at"),
)
