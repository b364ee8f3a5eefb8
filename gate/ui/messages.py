"""Messages that thread workers post to the UI. Small dataclasses; the UI thread is the only one that renders."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from drivers.base import HealthEvent, Sample
from gate.auth import User
from domain import Screening
from gate.station import LogFailure


@dataclass
class ScreeningDecided(Message):
    """A screening was committed to the log; only now may it be shown."""

    screening: Screening


@dataclass
class SensorHealthChanged(Message):
    event: HealthEvent


@dataclass
class LogFailed(Message):
    failure: LogFailure


@dataclass
class CountsLoaded(Message):
    counts: dict


@dataclass
class ActionFailed(Message):
    """A staff action (manual entry, mask confirmation) could not be stored."""

    error: str


@dataclass
class SignedIn(Message):
    user: User
    action: str


@dataclass
class SignInFailed(Message):
    error: str
    action: str


@dataclass
class UsersChecked(Message):
    """Whether the station has users (then sensitive actions need a PIN)."""

    exist: bool


@dataclass
class SampleSeen(Message):
    """A raw sample from the sensor (for the maintenance screen's live view and calibration)."""

    sample: Sample


@dataclass
class CalibrationSaved(Message):
    record: object  # gate.calibration.CalibrationRecord


@dataclass
class CalibrationState(Message):
    """The sensor's calibration warning or lockout, for the status bar ("" when all is well)."""

    text: str
    usable: bool


@dataclass
class CalibrationHistory(Message):
    records: list
    status_text: str


@dataclass
class DayLoaded(Message):
    report: dict
    profile: dict


@dataclass
class PageLoaded(Message):
    total: int
    rows: list


@dataclass
class ExportProgress(Message):
    done: int
    total: int


@dataclass
class AuditorResult(Message):
    """The outcome of an export or a log verification, as one line for the auditor."""

    text: str
    ok: bool


@dataclass
class SyncState(Message):
    text: str
