"""Records the station keeps and sends upstream: calibration records and daily reports. One group of the log's tables
(storage.tables); storage.models lists them all.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Index, String, Table, Text

from storage.tables import METADATA

# A calibration record (full or daily check); the whole record is kept as JSON in ``content``.
CALIBRATIONS = Table(
    "calibrations", METADATA,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("sensor", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("due", Float),
    Column("result", String(8), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: HMAC of the row under the station key
    Index("ix_calibrations_sensor_at", "sensor", "at"),
)

DAILY_REPORTS = Table(
    "daily_reports", METADATA,
    Column("id", String(36), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("content", Text, nullable=False),
    Column("mac", String(64)),  # storage.seals: the row's MAC under the station key
)
