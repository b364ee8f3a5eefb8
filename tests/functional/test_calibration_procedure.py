"""The blackbody procedure the command line and the maintenance wizard share: frames in, stable points, one record;
and `gate calibrate run` driving a simulated blackbody through it, end to end."""
from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DeviceFailure
from gate.calibration import CalibrationError
from gate.calibration_procedure import BlackbodyProcedure, Step, measure, parse_set_points
from sim.scenarios import SCENARIOS
from tests.support import run_gate


def procedure(points=(35.0, 40.0), **kw) -> BlackbodyProcedure:
    return BlackbodyProcedure("gy-mcu90614:gun-1", list(points), reference_id="BB-7", operator="li",
                              **{"samples": 3, "per_reading": 2, **kw})


def feed(proc: BlackbodyProcedure, values) -> list[Step]:
    return [proc.add_frame(v) for v in values]


def test_steady_frames_give_one_point_per_set_point_and_a_passing_record():
    proc = procedure()
    steps = feed(proc, [34.0] * 6)
    assert steps[-1] is Step.NEXT_POINT and set(steps[:-1]) == {Step.MEASURING} and proc.set_c == 40.0
    assert proc.progress() == (6, 12)
    assert feed(proc, [39.0] * 6)[-1] is Step.FINISHED and proc.finished and proc.set_c is None
    record = proc.record(now=1000.0)
    assert record.result == "pass" and record.kind == "full" and record.operator == "li"
    assert [p.readings for p in record.points] == [(34.0,) * 3, (39.0,) * 3]
    assert abs(record.gain * 34.0 + record.offset_c - 35.0) < 1e-6 and record.due == 1000.0 + 30 * 86400


def test_an_unsteady_point_is_measured_again_then_kept_as_unstable_and_the_calibration_fails():
    proc = procedure(points=(35.0, 37.0), max_tries=2)
    assert feed(proc, [35.0] * 6)[-1] is Step.NEXT_POINT  # a steady first point
    wobbly = [37.0, 37.0, 37.5, 37.5, 37.0, 37.0]  # readings 37.0, 37.5, 37.0: spread 0.5 °C
    assert feed(proc, wobbly)[-1] is Step.AGAIN and proc.tries == 1 and proc.last_unstable.spread == 0.5
    assert feed(proc, wobbly)[-1] is Step.AGAIN and proc.tries == 2
    assert feed(proc, wobbly)[-1] is Step.FINISHED  # tries used up: recorded as it is
    record = proc.record()
    assert record.result == "fail" and "unstable" in record.note


def test_a_point_that_settles_after_a_repeat_counts_only_its_steady_readings():
    proc = procedure(points=(37.0,), full=False)  # a daily check's one point
    feed(proc, [36.0, 36.0, 36.6, 36.6, 36.9, 36.9])
    assert feed(proc, [36.9] * 6)[-1] is Step.FINISHED and proc.points[0].readings == (36.9, 36.9, 36.9)


@pytest.mark.parametrize("text, says", [
    ("", "1 to 5"), ("35,36,37,38,39,40", "1 to 5"), ("34.9", "outside 35–42"), ("35;37", "numbers separated"),
    ("abc", "numbers separated"),
])
def test_bad_set_points_are_refused_before_anyone_heats_a_blackbody(text, says):
    with pytest.raises(CalibrationError, match=says):
        parse_set_points(text)


def test_a_missing_reference_or_an_unfinished_procedure_is_refused():
    with pytest.raises(CalibrationError, match="reference id"):
        BlackbodyProcedure("s", [35.0, 40.0], reference_id="  ", operator="li")
    with pytest.raises(CalibrationError, match="one point is a daily check only"):  # before the blackbody is heated
        BlackbodyProcedure("s", [37.0], reference_id="BB", operator="li")
    with pytest.raises(CalibrationError, match="only 1.5 °C apart"):
        BlackbodyProcedure("s", [36.0, 37.5], reference_id="BB", operator="li")
    proc = procedure()
    feed(proc, [34.0] * 6)
    with pytest.raises(CalibrationError, match="1 of 2 set points"):
        proc.record()


def test_a_silent_sensor_is_a_device_failure():
    with pytest.raises(DeviceFailure, match="no readings from the sensor at 35.0"):
        measure(procedure(), lambda: None)


@given(st.lists(st.floats(20.0, 50.0), min_size=1, max_size=60))
def test_any_frames_never_skip_a_set_point_or_lose_a_reading(frames):
    proc = procedure(points=(35.0, 37.0, 40.0), max_tries=3)
    steps = feed(proc, frames)
    assert len(proc.points) == sum(s in (Step.NEXT_POINT, Step.FINISHED) for s in steps)
    assert all(len(p.readings) == 3 for p in proc.points)
    assert [p.set_c for p in proc.points] == [35.0, 37.0, 40.0][:len(proc.points)]


def test_gate_calibrate_run_corrects_a_simulated_gun_through_a_simulated_blackbody(sim_factory, tmp_path, db_path):
    # The README's case: a gun reading 0.97 × true − 1.2 °C, driven by `--blackbody-control` as `gate sim` would be.
    # It reads 2.3 °C low at 37 °C, more than the default bound: the school allowed 2.5 °C in its config.
    config = tmp_path / "station.toml"
    config.write_text("[calibration]\nmax_correction_c = 2.5\n", encoding="utf-8")
    control = tmp_path / "blackbody"
    control.write_text("", encoding="ascii")
    faulty = dataclasses.replace(SCENARIOS["normal-morning"], gain=0.97, offset_c=-1.2, noise_c=0.02)
    sim = sim_factory("gy-mcu90614", faulty, seed=5)
    sim.scene.blackbody_control = str(control)
    out = run_gate("calibrate", "run", "--url", sim.path, "--protocol", "gy-mcu90614", "--sensor-id", "gun-1",
                   "--points", "35,40", "--samples", "3", "--reference-id", "BB-7", "--operator", "li",
                   "--blackbody-control", control, "--db", db_path, "--json", "--config", config)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["result"] == "pass" and record["sensor"] == "gy-mcu90614:gun-1"
    assert abs(record["fit"]["gain"] - 1 / 0.97) < 0.02 and all(abs(r) <= 0.3 for r in record["residuals"])
    assert control.read_text(encoding="ascii") == ""  # the blackbody is released at the end
    listed = run_gate("calibrate", "list", "--db", db_path, "--json")
    assert json.loads(listed.stdout)["id"] == record["id"]
