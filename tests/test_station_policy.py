"""The screening policy lives in the log: another config never screens anyone until an admin applies it."""
import json
import sqlite3

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from gate.config import Config, SensorConfig
from gate.station import Station
from gate.station_policy import PolicyMismatch, PolicyTampered, enforce, snapshot
from storage import audit
from storage import policy as stored_policy
from storage.log import ScreeningLog


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
