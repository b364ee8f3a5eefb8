"""A temperature as measured, and the health of the sensor that measured it."""
from __future__ import annotations

import enum
import time

import msgspec


class Health(str, enum.Enum):
    """State of a sensor as the station sees it; anything but OK makes its readings suspect."""

    OK = "ok"
    WARMING = "warming"
    DEGRADED = "degraded"
    FAULT = "fault"
    OFFLINE = "offline"


MANUAL = "manual"
# The ambient range most infrared thermometers are specified for; outside it a reading is not trusted.
AMBIENT_RANGE_C = (10.0, 40.0)


# A frozen msgspec Struct, not a dataclass: built in C when the module loads, where a frozen dataclass compiles six
# methods from source (about 4 M instructions of gate screen's start-up each, bench/cli_startup.py).
class Reading(msgspec.Struct, frozen=True):
    """One temperature as measured.

    ``object_c`` is what the device reported (skin / radiance temperature for infrared guns, the typed value for a
    manual reading); ``body_c`` is the calibrated body value the policy judges. They are kept apart so that a raw
    reading is never rewritten.
    """

    object_c: float
    source: str  # sensor id, or "manual"
    ambient_c: float | None = None
    body_c: float | None = None
    ts: float = msgspec.field(default_factory=time.time)
    health: Health = Health.OK
    health_reason: str = ""
    operator: str | None = None  # manual readings: who measured
    device_id: str | None = None  # manual readings: the handheld / clinical thermometer used
    manual_reason: str | None = None  # manual readings: sensor-fault / cold / retest / other
    unit_entered: str = "C"  # manual readings typed in Fahrenheit keep that fact
    calibration_id: str | None = None
    calibration_ok: bool = True  # False when the sensor's calibration is overdue or it is locked out

    @property
    def is_manual(self) -> bool:
        return self.source == MANUAL

    @property
    def value_c(self) -> float:
        """The body value to judge: calibrated if known, else the measured value."""
        return self.object_c if self.body_c is None else self.body_c

    def with_body(self, gain: float = 1.0, offset_c: float = 0.0, calibration_id: str | None = None) -> "Reading":
        return msgspec.structs.replace(self, body_c=round(gain * self.object_c + offset_c, 2), calibration_id=calibration_id)

    def to_dict(self) -> dict:
        return {
            "object_c": self.object_c,
            "ambient_c": self.ambient_c,
            "body_c": self.body_c,
            "source": self.source,
            "ts": self.ts,
            "health": self.health.value,
            "health_reason": self.health_reason,
            "operator": self.operator,
            "device_id": self.device_id,
            "manual_reason": self.manual_reason,
            "unit_entered": self.unit_entered,
            "calibration_id": self.calibration_id,
            "calibration_ok": self.calibration_ok,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Reading":
        d = dict(d)
        d["health"] = Health(d.get("health", "ok"))
        known = set(cls.__struct_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})
