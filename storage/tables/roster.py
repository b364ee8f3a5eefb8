"""Who may come in: the school's roster and the visitors approved for a day. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, String, Table, Text

from storage.tables import METADATA

ENTRANTS = Table(
    "entrants", METADATA,
    Column("roster_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("group", String(64), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="pupil"),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
)

VISITORS = Table(
    "visitors", METADATA,
    Column("visitor_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("host", String(128), nullable=False),
    Column("day", String(10)),
    Column("approved_by", String(64), nullable=False),
    Column("at", Float, nullable=False),
)
