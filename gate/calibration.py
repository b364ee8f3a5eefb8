"""Calibration against a blackbody (or a reference thermometer): fit, residuals, records, due dates and lockout.

body = gain * raw + offset (+ the body-site offset, a separate term: skin to core). A full calibration fits gain and
offset by least squares through two or more set points at least 2 °C apart; one point is a daily check only. A
calibration cannot move readings by degrees: a fit whose gain is outside 0.90–1.10, or whose correction at 37 °C is
more than ``max_correction_c``, is refused with the point that looks wrong (a set point typed wrong is the usual
cause). A calibration that is accepted passes only if every residual is within tolerance.
A daily check is one point against the reference: out of tolerance locks the sensor until it is recalibrated.
Raw readings are never rewritten: the calibrated value is stored beside them with the record's id.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from domain import tolerances as limits  # the limits the config also checks: named once, in domain.tolerances
from domain.calibration import CalibrationRecord, Point
from domain.errors import UsageError

STABLE_SPREAD_C = 0.1
_EPS = 1e-9  # 34.7 - 34.6 is 0.10000000000000142 in floating point: still "within 0.1"
SET_RANGE_C = (35.0, 42.0)
MIN_SPAN_C = 2.0  # between the lowest and the highest set point of a full calibration
GAIN_RANGE = (0.90, 1.10)
CHECK_AT_C = 37.0  # where the size of a correction is judged: the middle of the range that decides fevers


class CalibrationError(UsageError):
    pass


@dataclass(frozen=True)
class Fit:
    gain: float
    offset_c: float
    residuals: tuple[float, ...]  # set - calibrated(mean reading), per point

    def apply(self, raw: float) -> float:
        return self.gain * raw + self.offset_c


def _line(points: Sequence[Point]) -> tuple[float, float]:
    """Gain and offset through the points: least squares, or a pure offset for one point."""
    if not points:
        raise CalibrationError("at least one set point is needed")
    if len(points) == 1:
        return 1.0, points[0].set_c - points[0].mean
    xs, ys = [p.mean for p in points], [p.set_c for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx < 1e-9:
        raise CalibrationError("the set points read the same: check that the blackbody really changed")
    gain = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return gain, my - gain * mx


def fit(points: Sequence[Point]) -> Fit:
    gain, offset = _line(points)
    if not GAIN_RANGE[0] <= gain <= GAIN_RANGE[1]:
        raise CalibrationError(f"fitted gain {gain:.3f} is implausible (allowed {GAIN_RANGE[0]:.2f}–"
                               f"{GAIN_RANGE[1]:.2f}): {suspect_point(points) or 'check the set points and the sensor'}")
    return Fit(round(gain, 6), round(offset, 4), tuple(round(p.set_c - (gain * p.mean + offset), 4) for p in points))


def suspect_point(points: Sequence[Point], bound_c: float | None = limits.DEFAULT_MAX_CORRECTION_C) -> str | None:
    """Which point looks wrong, in words: one whose readings disagree with its set point by more than ``bound_c``
    (unless None), else the one furthest off the line through the others, else (two points) the pair."""
    worst = max(points, key=lambda p: abs(p.mean - p.set_c), default=None)
    if worst is not None and bound_c is not None and abs(worst.mean - worst.set_c) > bound_c + _EPS:
        return (f"point {worst.set_c:g}: readings average {worst.mean:.2f} °C — was the blackbody really at "
                f"{worst.set_c:g}?")
    if len(points) >= 3:
        # The point without which the others agree best: on one line, with a gain near 1 (as real sensors have).
        off, score = {}, {}
        for i, p in enumerate(points):
            rest = [q for j, q in enumerate(points) if j != i]
            try:
                gain, offset = _line(rest)
            except CalibrationError:
                continue
            off[i] = p.set_c - (gain * p.mean + offset)
            score[i] = (round(max(abs(q.set_c - (gain * q.mean + offset)) for q in rest), 2), abs(gain - 1.0))
        if off:
            i = min(score, key=score.__getitem__)
            return (f"point {points[i].set_c:g}: {abs(off[i]):.2f} °C off the line through the other points — "
                    f"was the blackbody really at {points[i].set_c:g}? measure it again")
    if len(points) == 2:
        a, b = sorted(points, key=lambda p: p.set_c)
        return (f"points {a.set_c:g} and {b.set_c:g}: the readings rose {b.mean - a.mean:.2f} °C while the set point "
                f"rose {b.set_c - a.set_c:.2f} °C — check both set points (a third point shows which one is wrong)")
    return None


def refusals(points: Sequence[Point], max_correction_c: float = limits.DEFAULT_MAX_CORRECTION_C) -> list[str]:
    """Why these points cannot make a full calibration (empty when they can): too few or too close set points, a
    gain outside 0.90–1.10, a correction at 37 °C over ``max_correction_c``; with the point that looks wrong."""
    problems = []
    sets = sorted({p.set_c for p in points})
    if len(sets) < 2:
        problems.append("one set point is a daily check only (gate calibrate check): a full calibration needs two or "
                        f"more set points at least {MIN_SPAN_C:g} °C apart, e.g. 35 and 40")
    elif sets[-1] - sets[0] < MIN_SPAN_C - _EPS:
        problems.append(f"set points {sets[0]:g} and {sets[-1]:g} °C are only {sets[-1] - sets[0]:.1f} °C apart: a "
                        f"full calibration needs at least {MIN_SPAN_C:g} °C between the lowest and the highest")
    gain, offset = _line(points)
    wrong = False
    if not GAIN_RANGE[0] <= gain <= GAIN_RANGE[1]:
        problems.append(f"the fitted gain {gain:.3f} is implausible (allowed {GAIN_RANGE[0]:.2f}–{GAIN_RANGE[1]:.2f})")
        wrong = True
    correction = gain * CHECK_AT_C + offset - CHECK_AT_C
    if abs(correction) > max_correction_c + _EPS:
        problems.append(f"the fit would move a {CHECK_AT_C:g} °C reading by {correction:+.2f} °C, more than the "
                        f"±{max_correction_c:g} °C allowed ([calibration] max_correction_c)")
        wrong = True
    far = any(abs(p.mean - p.set_c) > max_correction_c + _EPS for p in points)
    suspect = suspect_point(points, max_correction_c) if wrong or (problems and far) else None
    return problems + [suspect] if suspect else problems


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
              operator: str, tolerance_c: float = limits.DEFAULT_TOLERANCE_C,
              interval_days: float = limits.DEFAULT_INTERVAL_DAYS,
              ambient_c: float | None = None, body_site_offset_c: float = 0.0,
              max_correction_c: float = limits.DEFAULT_MAX_CORRECTION_C, now: float | None = None) -> CalibrationRecord:
    """A full calibration record: fit, residuals, pass only if every residual is within tolerance.

    Raises CalibrationError, storing nothing, when the points cannot be a calibration (see ``refusals``)."""
    if not reference_id.strip():
        raise CalibrationError("--reference-id: the blackbody's or reference thermometer's certificate id")
    if reference_uncertainty_c >= tolerance_c:
        raise CalibrationError(f"the reference's uncertainty ({reference_uncertainty_c} °C) must be below the "
                               f"tolerance ({tolerance_c} °C)")
    lo, hi = limits.BODY_SITE_OFFSET_RANGE_C
    if not lo <= body_site_offset_c <= hi:
        raise CalibrationError(f"body_site_offset_c {body_site_offset_c:+g} °C is outside {lo:+g} to {hi:+g} °C: skin "
                               "reads colder than the core, never warmer, so a negative offset only hides fevers")
    low, high = limits.MAX_CORRECTION_RANGE_C
    if not low <= max_correction_c <= high:
        raise CalibrationError(f"max_correction_c {max_correction_c:g} °C is outside {low:g}–{high:g} °C")
    problems = refusals(points, max_correction_c)
    if problems:
        raise CalibrationError("calibration refused, nothing stored: " + "; ".join(problems))
    f = fit(points)
    now = time.time() if now is None else now
    unstable = [p.set_c for p in points if p.spread > STABLE_SPREAD_C + _EPS]
    ok = all(abs(r) <= tolerance_c + _EPS for r in f.residuals) and not unstable
    note = f"unstable at {unstable}" if unstable else (
        "" if ok else f"a residual is over tolerance: {suspect_point(points, None) or 'measure again'}")
    return CalibrationRecord(sensor, reference_id, reference_uncertainty_c, list(points), operator, "full",
                             f.gain, f.offset_c, list(f.residuals), tolerance_c, ambient_c, body_site_offset_c, now,
                             now + interval_days * 86400 if ok else None, "pass" if ok else "fail", note)


def daily_check(sensor: str, point: Point, current: CalibrationRecord | None, *, reference_id: str, operator: str,
                tolerance_c: float = limits.DEFAULT_TOLERANCE_C, now: float | None = None) -> CalibrationRecord:
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
           warn_days: float = limits.DEFAULT_WARN_DAYS, grace_days: float = limits.DEFAULT_GRACE_DAYS,
           now: float | None = None) -> SensorStatus:
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
