"""Messages that thread workers post to the screen that owns them. Small dataclasses; only the UI thread renders."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from domain import CalibrationRecord, Screening
from drivers.samples import HealthEvent
from gate.user import User
from gate.log_failure import LogFailure


@dataclass
class ScreeningDecided(Message):
    """A screening was committed to the log; only now may it be shown."""

    screening: Screening


@dataclass
class SensorHealthChanged(Message):
    event: HealthEvent


@dataclass
class LogFailed(Message):
    """A decision could not be stored: the duty screen shows LOG FAILURE and nobody is admitted on it."""

    failure: LogFailure


@dataclass
class CountsLoaded(Message):
    counts: dict


@dataclass
class SessionLoaded(Message):
    """The check of the day now on, and how many of the roster it has seen."""

    state: object  # gate.school_day.SessionState


@dataclass
class CasesListed(Message):
    """Open follow-up cases for the follow-up screen, with the names of the people and whose list it is (the
    school's, or this gate's only)."""

    cases: list
    names: dict
    scope: str = ""


@dataclass
class CasesState(Message):
    """For the duty screen's status bar: open cases, and the cluster alerts raised."""

    open_count: int
    alerts: list


@dataclass
class UsersChecked(Message):
    """Whether the station has users (then sensitive actions need a PIN)."""

    exist: bool


@dataclass
class Notice(Message):
    """One line for the staff: something finished (ok) or was refused."""

    text: str
    ok: bool


@dataclass
class SignedIn(Message):
    user: User


@dataclass
class SignInFailed(Message):
    error: str


@dataclass
class PinIsCardNumber(Message):
    """The PIN typed (at a person's pace) is a card number the station knows: it is never checked, never shown and
    never given to anyone as their id; the user must ask an admin for another PIN. Nothing counts towards a lockout."""


@dataclass
class UserNames(Message):
    """The station's user names, so the sign-in can tell a pupil's card scanned into it from a user name."""

    names: frozenset


@dataclass
class SamplesWaiting(Message):
    """Raw samples wait in the maintenance screen's inbox (one message for however many arrived meanwhile)."""


@dataclass
class CalibrationState(Message):
    """The sensor's calibration warning or lockout, for the status bar ("" when all is well)."""

    text: str
    usable: bool


@dataclass
class SyncState(Message):
    text: str


@dataclass
class CalibrationHistory(Message):
    records: list[CalibrationRecord]
    status_text: str


@dataclass
class WizardSays(Message):
    """A line for the wizard's instruction (a calibration that could not be made says why)."""

    text: str


@dataclass
class CalibrationSaved(Message):
    record: CalibrationRecord


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
