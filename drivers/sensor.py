"""A configured sensor: opens its port by URL, reads samples, tracks health and reconnects after an unplug."""
from __future__ import annotations

import enum
import random
import time
from collections import deque
from dataclasses import dataclass

from domain import AMBIENT_RANGE_C, Reason
from drivers.base import Health, SensorError, port_errors
from drivers.samples import HealthEvent, Sample
from drivers.registry import DEFAULT_MODE, device_class
from drivers.transport import open_port


# Anything a gate sensor sees (people, walls, cold air) lies in this range; values outside it are spikes.
SCENE_RANGE_C = (-30.0, 100.0)
SPIKE_WINDOW = 50
SPIKE_SHARE = 0.02


class Cause(enum.StrEnum):
    """Why a sensor is in its health state; the ambient causes are the policy's own reason codes."""

    NOT_OPENED = "not-opened"
    CONNECTED = "connected"
    WARMING_UP = "warming-up"
    READINGS_NORMAL = "readings-normal"
    UNPLUGGED = "unplugged"
    NO_DATA = "no-data"
    DEVICE_REPORTS = "device-reports"
    ERRATIC = "erratic"
    STUCK = "stuck"
    AMBIENT_TOO_COLD = Reason.AMBIENT_TOO_COLD.value
    AMBIENT_TOO_HOT = Reason.AMBIENT_TOO_HOT.value


@dataclass
class HealthLimits:
    no_data_s: float = 2.0  # no sample for this long while the port is open -> fault
    stuck_count: int = 40  # this many identical object values in a row -> fault
    ambient_min_c: float = AMBIENT_RANGE_C[0]  # outside the operating range -> degraded
    ambient_max_c: float = AMBIENT_RANGE_C[1]
    warmup_s: float = 0.0


class Sensor:
    """One thermometer. ``poll()`` never raises for device trouble: it reports health events instead."""

    def __init__(self, sensor_id: str, protocol: str, url: str, baudrate: int | None = None, mode: str | None = None,
                 limits: HealthLimits | None = None, backoff_s: tuple[float, float] = (0.05, 0.5),
                 rng: random.Random | None = None, options: dict | None = None):
        self.sensor_id = sensor_id
        self.protocol = protocol
        self.url = url
        self.cls = device_class(protocol)
        self.baudrate = baudrate or self.cls.DEFAULT_BAUD
        self.mode = mode or DEFAULT_MODE[protocol]
        self.options = dict(options or {})
        self.limits = limits or HealthLimits()
        self._backoff_min, self._backoff_max = backoff_s
        self._backoff = self._backoff_min
        self._rng = rng or random.Random()
        self.device = None
        self.health = Health.OFFLINE
        self.reason = "not opened yet"
        self._cause: tuple[Cause, str] = (Cause.NOT_OPENED, "")
        self._opened_at = 0.0
        self._last_sample_at = 0.0
        self._recent: deque[float] = deque(maxlen=self.limits.stuck_count)
        self._spikes: deque[bool] = deque(maxlen=SPIKE_WINDOW)
        self._next_attempt = 0.0
        self._events: list[HealthEvent] = []

    # -- opening -------------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open now; raises SensorError with a clear message (used by CLI commands that must fail fast)."""
        port = open_port(self.url, self.baudrate)
        try:
            device = self.cls(port, mode=self.mode, **self.options)
            device.start()
        except (*port_errors(), ValueError) as exc:
            port.close()
            raise SensorError(f"{self.url}: the device did not accept its start command: {exc}") from exc
        self.device = device
        self._opened_at = self._last_sample_at = time.monotonic()
        self._recent.clear()
        self._spikes.clear()
        self._backoff = self._backoff_min
        if self.limits.warmup_s > 0:
            self._set(Health.WARMING, Cause.WARMING_UP, "warming up")
        else:
            self._set(Health.OK, Cause.CONNECTED, "connected")

    def _try_reopen(self) -> None:
        now = time.monotonic()
        if now < self._next_attempt:
            return
        try:
            self.open()
        except SensorError as exc:
            self.reason = str(exc)
            # Exponential backoff with full jitter: many stations must not hammer a flaky hub in step.
            self._next_attempt = now + self._rng.uniform(0, self._backoff)
            self._backoff = min(self._backoff * 2, self._backoff_max)

    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None

    # -- reading -------------------------------------------------------------------------------------------------
    def poll(self, timeout: float = 0.1) -> tuple[list[Sample], list[HealthEvent]]:
        if self.device is None:
            self._try_reopen()
            if self.device is None:
                time.sleep(min(timeout, max(0.0, self._next_attempt - time.monotonic())))
                return [], self._drain()
        try:
            samples = self.device.samples(timeout)
        except port_errors() as exc:
            self.close()
            self._set(Health.OFFLINE, Cause.UNPLUGGED, f"unplugged or unreadable: {exc}")
            self._next_attempt = time.monotonic()
            return [], self._drain()
        self._check(samples)
        return samples, self._drain()

    def next_value(self, timeout: float = 2.0) -> float | None:
        """The object temperature of the next sample(s) to arrive within ``timeout`` (None if none came)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            samples, _ = self.poll(min(0.2, max(0.01, deadline - time.monotonic())))
            if samples:
                return samples[-1].object_c
        return None

    def _check(self, samples: list[Sample]) -> None:
        now = time.monotonic()
        lim = self.limits
        if samples:
            self._last_sample_at = now
            self._recent.extend(s.object_c for s in samples)
            self._spikes.extend(not (SCENE_RANGE_C[0] <= s.object_c <= SCENE_RANGE_C[1]) for s in samples)
        if now - self._last_sample_at > lim.no_data_s:
            self._set(Health.FAULT, Cause.NO_DATA, f"no data for {now - self._last_sample_at:.1f} s")
            return
        reported = next((s for s in reversed(samples) if s.device_health is not None), None)
        if reported is not None:
            self._set(reported.device_health, Cause.DEVICE_REPORTS, f"device reports {reported.device_reason}",
                      reported.device_reason)
            return
        if len(self._spikes) >= 10 and sum(self._spikes) / len(self._spikes) > SPIKE_SHARE:
            self._set(Health.DEGRADED, Cause.ERRATIC, f"erratic readings: {sum(self._spikes)} of the last {len(self._spikes)} "
                                       f"outside {SCENE_RANGE_C[0]:g}–{SCENE_RANGE_C[1]:g} °C")
            return
        if len(self._recent) == self._recent.maxlen and len(set(self._recent)) == 1:
            self._set(Health.FAULT, Cause.STUCK, f"value stuck at {self._recent[-1]:.2f} °C")
            return
        if now - self._opened_at < lim.warmup_s:
            self._set(Health.WARMING, Cause.WARMING_UP, "warming up")
            return
        ambient = next((s.ambient_c for s in reversed(samples) if s.ambient_c is not None), None)
        if ambient is not None and not (lim.ambient_min_c <= ambient <= lim.ambient_max_c):
            self._set(Health.DEGRADED, Cause.AMBIENT_TOO_COLD if ambient < lim.ambient_min_c else Cause.AMBIENT_TOO_HOT,
                      f"ambient {ambient:.1f} °C outside {lim.ambient_min_c:g}–{lim.ambient_max_c:g} °C")
            return
        if samples:
            self._set(Health.OK, Cause.READINGS_NORMAL, "readings normal")

    def _set(self, health: Health, cause: Cause, reason: str, detail: str = "") -> None:
        """A new health event when the health or its cause changes (``detail``: what the device itself said); the
        reason text may change every poll ("no data for 2.3 s") without being news."""
        if health is not self.health or (cause, detail) != self._cause:
            self._events.append(HealthEvent(self.sensor_id, health, reason, cause=cause))
        self.health, self.reason, self._cause = health, reason, (cause, detail)

    def _drain(self) -> list[HealthEvent]:
        out, self._events = self._events, []
        return out
