"""The blackbody calibration procedure, step by step, for `gate calibrate run` and the maintenance screen's wizard.

For each set point the blackbody is set (by a person, or a simulated blackbody) and the sensor looks at it; raw frames
are averaged into readings (PER_READING frames each) until a point has ``samples`` readings; a point whose readings
spread more than 0.1 °C is measured again (up to ``max_tries`` times, then kept as unstable, and the calibration
fails). When every set point is measured, `record()` fits gain and offset with the configured tolerance.

Frames are pushed in (`add_frame`), so the wizard feeds it the samples it already receives and the command line pulls
them from the sensor (`measure`); both get the same points, the same stability rule and the same record.
"""
from __future__ import annotations

import statistics
from enum import StrEnum
from typing import Callable, Sequence

from domain.calibration import CalibrationRecord, Point
from domain.tolerances import DEFAULT_INTERVAL_DAYS, DEFAULT_MAX_CORRECTION_C, DEFAULT_TOLERANCE_C
from domain.errors import DeviceFailure
from gate.calibration import _EPS, MIN_SPAN_C, SET_RANGE_C, STABLE_SPREAD_C, CalibrationError, calibrate

PER_READING = 4  # frames averaged into one reading: one frame's noise is not the sensor's
MAX_TRIES = 10  # an unstable point is measured again this often, then recorded as unstable (the calibration fails)
MAX_SET_POINTS = 5


class Step(StrEnum):
    """What the last frame did."""

    MEASURING = "measuring"  # more frames are needed at this set point
    AGAIN = "again"  # the readings were not stable: measuring this set point again
    NEXT_POINT = "next-point"  # this set point is done: set the blackbody to the next one
    FINISHED = "finished"  # every set point is measured: call record()


def parse_set_points(text: str) -> list[float]:
    """``35,37,40`` -> [35.0, 37.0, 40.0]: 1 to 5 set points within 35–42 °C (one is a daily check's)."""
    try:
        points = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CalibrationError(f"set points {text!r}: numbers separated by commas, e.g. 35,37,40") from None
    check_set_points(points)
    return points


def check_set_points(points: Sequence[float], *, full: bool = False) -> None:
    """1 to 5 set points within 35–42 °C; for a ``full`` calibration, two or more at least 2 °C apart."""
    lo, hi = SET_RANGE_C
    if not 1 <= len(points) <= MAX_SET_POINTS:
        raise CalibrationError(f"give 1 to {MAX_SET_POINTS} set points within {lo:g}–{hi:g} °C, e.g. 35,37,40")
    outside = [p for p in points if not lo <= p <= hi]
    if outside:
        raise CalibrationError(f"set point {outside[0]:g} °C is outside {lo:g}–{hi:g} °C")
    if full and len(set(points)) < 2:  # asked before anyone heats a blackbody, not after
        raise CalibrationError(f"one point is a daily check only (gate calibrate check): a full calibration needs two "
                               f"or more set points at least {MIN_SPAN_C:g} °C apart, e.g. 35,37,40")
    if full and max(points) - min(points) < MIN_SPAN_C - _EPS:
        raise CalibrationError(f"set points {min(points):g} and {max(points):g} °C are only "
                               f"{max(points) - min(points):.1f} °C apart: a full calibration needs at least "
                               f"{MIN_SPAN_C:g} °C between the lowest and the highest, e.g. 35,37,40")


class BlackbodyProcedure:
    """One blackbody calibration of one sensor, from the first set point to the record.

    ``full`` (the default): a full calibration, so two or more set points at least 2 °C apart, refused before the
    blackbody is heated; False: the one point of a daily check (the caller makes its record with ``daily_check``)."""

    def __init__(self, sensor: str, set_points: Sequence[float], *, reference_id: str, operator: str,
                 samples: int = 5, tolerance_c: float = DEFAULT_TOLERANCE_C, reference_uncertainty_c: float = 0.1,
                 interval_days: float = DEFAULT_INTERVAL_DAYS, body_site_offset_c: float = 0.0,
                 max_correction_c: float = DEFAULT_MAX_CORRECTION_C, per_reading: int = PER_READING,
                 max_tries: int = MAX_TRIES, full: bool = True):
        check_set_points(set_points, full=full)
        if not reference_id.strip():  # asked before anyone heats a blackbody, not after
            raise CalibrationError("the reference id (the blackbody's or reference thermometer's certificate) is "
                                   "needed for the record")
        if samples < 1:
            raise CalibrationError("samples per set point: 1 or more")
        self.sensor, self.set_points, self.samples = sensor, list(set_points), samples
        self.reference_id, self.operator = reference_id.strip(), operator
        self.tolerance_c, self.reference_uncertainty_c = tolerance_c, reference_uncertainty_c
        self.interval_days, self.body_site_offset_c = interval_days, body_site_offset_c
        self.max_correction_c = max_correction_c
        self.per_reading, self.max_tries = per_reading, max_tries
        self.points: list[Point] = []
        self.tries = 0  # repeats of the current set point
        self.last_unstable: Point | None = None  # the last repeat's readings, to show why
        self._frames: list[float] = []

    @property
    def finished(self) -> bool:
        return len(self.points) == len(self.set_points)

    @property
    def set_c(self) -> float | None:
        """The set point being measured (None once finished)."""
        return None if self.finished else self.set_points[len(self.points)]

    @property
    def frames_per_point(self) -> int:
        return self.samples * self.per_reading

    def progress(self) -> tuple[int, int]:
        """Frames taken so far and frames needed in all (repeats of unstable points not counted)."""
        return len(self.points) * self.frames_per_point + len(self._frames), \
            len(self.set_points) * self.frames_per_point

    def add_frame(self, value: float) -> Step:
        """One raw frame from the sensor while it looks at the blackbody at ``set_c``."""
        if self.finished:
            return Step.FINISHED
        self._frames.append(value)
        if len(self._frames) < self.frames_per_point:
            return Step.MEASURING
        frames, self._frames = self._frames, []
        n = self.per_reading
        point = Point(self.set_c, tuple(round(statistics.fmean(frames[i:i + n]), 3) for i in range(0, len(frames), n)))
        if point.spread > STABLE_SPREAD_C + _EPS and self.tries < self.max_tries:
            self.tries += 1
            self.last_unstable = point
            return Step.AGAIN
        self.points.append(point)  # stable, or unstable after every try: kept as it is, and the fit will say so
        self.tries, self.last_unstable = 0, None
        return Step.FINISHED if self.finished else Step.NEXT_POINT

    def record(self, now: float | None = None) -> CalibrationRecord:
        """The calibration record: the fit, every residual, pass only if all are within the tolerance."""
        if not self.finished:
            raise CalibrationError(f"{len(self.points)} of {len(self.set_points)} set points measured: finish them")
        return calibrate(self.sensor, self.points, reference_id=self.reference_id,
                         reference_uncertainty_c=self.reference_uncertainty_c, operator=self.operator,
                         tolerance_c=self.tolerance_c, interval_days=self.interval_days,
                         body_site_offset_c=self.body_site_offset_c, max_correction_c=self.max_correction_c, now=now)


def measure(procedure: BlackbodyProcedure, read: Callable[[], float | None],
            on_again: Callable[[Point], None] = lambda point: None) -> Point:
    """Pull frames from ``read`` (None: nothing came) until the current set point is measured; its Point."""
    set_c, done = procedure.set_c, len(procedure.points)
    while len(procedure.points) == done:
        value = read()
        if value is None:
            raise DeviceFailure(f"no readings from the sensor at {set_c} °C: check the cable and the sensor")
        if procedure.add_frame(value) is Step.AGAIN:
            on_again(procedure.last_unstable)
    return procedure.points[-1]
