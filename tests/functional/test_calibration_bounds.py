"""A calibration cannot move readings by degrees: a tired technician's wrong set point is refused with the point that
looks wrong, nothing is stored, and fevers are still caught afterwards."""
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import Decision
from drivers.sensor import Sensor
from gate.calibration import CalibrationError, Point, calibrate, collect_point, fit, refusals
from sim.scenarios import SCENARIOS
from storage import calibrations
from tests.support import run_gate, wait_until
from tests.functional.test_calibration import exact, screen_raw, station  # noqa: F401  (the fixture: a station on a real log)

COMMON = dict(reference_id="BB-7", reference_uncertainty_c=0.1, operator="li")


def gate(*args):
    return run_gate(*args)


@pytest.mark.parametrize("point, shift", [("35:37.0,37.0,37.1", "-2.03"), ("35:20.1,20.0,20.1", "+14.93")])
def test_the_issue_cases_are_refused_with_the_point_that_looks_wrong(db_path, point, shift):
    out = gate("calibrate", "fit", "--sensor", "gy-mcu90614:gun-1", "--reference-id", "BB-7", "--operator", "li",
               "--point", point, "--db", db_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "was the blackbody really at 35?" in out.stderr and f"{shift} °C" in out.stderr
    assert "daily check only" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    listed = gate("calibrate", "list", "--db", db_path)
    assert listed.returncode == 0 and listed.stdout.strip() == ""  # nothing was stored


def test_one_point_or_points_too_close_are_no_full_calibration():
    with pytest.raises(CalibrationError, match="daily check only"):
        calibrate("s", [Point(37.0, (36.9, 36.9))], **COMMON)
    with pytest.raises(CalibrationError, match="only 1.0 °C apart"):
        calibrate("s", exact(1.0, 0.0, [36.0, 37.0]), **COMMON)
    assert calibrate("s", exact(1.0, 0.0, [35.0, 37.0]), **COMMON).result == "pass"  # 2 °C apart is enough


def test_a_gain_outside_0_9_to_1_1_names_the_pair_or_the_point_off_the_line():
    with pytest.raises(CalibrationError, match=r"gain 0\.800 .*points 35 and 37: the readings rose 2\.50"):
        calibrate("s", [Point(35.0, (35.0,)), Point(37.0, (37.5,))], **COMMON)
    wrong = [Point(35.0, (35.0,)), Point(37.0, (37.0,)), Point(40.0, (36.5,))]  # 40 °C read 36.5: set point typo
    problems = refusals(wrong)
    assert any("gain" in p for p in problems) and "point 40: readings average 36.50 °C" in problems[-1]


def test_a_residual_over_tolerance_says_which_point_is_off_the_line():
    rec = calibrate("s", [Point(35.0, (35.0,)), Point(37.0, (37.6,)), Point(40.0, (40.0,)), Point(41.0, (41.0,))],
                    tolerance_c=0.2, **COMMON)
    assert rec.result == "fail" and "point 37" in rec.note and "off the line" in rec.note


def test_the_configured_bound_is_obeyed():
    pts = exact(1.0, -1.2, [35.0, 40.0])  # a gun reading 1.2 °C low
    with pytest.raises(CalibrationError, match=r"\+1\.20 °C, more than the ±1 °C"):
        calibrate("s", pts, **COMMON)
    assert calibrate("s", pts, max_correction_c=1.5, **COMMON).result == "pass"
    with pytest.raises(CalibrationError, match="outside 0.2–3 °C"):  # no caller can lift the ceiling
        calibrate("s", exact(1.0, -8.0, [35.0, 40.0]), max_correction_c=10.0, **COMMON)


def test_a_negative_body_site_offset_is_refused():
    for bad in (-0.5, 4.5):
        with pytest.raises(CalibrationError, match="skin reads colder than the core"):
            calibrate("s", exact(1.0, 0.0, [35.0, 40.0]), body_site_offset_c=bad, **COMMON)


@given(st.lists(st.tuples(st.floats(35.0, 42.0), st.floats(20.0, 50.0)), min_size=1, max_size=5))
def test_no_accepted_calibration_moves_a_37_degree_reading_by_more_than_the_bound(pairs):
    points = [Point(s, (r,)) for s, r in pairs]
    try:
        rec = calibrate("s", points, **COMMON)
    except CalibrationError as exc:
        assert str(exc)  # refused, with a reason
        return
    assert abs(rec.gain * 37.0 + rec.offset_c - 37.0) <= 1.0 + 1e-6 and 0.9 <= rec.gain <= 1.1
    assert len({p.set_c for p in points}) >= 2 and max(s for s, _ in pairs) - min(s for s, _ in pairs) >= 2 - 1e-9


def test_fit_still_refuses_an_implausible_gain_with_the_point():
    with pytest.raises(CalibrationError, match="implausible.*point 35"):
        fit([Point(35.0, (37.0,)), Point(40.0, (40.0,))])


def test_after_a_refused_bad_calibration_simulated_fevers_are_still_not_admitted(sim_factory, station):  # noqa: F811
    st_, sc = station
    sim = sim_factory("gy-mcu90614", dataclasses.replace(SCENARIOS["normal-morning"], noise_c=0.03), seed=8)
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    sensor.open()

    def sees(blackbody_c):
        """Point the simulated gun at the blackbody; the first reading near it (the sim's gain is 1)."""
        sim.set_blackbody(blackbody_c)
        return wait_until(lambda: (v := sensor.next_value()) is not None and abs(v - blackbody_c) < 0.3 and v)

    def at(blackbody_c, typed_c):
        assert sees(blackbody_c)
        return collect_point(typed_c, sensor.next_value, 5, wait=lambda: None)

    # The blackbody was at 37, the technician typed 35 (and, in the second try, a correct 40 beside it).
    for points in ([at(37.0, 35.0)], [at(37.0, 35.0), at(40.0, 40.0)]):
        with pytest.raises(CalibrationError, match="was the blackbody really at 35"):
            calibrate("gy-mcu90614:gun-1", points, **COMMON)
    assert calibrations.records(st_.log, "gy-mcu90614:gun-1") == []
    st_.forget_calibration_cache()
    for fever in (38.7, 38.8, 38.9, 39.0):
        raw = sees(fever)
        s = screen_raw(st_, sc, raw)
        assert s.decision is not Decision.ADMIT and "fever-suspected" in s.reasons, (fever, raw, s.reasons)
        assert raw - 2.03 < 37.3  # the refused correction would have admitted this fever
    sensor.close()
