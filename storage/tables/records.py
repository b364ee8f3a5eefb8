"""Records the station keeps and sends upstream: calibration records and daily reports. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Index, Table

from storage.tables import METADATA, calendar_day, full_name, ident, moment, seal_mac, short, text, uuid

# A calibration record (full or daily check); the whole record is kept as JSON in ``content``.
CALIBRATIONS = Table(
    "calibrations", METADATA,
    uuid("id", primary_key=True),
    ident("station_id"),
    full_name("sensor"),
    short("kind", 16),
    moment("at"),
    moment("due", optional=True),
    short("result", 8),
    ident("operator"),
    text("content"),
    seal_mac(),
    Index("ix_calibrations_sensor_at", "sensor", "at"),
)

DAILY_REPORTS = Table(
    "daily_reports", METADATA,
    uuid("id", primary_key=True),
    ident("station_id"),
    calendar_day("day"),
    moment("created_at"),
    text("content"),
    seal_mac(),
)
