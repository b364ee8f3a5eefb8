"""Messages the bureau's thread workers post to the screen that owns them (only the UI thread renders)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SchoolsLoaded(Message):
    day: str
    rows: list  # storage.bureau.SchoolDay
    trend: dict  # school id -> 7 days
    at: float


@dataclass
class SchoolLoaded(Message):
    detail: object  # storage.bureau.SchoolDetail, or None when the school is not there
    at: float  # when it was read, by the app's clock


@dataclass
class SchoolFailed(Message):
    why: str  # one line: what the database said
    at: float  # when the read failed, by the app's clock


@dataclass
class SchoolsFailed(Message):
    day: str
    why: str  # one line: what the database said
    at: float  # when the refresh failed, by the app's clock
    unseen: bool = False  # the role is listed for no school (storage.bureau_access.NoSchoolSeen): no figure stands
