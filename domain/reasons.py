"""Reason codes: why the station decided what it did. Stored in the log, looked up in the message catalogues."""
from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Every reason a screening can carry; a StrEnum so it stores and compares as its code."""

    NORMAL = "normal"
    RETEST_NORMAL = "retest-normal"
    FEVER_SUSPECTED = "fever-suspected"
    FEVER_CONFIRMED = "fever-confirmed"
    FEVER_NOT_CLEARED = "fever-not-cleared"
    CERTIFICATE_NEEDED = "certificate-needed"  # a follow-up case closed as sent home / sick leave with a fever
    HELD_AT_GATE = "held-at-gate"  # another gate of the school holds back a record of this person, edited there
    NO_MASK = "no-mask"
    MASK_UNCONFIRMED = "mask-unconfirmed"
    MASK_REMINDER = "mask-reminder"
    INVALID_VALUE = "invalid-value"
    NO_READING = "no-reading"
    READING_TOO_LOW = "reading-too-low"
    READING_TOO_HIGH = "reading-too-high"
    SENSOR_FAULT = "sensor-fault"
    SENSOR_OFFLINE = "sensor-offline"
    SENSOR_WARMING = "sensor-warming"
    SENSOR_DEGRADED = "sensor-degraded"
    CALIBRATION_OVERDUE = "calibration-overdue"
    AMBIENT_TOO_COLD = "ambient-too-cold"
    AMBIENT_TOO_HOT = "ambient-too-hot"
    VISITOR_NOT_APPROVED = "visitor-not-approved"

    @property
    def is_ambient(self) -> bool:
        return self.value.startswith("ambient-")


class ManualReason(enum.StrEnum):
    """Why staff measured by hand (stored with a manual reading); the one list the CLI, the form and the driver use."""

    SENSOR_FAULT = Reason.SENSOR_FAULT.value
    COLD = "cold"
    RETEST = "retest"
    OTHER = "other"
