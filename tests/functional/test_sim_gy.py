"""Driver against simulator over real ptys: readings, query mode, presence, unplug and return under the same link."""
import json
import os
import subprocess
import sys
import threading

from drivers.base import Health
from drivers.measurement import PresenceDetector
from drivers.sensor import Sensor
from gate.config import Config, SensorConfig
from gate.station import Station
from sim.camera import SimulatedMask
from storage.log import ScreeningLog
from tests.support import ROOT, env_with_root, measurements_until, poll_until, wait_until


def test_continuous_stream_over_a_real_pty(sim_factory):
    sim = sim_factory()
    assert os.path.islink(sim.path) and os.readlink(sim.path).startswith("/dev/pts/")
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    seen, events = poll_until(sensor, lambda s, e: len(s) >= 14, 3)
    sensor.close()
    assert len(seen) >= 14
    assert any(ev.health is Health.OK for ev in events)
    for s in seen:
        assert 15 < s.object_c < 45 and 15 < s.ambient_c < 30


def test_query_mode_gets_answers(sim_factory):
    sim = sim_factory()
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path, mode="query")
    sensor.open()
    port = sensor.device.port

    def quiet() -> bool:  # the "auto off" command has landed once nothing more streams in between two looks
        waiting = port.in_waiting
        port.reset_input_buffer()
        return waiting == 0

    assert wait_until(quiet, interval=0.1)
    frame = sensor.device.query()
    assert frame is not None and 15 < frame.ambient_c < 30
    seen, _ = poll_until(sensor, lambda s, e: len(s) >= 5, 3)
    sensor.close()
    assert len(seen) >= 5


def test_each_person_becomes_one_measurement(sim_factory):
    sim = sim_factory(scenario="fevers", seed=7, pace=3.0)
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    det = PresenceDetector()
    measurements = measurements_until(sensor, det, 4)
    sensor.close()
    people = [p for p in sim.scene.people_until(sim.now()) if p.leave < sim.now()]
    assert len(measurements) >= 3
    # Each measurement matches one person who stood there, to the sensor's noise.
    for m in measurements[:3]:
        assert any(abs(m.object_c - p.temperature_c) < 0.15 for p in people), (m, people)


def test_unplug_goes_offline_at_once_and_readings_resume_after_return(sim_factory):
    sim = sim_factory()
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    poll_until(sensor, lambda s, e: len(s) >= 5, 3)
    sim.unplug()
    _, events = poll_until(sensor, lambda s, e: any(ev.health is Health.OFFLINE for ev in e))
    assert any(ev.health is Health.OFFLINE for ev in events)
    assert not os.path.exists(sim.path)
    # The port stays away until the sensor has retried so often that its backoff is at its ceiling.
    poll_until(sensor, lambda s, e: sensor._backoff >= sensor._backoff_max)
    sim.plug()
    seen, events = poll_until(sensor, lambda s, e: len(s) >= 3)
    assert len(seen) >= 3
    assert sensor.health is Health.OK
    sensor.close()
    assert threading.active_count() < 10


def test_station_screens_people_from_the_simulator(sim_factory, db_path):
    sim = sim_factory(scenario="fevers", seed=11, pace=3.0)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    got = []
    with ScreeningLog(db_path) as log:
        station = Station(Config(sensors=(sc,)), log, mask_source=SimulatedMask(sim))
        station.run(sc, threading.Event(), on_screening=got.append, count=3)
        assert log.ids() == {s.id for s in got}
        assert log.verify().ok
    assert len(got) == 3
    for s in got:
        assert s.reading.source == "gun-1" and s.reading.ambient_c is not None
        assert s.decision.value in ("admit", "retest", "deny")


def test_gate_run_headless_against_gate_sim(tmp_path, db_path):
    link = tmp_path / "ttyGY"
    sim = subprocess.Popen([sys.executable, "-m", "gate.cli", "sim", "--protocol", "gy-mcu90614", "--scenario",
                            "fevers", "--link", str(link), "--seed", "5", "--pace", "3"], stdout=subprocess.PIPE, text=True,
                           env=env_with_root(), cwd=ROOT)
    try:
        line = sim.stdout.readline()
        assert "/dev/pts/" in line and link.is_symlink()
        out = subprocess.run([sys.executable, "-m", "gate.cli", "run", "--url", str(link), "--protocol",
                              "gy-mcu90614", "--headless", "--count", "3", "--db", str(db_path)],
                             capture_output=True, text=True, env=env_with_root(), timeout=60)
        assert out.returncode == 0, out.stderr
        decisions = [json.loads(x) for x in out.stdout.splitlines()]
        assert len(decisions) == 3
        with ScreeningLog(db_path) as log:
            assert {d["id"] for d in decisions} == log.ids()
        for d in decisions:
            assert d["decision"] in ("admit", "deny", "retest") and d["temperature_c"] > 30
    finally:
        sim.terminate()
        sim.wait(5)


def test_warm_up_then_ok(sim_factory):
    from drivers.sensor import HealthLimits

    sim = sim_factory()
    sensor = Sensor("imager", "gy-mcu90614", sim.path, limits=HealthLimits(warmup_s=0.6))
    _, events = poll_until(sensor, lambda s, e: any(ev.health is Health.OK for ev in e))
    sensor.close()
    states = [ev.health for ev in events]
    assert states[0] is Health.WARMING and Health.OK in states


def test_a_silent_device_is_a_fault(tmp_path):
    from drivers.sensor import HealthLimits
    from sim.port import PtyPort

    port = PtyPort(tmp_path / "silent")  # plugged in, says nothing
    try:
        sensor = Sensor("gun-1", "gy-mcu90614", str(port.link), limits=HealthLimits(no_data_s=0.5))
        _, events = poll_until(sensor, lambda s, e: any(ev.health is Health.FAULT for ev in e))
        sensor.close()
    finally:
        port.close()
    assert any(ev.health is Health.FAULT and "no data" in ev.reason for ev in events)


def test_an_unknown_protocol_or_option_is_refused_clearly(tmp_path):
    import pytest

    from drivers.base import SensorError

    with pytest.raises(ValueError, match="supported"):
        Sensor("x", "acme-9000", "/dev/null")
    with pytest.raises(SensorError, match="does not exist"):
        Sensor("x", "gy-mcu90614", str(tmp_path / "nope")).open()
