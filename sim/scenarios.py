"""Scenarios: who arrives at the gate and when, what the sensor sees, and what goes wrong with it.

Temperatures are what a forehead gun reports after its own body-site compensation: a healthy pupil reads about
36.0–36.9 °C indoors. In the cold, skin cools and the same pupil reads 32–35 °C (why staff once measured by hand).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    ambient_c: tuple[float, float] = (20.0, 24.0)  # the range the ambient wanders in over the morning
    healthy_c: tuple[float, float] = (36.45, 0.22)  # mean and spread of a healthy person's reading
    fever_share: float = 0.0
    fever_c: tuple[float, float] = (37.5, 39.2)
    gap_s: tuple[float, float] = (1.2, 3.0)  # between one person leaving and the next arriving
    dwell_s: tuple[float, float] = (0.9, 1.5)  # time in front of the sensor
    no_mask_share: float = 0.05
    spike_share: float = 0.0  # share of frames with a wild value (faulty gun)
    stuck_after_s: float | None = None  # the value freezes after this long (faulty gun)
    unplug_every_s: float | None = None  # the cable comes loose this often ...
    unplug_for_s: float = 1.0  # ... for this long
    garbage_share: float = 0.0  # garbage bytes per byte sent (line noise)
    split_frames: bool = False  # frames arrive in pieces
    # The sensor's own error: measured = gain * true + offset + drift * hours + noise (calibration removes it).
    gain: float = 1.0
    offset_c: float = 0.0
    noise_c: float = 0.04
    drift_c_per_hour: float = 0.0


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("normal-morning", "a school morning: pupils arriving every 1–3 s, healthy readings, a few without masks"),
    Scenario("fevers", "a normal morning where one entrant in eight has a fever", fever_share=0.125),
    Scenario("cold-morning", "ambient near 0–5 °C: skin cools and readings come out low",
             ambient_c=(0.0, 5.0), healthy_c=(34.0, 0.6)),
    Scenario("faulty-gun", "a gun that spikes, then freezes on one value after 20 s",
             spike_share=0.05, stuck_after_s=20.0),
    Scenario("unplug", "the cable comes loose every 6 s for 1 s and returns", unplug_every_s=6.0, unplug_for_s=1.0),
    Scenario("noise", "line noise: garbage bytes between frames and frames split in pieces",
             garbage_share=0.1, split_frames=True),
)}


@dataclass(frozen=True)
class Person:
    arrive: float
    leave: float
    temperature_c: float
    mask: bool
    fever: bool


@dataclass(frozen=True)
class SceneState:
    object_c: float
    ambient_c: float
    person: Person | None


@dataclass
class Scene:
    """What is in front of the sensor at time ``t`` (seconds since the scene started). Deterministic per seed."""

    scenario: Scenario
    seed: int | None = None
    pace: float = 1.0  # > 1 brings people faster (tests); dwell time stays real so a sensor still sees them
    start_after_s: float = 0.5
    _rng: random.Random = field(init=False)
    _people: list[Person] = field(init=False, default_factory=list)
    _frozen: float | None = field(init=False, default=None)
    blackbody_c: float | None = None  # while set, the sensor looks at a blackbody at this temperature
    blackbody_control: str | None = None  # a file holding the set point (so another process can drive it)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._noise = random.Random(None if self.seed is None else self.seed + 1)

    def _next_person(self) -> Person:
        sc, rng = self.scenario, self._rng
        t0 = self._people[-1].leave if self._people else self.start_after_s
        arrive = t0 + rng.uniform(*sc.gap_s) / self.pace
        fever = rng.random() < sc.fever_share
        temp = rng.uniform(*sc.fever_c) if fever else rng.gauss(*sc.healthy_c)
        return Person(arrive, arrive + rng.uniform(*sc.dwell_s), round(temp, 2), rng.random() >= sc.no_mask_share,
                      fever)

    def person_at(self, t: float) -> Person | None:
        while not self._people or self._people[-1].leave < t:
            self._people.append(self._next_person())
        # People are few and sorted; search from the end.
        for p in reversed(self._people):
            if p.arrive <= t <= p.leave:
                return p
            if p.leave < t:
                return None
        return None

    def people_until(self, t: float) -> list[Person]:
        self.person_at(t)
        return [p for p in self._people if p.arrive <= t]

    def ambient_at(self, t: float) -> float:
        lo, hi = self.scenario.ambient_c
        # Slow warming over a morning of about an hour.
        return round(lo + (hi - lo) * min(1.0, t / 3600.0), 2)

    def blackbody(self) -> float | None:
        if self.blackbody_control:
            try:
                text = open(self.blackbody_control, encoding="ascii").read().strip()
                return float(text) if text else None
            except (OSError, ValueError):
                return None
        return self.blackbody_c

    def state(self, t: float) -> SceneState:
        sc, noise = self.scenario, self._noise
        ambient = self.ambient_at(t)
        person = self.person_at(t)
        bb = self.blackbody()
        if bb is not None:
            true, person = bb, None
        elif person is not None:
            true = person.temperature_c
        else:
            true = ambient + 0.8  # a wall a little warmer than the air
        obj = sc.gain * true + sc.offset_c + sc.drift_c_per_hour * t / 3600 + noise.gauss(0, sc.noise_c)
        if sc.spike_share and noise.random() < sc.spike_share:
            obj = noise.choice((-50.0, 150.0, 250.0))  # what a failing gun shows: absurd, not merely odd
        if sc.stuck_after_s is not None and t >= sc.stuck_after_s:
            if self._frozen is None:
                self._frozen = round(obj, 2)
            obj = self._frozen
        return SceneState(round(obj, 2), round(ambient + noise.gauss(0, 0.02), 2), person)
