"""The screening policy lives in the log: another config never screens anyone until an admin applies it."""
import json
import sqlite3

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from gate.auth import Auth, User
from gate.config import Config, SensorConfig
from gate.station import Station
from gate.station_policy import PolicyMismatch, PolicyNotStored, PolicyTampered, enforce, snapshot
from storage import audit
from storage import policy as stored_policy
from storage.log import ScreeningLog
from tests.support import run_gate


def reading(v):
    return Reading(object_c=v, body_c=v, source="manual", operator="li")


@pytest.fixture
def log(tmp_path):
    with ScreeningLog(tmp_path / "gate.db") as log:
        yield log


def test_a_new_log_takes_the_first_configs_policy_and_audits_it(log):
    Station(Config(station_id="north"), log)
    assert stored_policy.current(log) == snapshot(Config(station_id="north"))
    events = [e for e in audit.events(log) if e["action"] == "policy-applied"]
    assert len(events) == 1 and events[0]["actor"] == "station"
    assert events[0]["detail"]["policy"]["threshold_c"] == 37.3


def test_a_pupils_config_with_a_higher_threshold_and_no_mask_check_is_refused(log):
    Station(Config(), log)
    lax = Config(threshold_c=39.0, mask_mode="off", source="other.toml")
    with pytest.raises(PolicyMismatch) as refused:
        Station(lax, log)
    text = str(refused.value)
    assert "threshold_c (37.3 → 39.0)" in text and 'mask_mode ("must-wear" → "off")' in text
    assert "gate config apply other.toml" in text and "other.toml" in text
    assert stored_policy.current(log)["threshold_c"] == 37.3
    # The station's own config still screens, with the stored threshold.
    s = Station(Config(), log).screen([reading(38.8)], MaskResult(MaskState.NO))
    assert s.decision is not Decision.ADMIT


def test_an_admin_applies_a_change_audited_from_to(log):
    Station(Config(), log)
    changes = enforce(Config(threshold_c=37.5, source="new.toml"), log, actor="wang", apply=True)
    assert [c.key for c in changes] == ["threshold_c"]
    last = [e for e in audit.events(log) if e["action"] == "policy-applied"][0]
    assert last["actor"] == "wang" and last["detail"]["changed"] == {"threshold_c": {"from": 37.3, "to": 37.5}}
    Station(Config(threshold_c=37.5), log)  # now the new config is the station's
    with pytest.raises(PolicyMismatch):
        Station(Config(), log)


def test_a_new_port_is_not_a_policy_change_but_a_new_sensor_is(log):
    gun = SensorConfig(id="gun-1", protocol="gy-mcu90614", url="/dev/ttyUSB0")
    Station(Config(sensors=(gun,)), log)
    moved = SensorConfig(id="gun-1", protocol="gy-mcu90614", url="/dev/ttyUSB1", baud=115200)
    Station(Config(sensors=(moved,)), log)
    extra = SensorConfig(id="gun-2", protocol="gy-mcu90614", url="/dev/ttyUSB2")
    with pytest.raises(PolicyMismatch, match="sensors"):
        Station(Config(sensors=(moved, extra)), log)
    colder = SensorConfig(id="gun-1", protocol="gy-mcu90614", url="/dev/ttyUSB1", ambient_min_c=0.0)
    with pytest.raises(PolicyMismatch, match="sensors"):
        Station(Config(sensors=(colder,)), log)


def _sql(log, statement, *args):
    con = sqlite3.connect(log.path)
    con.execute(statement, args)
    con.commit()
    con.close()


def test_a_policy_edited_in_the_file_is_refused_until_an_admin_reapplies(log):
    Station(Config(), log)
    lax = Config(threshold_c=39.0, mask_mode="off")
    _sql(log, "UPDATE station_policy SET content = ?", json.dumps(snapshot(lax), sort_keys=True))
    assert "edited outside the station" in stored_policy.check(log)
    for cfg in (lax, Config()):
        with pytest.raises(PolicyTampered, match="gate verify"):
            Station(cfg, log)
    enforce(Config(), log, actor="wang", apply=True)
    assert stored_policy.check(log) is None
    Station(Config(), log)


def test_a_deleted_policy_is_not_silently_replaced_by_whatever_config_comes_next(log):
    Station(Config(), log)
    _sql(log, "DELETE FROM station_policy")
    with pytest.raises(PolicyTampered, match="removed"):
        Station(Config(threshold_c=39.0), log)


# -- from a shell, as a pupil at an unlocked PC and as the admin would ---------------------------------------------
def gate(*args, stdin=""):
    return run_gate(*args, input=stdin)


def rows(db):
    return sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0]


def test_from_a_shell_another_config_is_refused_and_only_an_admin_applies_it(tmp_path):
    db = tmp_path / "gate.db"
    station = tmp_path / "station.toml"
    station.write_text('[station]\nid = "north"\n', encoding="utf-8")
    lax = tmp_path / "other.toml"
    lax.write_text('[station]\nid = "north"\n[screening]\nthreshold_c = 39.0\nmask_mode = "off"\n', encoding="utf-8")
    assert gate("screen", "--temp", "36.6", "--mask", "yes", "--db", db, "--config", station).returncode == 0
    refused = gate("screen", "--temp", "38.8", "--db", db, "--config", lax)
    assert refused.returncode == 1 and "threshold_c (37.3 → 39.0)" in refused.stderr
    assert "Traceback" not in refused.stderr and rows(db) == 1
    with ScreeningLog(db) as log:
        auth = Auth(log, "north")
        auth.add_user("wang", "admin", "900417", None)
        auth.add_user("zhang", "duty", "531864", User("wang", "admin"))
    by_duty = gate("config", "apply", lax, "--db", db, "--user", "zhang", "--pin-stdin", stdin="531864\n")
    assert by_duty.returncode == 1 and "admin" in by_duty.stderr
    nobody = gate("config", "apply", lax, "--db", db)
    assert nobody.returncode != 0 and "--user" in nobody.stderr
    wrong_pin = gate("config", "apply", lax, "--db", db, "--user", "wang", "--pin-stdin", stdin="318274\n")
    assert wrong_pin.returncode == 1
    with ScreeningLog(db) as log:
        assert stored_policy.current(log)["threshold_c"] == 37.3
    ok = gate("config", "apply", lax, "--db", db, "--user", "wang", "--pin-stdin", stdin="900417\n")
    assert ok.returncode == 0 and "threshold_c (37.3 → 39.0)" in ok.stdout, ok.stderr
    with ScreeningLog(db) as log:
        applied = [e for e in audit.events(log) if e["action"] == "policy-applied"][0]
        assert applied["actor"] == "wang" and applied["detail"]["changed"]["mask_mode"]["to"] == "off"
    again = gate("config", "apply", lax, "--db", db, "--user", "wang", "--pin-stdin", stdin="900417\n")
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_gate_verify_reports_a_policy_edited_in_the_file(tmp_path):
    db = tmp_path / "gate.db"
    assert gate("screen", "--temp", "36.6", "--mask", "yes", "--db", db).returncode == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE station_policy SET content = replace(content, '37.3', '39.0')")
    con.commit()
    con.close()
    out = gate("verify", "--db", db)
    assert out.returncode == 1 and "POLICY" in out.stderr and "edited outside the station" in out.stderr
    refused = gate("screen", "--temp", "38.8", "--mask", "yes", "--db", db)
    assert refused.returncode != 0 and rows(db) == 1


def _staffed(log):
    auth = Auth(log, "north")
    auth.add_user("wang", "admin", "902741", None)
    auth.add_user("li", "duty", "581302", User("wang", "admin"))


def test_with_users_a_station_screens_nobody_until_an_admin_applies_the_first_policy(log):
    _staffed(log)
    station = Station(Config(threshold_c=39.0, mask_mode="off", source="other.toml"), log)
    assert isinstance(station.policy_refusal, PolicyNotStored)
    with pytest.raises(PolicyNotStored, match="no screening policy is stored with this log yet"):
        station.screen([reading(38.5)], MaskResult(MaskState.NO), operator="li")
    assert log.count() == 0 and stored_policy.current(log) is None
    enforce(Config(), log, actor="wang", apply=True)  # `gate config apply station.toml --user wang` meanwhile
    with pytest.raises(PolicyMismatch, match="threshold_c"):  # the duty station's other config is now refused
        station.screen([reading(38.5)], MaskResult(MaskState.NO), operator="li")
    same = Station(Config(), log)
    assert same.policy_refusal is None
    assert same.screen([reading(38.5)], MaskResult(MaskState.YES), operator="li").decision is Decision.RETEST


async def test_the_duty_screen_says_at_once_that_an_admin_must_apply_the_policy(log):
    from gate.ui.app import build_app
    from tests.support import pilot_wait_until

    _staffed(log)
    app = build_app(Config(language="en", station_id="north"), log, show_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        message = app.duty.query_one("#message")
        assert await pilot_wait_until(pilot, lambda: "no screening policy is stored" in str(message.render()))
        assert "LOG FAILURE" in str(app.duty.query_one("#banner").render())
        assert "Do not admit anyone" in str(message.render())
    assert log.count() == 0
