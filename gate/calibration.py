"""Calibration against a blackbody (or a reference thermometer): fit, residuals, records, due dates and lockout.

body = gain * raw + offset (+ the body-site offset, a separate term: skin to core). One set point fits an offset; two
or more fit gain and offset by least squares. A calibration passes only if every residual is within tolerance.
A daily check is one point against the reference: out of tolerance locks the sensor until it is recalibrated.
Raw readings are never rewritten: the calibrated value is stored beside them with the record's id.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from domain.calibration import DEFAULT_TOLERANCE_C, CalibrationRecord, Point  # noqa: F401  (re-exported: the procedure speaks these)
from domain.errors import UsageError

STABLE_SPREAD_C = 0.1
_EPS = 1e-9  # 34.7 - 34.6 is 0.10000000000000142 in floating point: still "within 0.1"
SET_RANGE_C = (35.0, 42.0)


class CalibrationError(UsageError):
    pass


@dataclass(frozen=True)
class Fit:
    gain: float
    offset_c: float
    residuals: tuple[float, ...]  # set - calibrated(mean reading), per point

    def apply(self, raw: float) -> float:
        return self.gain * raw + self.offset_c


def fit(points: Sequence[Point]) -> Fit:
    if not points:
        raise CalibrationError("at least one set point is needed")
    if len(points) == 1:
        gain, offset = 1.0, points[0].set_c - points[0].mean
    else:
        xs, ys = [p.mean for p in points], [p.set_c for p in points]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx < 1e-9:
            raise CalibrationError("the set points read the same: check that the blackbody really changed")
        gain = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        offset = my - gain * mx
    if not 0.8 <= gain <= 1.25:
        raise CalibrationError(f"fitted gain {gain:.3f} is implausible: check the set points and the sensor")
    return Fit(round(gain, 6), round(offset, 4), tuple(round(p.set_c - (gain * p.mean + offset), 4) for p in points))


def parse_point(text: str) -> Point:
    """``35.0:34.6,34.7,34.6`` -> Point(35.0, (34.6, 34.7, 34.6)); raises CalibrationError saying what is wrong."""
    try:
        set_text, readings_text = text.split(":", 1)
        set_c = float(set_text)
        readings = tuple(float(v) for v in readings_text.split(",") if v.strip())
    except ValueError:
        raise CalibrationError(f"--point {text!r}: write SET:READING,READING,... e.g. 35.0:34.6,34.7,34.6") from None
    if not readings:
        raise CalibrationError(f"--point {text!r}: no readings after the colon")
    if not SET_RANGE_C[0] <= set_c <= SET_RANGE_C[1]:
        raise CalibrationError(f"--point {text!r}: set point {set_c} is outside 35–42 °C")
    if any(not 20.0 <= r <= 50.0 for r in readings):
        raise CalibrationError(f"--point {text!r}: a reading is outside 20–50 °C; is this the right sensor?")
    return Point(set_c, readings)


def calibrate(sensor: str, points: Sequence[Point], *, reference_id: str, reference_uncertainty_c: float,
              operator: str, tolerance_c: float = DEFAULT_TOLERANCE_C, interval_days: float = 30.0,
              ambient_c: float | None = None, body_site_offset_c: float = 0.0,
              now: float | None = None) -> CalibrationRecord:
    """A full calibration record: fit, residuals, pass only if every residual is within tolerance."""
    if not reference_id.strip():
        raise CalibrationError("--reference-id: the blackbody's or reference thermometer's certificate id")
    if reference_uncertainty_c >= tolerance_c:
        raise CalibrationError(f"the reference's uncertainty ({reference_uncertainty_c} °C) must be below the "
                               f"tolerance ({tolerance_c} °C)")
    f = fit(points)
    now = time.time() if now is None else now
    unstable = [p.set_c for p in points if p.spread > STABLE_SPREAD_C + _EPS]
    ok = all(abs(r) <= tolerance_c + _EPS for r in f.residuals) and not unstable
    note = f"unstable at {unstable}" if unstable else ("" if ok else "a residual is over tolerance")
    return CalibrationRecord(sensor, reference_id, reference_uncertainty_c, list(points), operator, "full",
                             f.gain, f.offset_c, list(f.residuals), tolerance_c, ambient_c, body_site_offset_c, now,
                             now + interval_days * 86400 if ok else None, "pass" if ok else "fail", note)


def daily_check(sensor: str, point: Point, current: CalibrationRecord | None, *, reference_id: str, operator: str,
                tolerance_c: float = DEFAULT_TOLERANCE_C, now: float | None = None) -> CalibrationRecord:
    """One point against the reference, through the sensor's current calibration: the drift, pass or fail."""
    gain, offset = (current.gain, current.offset_c) if current else (1.0, 0.0)
    drift = round(gain * point.mean + offset - point.set_c, 4)
    ok = abs(drift) <= tolerance_c + _EPS and point.spread <= STABLE_SPREAD_C + _EPS
    return CalibrationRecord(sensor, reference_id, 0.0, [point], operator, "daily-check", gain, offset, [-drift],
                             tolerance_c, None, current.body_site_offset_c if current else 0.0,
                             time.time() if now is None else now, current.due if current else None,
                             "pass" if ok else "fail", f"drift {drift:+.2f} °C")


@dataclass(frozen=True)
class SensorStatus:
    """What the station may do with a sensor's readings today."""

    calibration: CalibrationRecord | None  # the latest passing full calibration
    usable: bool
    reason: str  # "", "locked: calibration overdue", "locked: daily check failed (...)", "never calibrated"
    warn: str  # "due in 2 days", ""


def status(last_full: CalibrationRecord | None, last_check: CalibrationRecord | None, *, required: bool,
           warn_days: float = 3.0, grace_days: float = 0.0, now: float | None = None) -> SensorStatus:
    now = time.time() if now is None else now
    if last_full is None:
        return SensorStatus(None, not required, "never calibrated" if required else "", "never calibrated")
    if last_check is not None and last_check.at > last_full.at and last_check.result == "fail":
        return SensorStatus(last_full, False, f"locked: daily check failed ({last_check.note})", "")
    if last_full.due is not None and now > last_full.due + grace_days * 86400:
        return SensorStatus(last_full, False, "locked: calibration overdue", "")
    days_left = (last_full.due - now) / 86400 if last_full.due else 999
    warn = f"calibration due in {days_left:.0f} days" if days_left <= warn_days else ""
    return SensorStatus(last_full, True, "", warn)


def collect_point(set_c: float, read: Callable[[], float | None], samples: int, *, per_reading: int = 4,
                  tries: int = 10, wait: Callable[[], None] = lambda: time.sleep(1.0)) -> Point:
    """Take ``samples`` readings (each the mean of ``per_reading`` frames) once they are stable (spread <= 0.1 °C);
    if they are not, wait and repeat, up to ``tries`` times."""
    last = None
    for _ in range(tries):
        values = []
        while len(values) < samples:
            frames = [v for v in (read() for _ in range(per_reading)) if v is not None]
            if len(frames) < per_reading:
                raise CalibrationError(f"no readings from the sensor at {set_c} °C: check the cable and the sensor")
            values.append(round(statistics.fmean(frames), 3))
        last = Point(set_c, tuple(values))
        if last.spread <= STABLE_SPREAD_C + _EPS:
            return last
        wait()
    return last  # unstable: recorded as such, and the calibration fails
