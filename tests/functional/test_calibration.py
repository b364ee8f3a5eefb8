"""Calibration: the fit, the simulated blackbody procedure, records, daily checks, lockout and due dates."""
import dataclasses
import json
import statistics
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import Health
from drivers.measurement import Measurement
from drivers.sensor import Sensor
from gate.calibration import (
    CalibrationError,
    Point,
    calibrate,
    collect_point,
    daily_check,
    fit,
    parse_point,
    status,
)
from gate.config import Config, SensorConfig
from domain import Decision, MaskResult, MaskState
from gate.station import Station
from sim.scenarios import SCENARIOS
from storage import audit, calibrations
from storage.log import ScreeningLog
from tests.support import read_or_refused, run_gate, wait_until


def exact(gain, offset, sets):
    return [Point(s, (gain * s + offset,)) for s in sets]


def test_one_point_fits_an_offset_and_more_fit_gain_and_offset():
    one = fit(exact(1.0, -0.8, [37.0]))
    assert one.gain == 1.0 and one.offset_c == pytest.approx(0.8)
    three = fit(exact(0.97, -1.2, [35.0, 37.0, 40.0]))
    assert three.gain == pytest.approx(1 / 0.97, abs=1e-5) and three.offset_c == pytest.approx(1.2 / 0.97, abs=1e-3)
    assert all(abs(r) < 1e-3 for r in three.residuals)
    with pytest.raises(CalibrationError, match="implausible"):
        fit(exact(0.5, 10, [35.0, 40.0]))
    with pytest.raises(CalibrationError, match="same"):
        fit([Point(35.0, (36.0,)), Point(40.0, (36.0,))])


def test_a_residual_over_tolerance_or_an_unstable_point_fails():
    pts = [Point(35.0, (34.0,)), Point(37.0, (36.5,)), Point(40.0, (38.9,))]  # not a straight line
    rec = calibrate("s", pts, reference_id="BB", reference_uncertainty_c=0.05, operator="li", tolerance_c=0.1)
    assert rec.result == "fail" and len(rec.residuals) == 3 and rec.due is None
    shaky = [Point(35.0, (34.0, 34.3)), Point(40.0, (39.0, 39.0))]
    assert calibrate("s", shaky, reference_id="BB", reference_uncertainty_c=0.1, operator="li").result == "fail"
    edge = [Point(35.0, (34.6, 34.7, 34.6)), Point(40.0, (39.6, 39.7, 39.6))]  # spread exactly 0.1: stable
    assert calibrate("s", edge, reference_id="BB", reference_uncertainty_c=0.1, operator="li").result == "pass"
    with pytest.raises(CalibrationError, match="uncertainty"):
        calibrate("s", edge, reference_id="BB", reference_uncertainty_c=0.5, operator="li")


@given(st.text(max_size=40))
def test_written_points_either_parse_in_range_or_say_what_to_write(text):
    p = read_or_refused(parse_point, text, CalibrationError, "--point")
    if p is not None:
        assert 35.0 <= p.set_c <= 42.0 and p.readings and all(20 <= r <= 50 for r in p.readings)


def test_simulated_gun_calibrated_at_three_points_is_within_0_1_at_ten_new_ones(sim_factory):
    # The case: gain 0.97, offset -1.2 °C, noise 0.05 °C.
    faulty = dataclasses.replace(SCENARIOS["normal-morning"], gain=0.97, offset_c=-1.2, noise_c=0.05)
    sim = sim_factory("gy-mcu90614", faulty, seed=21)
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    sensor.open()

    def new_frames(n):
        """Wait until the simulator has sent ``n`` more frames (its pace, not a guess at a duration)."""
        sent = sim.model.frames_sent
        assert wait_until(lambda: sim.model.frames_sent >= sent + n), "the simulated gun stopped sending"

    def at(set_c):
        sim.set_blackbody(set_c)
        # A frame sent while the blackbody was being set may show the old scene: once two more have been sent, every
        # frame still in the buffer can go, and the next ones show the blackbody.
        new_frames(2)
        sensor.device.port.reset_input_buffer()
        return collect_point(set_c, sensor.next_value, 5, wait=lambda: new_frames(4))

    points = [at(s) for s in (35.0, 37.0, 40.0)]
    # This gun reads 2.3 °C low at 37 °C: more than the default bound, so the school allowed 2.5 °C in its config.
    record = calibrate("gy-mcu90614:gun-1", points, reference_id="BB-1", reference_uncertainty_c=0.1,
                       operator="li", max_correction_c=2.5)
    assert record.result == "pass", record
    errors = []
    for s in (35.5, 36.0, 36.5, 37.3, 37.8, 38.4, 39.0, 39.5, 40.5, 41.5):
        p = at(s)
        errors.append(abs(record.gain * p.mean + record.offset_c - s))
    sensor.close()
    assert max(errors) <= 0.1, errors


@pytest.fixture
def station(db_path):
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url="/dev/null")
    log = ScreeningLog(db_path)
    yield Station(Config(sensors=(sc,), mask_mode="off"), log), sc
    log.close()


class _Stub:
    """The Sensor attributes reading_from looks at (health); the measurement itself is given."""

    health = Health.OK
    reason = "ok"


def screen_raw(station, sc, raw):
    reading = station.reading_from(sc, Measurement(raw, 22.0, time.time(), 5), _Stub())
    return station.screen([reading], MaskResult(MaskState.YES))


def test_calibration_is_applied_beside_the_raw_value(station):
    st, sc = station
    rec = calibrate("gy-mcu90614:gun-1", exact(0.97, -1.2, [35.0, 37.0, 40.0]), reference_id="BB",
                    reference_uncertainty_c=0.1, operator="li", body_site_offset_c=0.0, max_correction_c=2.5)
    calibrations.save(st.log, rec, "gate-1")
    st.forget_calibration_cache()
    s = screen_raw(st, sc, 0.97 * 36.6 - 1.2)
    r = s.readings[0]
    assert r.object_c == pytest.approx(34.302) and r.body_c == pytest.approx(36.6, abs=0.01)
    assert r.calibration_id == rec.id and s.decision is Decision.ADMIT
    assert st.log.get(s.id).readings[0].object_c == pytest.approx(34.302)  # raw stays raw


def test_a_failed_daily_check_locks_out_until_recalibrated_and_both_are_recorded(station):
    st, sc = station
    good = calibrate("gy-mcu90614:gun-1", exact(1.0, 0.0, [35.0, 40.0]), reference_id="BB",
                     reference_uncertainty_c=0.1, operator="li")
    calibrations.save(st.log, good, "gate-1")
    check = daily_check("gy-mcu90614:gun-1", Point(37.0, (37.6, 37.6, 37.65)), good, reference_id="BB",
                        operator="zhang")
    assert check.result == "fail" and "+0.6" in check.note
    calibrations.save(st.log, check, "gate-1")
    st.forget_calibration_cache()
    for raw in (36.5, 36.8):
        s = screen_raw(st, sc, raw)
        assert s.decision is not Decision.ADMIT and "calibration-overdue" in s.reasons
    calibrations.save(st.log, calibrate("gy-mcu90614:gun-1", exact(1.0, 0.0, [35.0, 40.0]), reference_id="BB",
                                        reference_uncertainty_c=0.1, operator="li"), "gate-1")
    st.forget_calibration_cache()
    assert screen_raw(st, sc, 36.5).decision is Decision.ADMIT
    trail = [e["action"] for e in audit.events(st.log)]
    assert "sensor-locked" in trail and trail.count("sensor-unlocked") == 2


def test_overdue_warning_and_lockout():
    rec = calibrate("s", exact(1.0, 0.0, [35.0, 40.0]), reference_id="BB", reference_uncertainty_c=0.1,
                    operator="li", interval_days=30, now=1_000_000.0)
    assert status(rec, None, required=False, now=1_000_000.0 + 10 * 86400).usable
    soon = status(rec, None, required=False, now=1_000_000.0 + 28 * 86400)
    assert soon.usable and "due in 2 days" in soon.warn
    late = status(rec, None, required=False, now=1_000_000.0 + 31 * 86400)
    assert not late.usable and late.reason == "locked: calibration overdue"
    assert not status(None, None, required=True).usable and status(None, None, required=False).usable


def test_overdue_sensor_readings_never_admit(station):
    st, sc = station
    old = calibrate("gy-mcu90614:gun-1", exact(1.0, 0.0, [35.0, 40.0]), reference_id="BB",
                    reference_uncertainty_c=0.1, operator="li", now=time.time() - 40 * 86400)
    calibrations.save(st.log, old, "gate-1")
    st.forget_calibration_cache()
    s = screen_raw(st, sc, 36.4)
    assert s.decision is Decision.RETEST and "calibration-overdue" in s.reasons


def test_cli_fit_json_and_failure_exit(db_path, tmp_path):
    config = tmp_path / "station.toml"
    config.write_text("[calibration]\nmax_correction_c = 1.5\n", encoding="utf-8")  # this gun reads 1.04 °C low
    base = ["calibrate", "fit", "--sensor", "gy-mcu90614:gun-1", "--reference-id", "BB-7", "--operator", "li",
            "--db", db_path, "--json", "--config", config]
    ok = run_gate(*base, "--point", "35.0:34.0,34.0,34.05", "--point", "37:35.95,36.0,36.0",
                  "--point", "40:38.9,38.95,38.9")
    assert ok.returncode == 0, ok.stderr
    d = json.loads(ok.stdout)
    assert d["result"] == "pass" and len(d["residuals"]) == 3 and {"gain", "offset_c"} <= set(d["fit"])
    bad = run_gate(*base, "--point", "35.0:34.0", "--point", "37:36.6", "--point", "40:38.9", "--tolerance", "0.15")
    assert bad.returncode == 1 and json.loads(bad.stdout)["result"] == "fail"
    garbled = run_gate(*base, "--point", "35.0=34.0")
    assert garbled.returncode == 2 and "SET:READING" in garbled.stderr
    listed = run_gate("calibrate", "list", "--db", db_path, "--json")
    assert len(listed.stdout.splitlines()) == 2


def test_calibration_records_sync_upward(station, tmp_path):
    st, _ = station
    rec = calibrate("gy-mcu90614:gun-1", exact(1.0, 0.0, [35.0, 40.0]), reference_id="BB",
                    reference_uncertainty_c=0.1, operator="li")
    calibrations.save(st.log, rec, "gate-1")
    from sqlalchemy import create_engine, text

    from storage.sync import Sync

    url = f"sqlite:///{tmp_path / 'district.db'}"
    sync = Sync(st.log, url)
    sync.once()
    sync.close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select id, result from calibrations")).all() == [(rec.id, "pass")]
    engine.dispose()
