"""Calibration records: the set points measured against a reference and the correction they gave a sensor."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field

from domain.tolerances import DEFAULT_TOLERANCE_C


@dataclass(frozen=True)
class Point:
    set_c: float
    readings: tuple[float, ...]

    @property
    def mean(self) -> float:
        import statistics  # with fractions: only when a calibration is fitted, not when a config names its bounds

        return statistics.fmean(self.readings)

    @property
    def spread(self) -> float:
        return max(self.readings) - min(self.readings)


@dataclass
class CalibrationRecord:
    sensor: str  # protocol:sensor-id (and serial number when the device reports one)
    reference_id: str
    reference_uncertainty_c: float
    points: list[Point]
    operator: str
    kind: str = "full"  # full | daily-check
    gain: float = 1.0
    offset_c: float = 0.0
    residuals: list[float] = field(default_factory=list)
    tolerance_c: float = DEFAULT_TOLERANCE_C
    ambient_c: float | None = None
    body_site_offset_c: float = 0.0
    at: float = field(default_factory=time.time)
    due: float | None = None
    result: str = "fail"
    note: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_json(self) -> str:
        d = asdict(self)
        d["points"] = [{"set_c": p.set_c, "readings": list(p.readings)} for p in self.points]
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CalibrationRecord":
        d = json.loads(text)
        d["points"] = [Point(p["set_c"], tuple(p["readings"])) for p in d["points"]]
        return cls(**d)
