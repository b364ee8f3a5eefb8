"""`gate screen --source SENSOR`: a reported sensor reading is calibrated, locked out and audited like the live one."""
import json

import pytest

from domain import Decision, MaskResult, MaskState
from gate.config import Config, SensorConfig
from gate.station import Station
from storage import audit
from storage.log import ScreeningLog
from tests.support import run_gate

GUN = '[station]\nid = "north"\n[[sensors]]\nid = "gun-1"\nprotocol = "gy-mcu90614"\nurl = "/dev/null"\n'


def gate(*args, stdin=""):
    return run_gate(*args, input=stdin)


@pytest.fixture
def gun(tmp_path):
    cfg = tmp_path / "gun.toml"
    cfg.write_text(GUN, encoding="utf-8")
    return ["--config", cfg, "--db", tmp_path / "gate.db"]


def test_a_gun_locked_by_a_failed_daily_check_never_admits_from_the_command_line(gun, tmp_path):
    fit = gate("calibrate", "fit", "--sensor", "gy-mcu90614:gun-1", "--point", "35:35.0,35.0,35.1",
               "--point", "40:40.0,40.1,40.0", "--reference-id", "BB-1", "--operator", "li", *gun)
    assert fit.returncode == 0, fit.stderr
    ok = json.loads(gate("screen", "--temp", "36.6", "--source", "gun-1", "--mask", "yes", "--json", *gun).stdout)
    assert ok["decision"] == "admit"
    check = gate("calibrate", "check", "--sensor", "gy-mcu90614:gun-1", "--point", "37:39.0,39.1,39.0",
                 "--reference-id", "BB-1", "--operator", "li", *gun)
    assert check.returncode == 1 and "FAIL" in check.stdout
    out = gate("screen", "--temp", "36.6", "--source", "gun-1", "--mask", "yes", "--json", *gun)
    d = json.loads(out.stdout)
    assert d["decision"] == "retest" and "calibration-overdue" in d["reasons"]
    with ScreeningLog(tmp_path / "gate.db") as log:
        entries = [e for e in audit.events(log) if e["action"] == "sensor-entry"]
    assert [e["detail"]["screening"] for e in entries] == [d["id"], ok["id"]]
    assert entries[0]["detail"]["calibration_ok"] is False and entries[1]["detail"]["calibration_ok"] is True
    assert entries[0]["detail"]["sensor"] == "gy-mcu90614:gun-1"


def test_a_source_that_is_no_sensor_of_the_station_is_refused_and_nothing_is_stored(gun, tmp_path):
    out = gate("screen", "--temp", "36.6", "--source", "gun-9", "--mask", "yes", *gun)
    assert out.returncode == 2 and "'gun-9' is not a sensor of this station (sensors: gun-1)" in out.stderr
    assert "nothing was stored" in out.stderr and out.stdout == ""
    assert not (tmp_path / "gate.db").exists() or ScreeningLog(tmp_path / "gate.db").verify().rows == 0


def test_the_sensors_calibration_is_applied_to_a_reported_reading(db_path):
    from gate.calibration import calibrate
    from domain import Point
    from storage import calibrations

    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url="/dev/null")
    with ScreeningLog(db_path) as log:
        st = Station(Config(sensors=(sc,), mask_mode="off"), log)
        points = [Point(t, (0.97 * t - 1.2,) * 3) for t in (35.0, 37.0, 40.0)]
        rec = calibrate("gy-mcu90614:gun-1", points, reference_id="BB", reference_uncertainty_c=0.1,
                        operator="li", body_site_offset_c=0.0, max_correction_c=2.5)  # this gun reads 2.3 °C low
        calibrations.save(log, rec, "gate-1")
        s = st.sensor_entry("gun-1", round(0.97 * 38.5 - 1.2, 3), mask=MaskResult(MaskState.YES), operator="li")
        # 36.145 raw would pass uncorrected; calibrated it is a fever.
        assert s.readings[0].calibration_id == rec.id and s.readings[0].body_c == pytest.approx(38.5, abs=0.01)
        assert s.decision is not Decision.ADMIT and "fever-suspected" in s.reasons
        with pytest.raises(LookupError, match="not a sensor of this station"):
            st.sensor_entry("gun-2", 36.5)
