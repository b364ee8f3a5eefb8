"""Follow-up cases (因病缺勤追踪): every pupil not seen in a check, every confirmed fever, every no-mask refusal and every
retest left open is followed up by the class teacher (or the school doctor) until it has an outcome.

A case is opened by the station and closed by a person; both are events in one hash chain, so a case is never
changed, only answered.
"""
from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass


class CaseReason(enum.StrEnum):
    """Why a case was opened."""

    ABSENT = "absent"  # a pupil not seen when a session closed
    FEVER = "fever"  # a confirmed fever at the gate
    NO_MASK = "no-mask"  # refused for no mask
    RETEST_OPEN = "retest-open"  # a retest still open when the session closed


class Outcome(enum.StrEnum):
    """How a case ends (结案)."""

    SICK_LEAVE = "sick-leave"  # 病假
    PERSONAL_LEAVE = "personal-leave"  # 事假
    LATE_ARRIVAL = "late-arrival"  # 迟到
    SEEN_AT_CLINIC = "seen-at-clinic"  # 校医室
    SENT_HOME = "sent-home"  # 送回家
    FALSE_ALARM = "false-alarm"  # 误报
    SEEN_AT_GATE = "seen-at-gate"  # 他门已检: the station's own close, the pupil was seen at another gate of the school


# What a teacher or the school doctor may give (the station alone closes a case as seen at another gate).
PEOPLE_OUTCOMES = tuple(o for o in Outcome if o is not Outcome.SEEN_AT_GATE)


# Symptoms the school rules name (fever, cough, sore throat, rash, vomiting, diarrhoea, jaundice ...).
SYMPTOMS = ("fever", "cough", "sore-throat", "rash", "vomiting", "diarrhoea", "jaundice", "headache",
            "conjunctivitis", "breathing", "other")
NEEDS_CERTIFICATE = frozenset({Outcome.SENT_HOME, Outcome.SICK_LEAVE})  # with a fever: 复课证明 before return
NOTE_MAX = 500


def symptoms_from(text: str) -> tuple[str, ...]:
    """"fever, cough" -> ("cough", "fever"); ValueError naming the unknown ones and the known ones."""
    parts = [p.strip().lower() for p in text.replace("，", ",").split(",") if p.strip()]
    unknown = [p for p in parts if p not in SYMPTOMS]
    if unknown:
        shown = ", ".join(p if p.isprintable() and len(p) <= 20 else "?" for p in unknown)
        raise ValueError(f"unknown symptom(s) {shown}: use {', '.join(SYMPTOMS)}")
    return tuple(sorted(set(parts)))


ONSET_BEFORE_CASE_DAYS = 14  # an illness behind an absence began at most two weeks before it


def onset_from(text: str, today: datetime.date | None = None, case_day: str | None = None) -> str:
    """The onset day as YYYY-MM-DD; with ``today``, a day after it is refused (an illness cannot begin tomorrow, and
    a future onset would move the pupil's symptoms out of today's cluster); with ``case_day``, a day more than
    ONSET_BEFORE_CASE_DAYS before the case is refused too (a mistyped month would move them out just the same)."""
    try:
        if len(text) != 10:
            raise ValueError
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"onset {text[:20]!r} is not a date: use YYYY-MM-DD") from None
    if today is not None and day > today:
        raise ValueError(f"onset {day.isoformat()} is after today ({today.isoformat()}): give the day the illness "
                         "began, today or before")
    if case_day is not None and (datetime.date.fromisoformat(case_day) - day).days > ONSET_BEFORE_CASE_DAYS:
        raise ValueError(f"onset {day.isoformat()} is {(datetime.date.fromisoformat(case_day) - day).days} days "
                         f"before the case ({case_day}): give the day this illness began, at most "
                         f"{ONSET_BEFORE_CASE_DAYS} days before the case")
    return day.isoformat()


@dataclass(frozen=True)
class Close:
    """A later close of a case already closed at another gate of the school (both gates closed it before either
    heard of the other): kept as a note, since the first close by time counts."""

    outcome: Outcome
    symptoms: tuple[str, ...]
    onset: str | None
    note: str
    by: str
    at: float
    gate: str

    @property
    def needs_certificate(self) -> bool:
        return self.outcome in NEEDS_CERTIFICATE and "fever" in self.symptoms


@dataclass(frozen=True)
class Case:
    """One follow-up case as it stands: opened, and closed when ``outcome`` is set."""

    case_id: str
    entrant_id: str
    class_name: str
    day: str
    session: str | None
    reason: CaseReason
    screening_id: str | None
    opened_at: float
    outcome: Outcome | None = None
    symptoms: tuple[str, ...] = ()
    onset: str | None = None
    note: str = ""
    closed_by: str | None = None
    closed_at: float | None = None
    gate: str = ""  # the station (gate) that opened it
    closed_at_gate: str | None = None  # the station where the close that counts was recorded
    other_closes: tuple[Close, ...] = ()  # later closes from other gates, kept as notes

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    @property
    def short_id(self) -> str:
        return self.case_id[:8]

    @property
    def needs_certificate(self) -> bool:
        """Closed as sent home or sick leave with a fever: the pupil returns only with a 复课证明, checked by the
        school doctor (gate clearance add)."""
        return self.outcome in NEEDS_CERTIFICATE and "fever" in self.symptoms

    @property
    def ill(self) -> bool:
        """Counts towards a cluster: symptoms recorded on closing, or a fever confirmed at the gate."""
        return bool(self.symptoms) and self.outcome is not Outcome.FALSE_ALARM
