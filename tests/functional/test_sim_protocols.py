"""Every protocol against its simulator over a real pty, in every scenario: the driver cannot tell it from hardware."""
import dataclasses
import os
import threading

import pytest

from drivers.base import Health
from drivers.measurement import PresenceDetector
from drivers.sensor import HealthLimits, Sensor
from gate.config import Config, SensorConfig
from domain import Decision
from gate.station import Station
from sim.camera import SimulatedMask
from sim.scenarios import SCENARIOS
from storage.log import ScreeningLog
from tests.support import measurements_until, poll_until

PROTOCOLS = {
    "gy-mcu90614": {},
    "gy-mcu90640": {},
    "modbus-ir": {"slave": 7},
    "optris-ct": {"address": 2},
    "text-line": {"pattern": "arduino"},
    "text-line/melexis": {"pattern": "melexis"},
}
CASES = [pytest.param(name, id=name) for name in PROTOCOLS]


def proto(name: str) -> str:
    return name.split("/")[0]


def collect(sensor: Sensor, seconds: float, stop=lambda samples, events: False):
    return poll_until(sensor, stop, seconds)


def start(sim_factory, name, scenario, seed=4, pace=3.0, limits=None):
    sim = sim_factory(proto(name), scenario, seed=seed, options=PROTOCOLS[name], pace=pace)
    sensor = Sensor("gun-1", proto(name), sim.path, options=PROTOCOLS[name], limits=limits)
    return sim, sensor


@pytest.mark.parametrize("name", CASES)
def test_normal_morning_each_person_measured_once(sim_factory, name):
    sim, sensor = start(sim_factory, name, "normal-morning")
    det = PresenceDetector()
    got = measurements_until(sensor, det, 3)
    sensor.close()
    people = [p for p in sim.scene.people_until(sim.now())]
    assert len(got) >= 3
    for m in got:
        assert any(abs(m.object_c - p.temperature_c) <= 0.15 for p in people), (m, people[-5:])
    assert sensor.health is Health.OK or sensor.device is None


@pytest.mark.parametrize("name", CASES)
def test_fevers_reach_the_policy_as_retests(sim_factory, db_path, name):
    everyone_febrile = dataclasses.replace(SCENARIOS["fevers"], fever_share=1.0)
    sim = sim_factory(proto(name), everyone_febrile, seed=5, options=PROTOCOLS[name], pace=3.0)
    sc = SensorConfig(id="gun-1", protocol=proto(name), url=sim.path, options=PROTOCOLS[name])
    got = []
    with ScreeningLog(db_path) as log:
        station = Station(Config(sensors=(sc,), mask_mode="off"), log, mask_source=SimulatedMask(sim))
        stop = threading.Event()
        threading.Timer(12, stop.set).start()
        station.run(sc, stop, on_screening=got.append, count=2)
        stop.set()
    assert len(got) == 2
    for s in got:
        assert s.decision is Decision.RETEST and "fever-suspected" in s.reasons, s


@pytest.mark.parametrize("name", CASES)
def test_cold_morning_is_flagged_and_never_admitted(sim_factory, db_path, name):
    sim = sim_factory(proto(name), "cold-morning", seed=6, options=PROTOCOLS[name], pace=3.0)
    sc = SensorConfig(id="gun-1", protocol=proto(name), url=sim.path, options=PROTOCOLS[name])
    got, health = [], []
    with ScreeningLog(db_path) as log:
        station = Station(Config(sensors=(sc,), mask_mode="off"), log)
        stop = threading.Event()
        threading.Timer(12, stop.set).start()
        station.run(sc, stop, on_screening=got.append, on_health=health.append, count=2)
        stop.set()
    assert any(ev.health is Health.DEGRADED and "ambient" in ev.reason for ev in health), health
    assert got and all(s.decision is not Decision.ADMIT for s in got)
    assert all({"ambient-too-cold", "reading-too-low"} & set(s.reasons) for s in got)


@pytest.mark.parametrize("name", CASES)
def test_faulty_gun_spikes_degrade_the_sensor(sim_factory, name):
    spiky = dataclasses.replace(SCENARIOS["faulty-gun"], stuck_after_s=None, spike_share=0.15)
    sim, sensor = start(sim_factory, name, spiky)
    samples, events = collect(sensor, 8, lambda s, e: any(ev.health is Health.DEGRADED for ev in e))
    sensor.close()
    degraded = [ev for ev in events if ev.health is Health.DEGRADED]
    assert degraded and ("erratic" in degraded[0].reason or "device reports" in degraded[0].reason), events


@pytest.mark.parametrize("name", CASES)
def test_faulty_gun_frozen_value_is_a_fault(sim_factory, name):
    frozen = dataclasses.replace(SCENARIOS["faulty-gun"], stuck_after_s=0.5, spike_share=0.0)
    sim, sensor = start(sim_factory, name, frozen, limits=HealthLimits(stuck_count=15))
    samples, events = collect(sensor, 8, lambda s, e: any(ev.health is Health.FAULT for ev in e))
    sensor.close()
    assert any(ev.health is Health.FAULT and "stuck" in ev.reason for ev in events), events


@pytest.mark.parametrize("name", CASES)
def test_unplug_and_return_under_the_same_link(sim_factory, name):
    flaky = dataclasses.replace(SCENARIOS["unplug"], unplug_every_s=1.0, unplug_for_s=0.6)
    sim, sensor = start(sim_factory, name, flaky)
    link = sim.path
    samples, events = collect(sensor, 8, lambda s, e: sum(ev.health is Health.OFFLINE for ev in e) >= 2
                              and e[-1].health is Health.OK)
    after = collect(sensor, 3, lambda s, e: len(s) >= 3)[0]
    sensor.close()
    assert sum(ev.health is Health.OFFLINE for ev in events) >= 2, events
    assert events[-1].health is Health.OK and len(after) >= 3
    assert os.path.islink(link) and sim.unplugs >= 2


@pytest.mark.parametrize("name", CASES)
def test_line_noise_yields_no_wild_values(sim_factory, name):
    sim, sensor = start(sim_factory, name, "noise", seed=8)
    samples, events = collect(sensor, 4)
    sensor.close()
    assert len(samples) >= 10
    for s in samples:
        assert 19.0 <= s.object_c <= 40.0, s  # background or a person; nothing else is in the scene
        assert s.ambient_c is None or 19.0 <= s.ambient_c <= 25.0
    assert Health.FAULT not in [ev.health for ev in events]
