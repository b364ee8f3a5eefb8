"""Issue 12, "each default written once": the defaults the README promises are the ones `gate` uses when a config
leaves a key out, and `gate config example` writes the same values (an example applied to a log made without any
config changes nothing of its screening policy)."""
import json
import tomllib

import pytest

from tests.support import run_gate

# README "Screening policy", "Calibration", "Roles, PINs": the stored policy of a config that says nothing
README_POLICY = {"threshold_c": 37.3, "plausible_min_c": 34.0, "plausible_max_c": 43.0, "mask_mode": "must-wear",
                 "calibration_required": False, "body_site_offset_c": 0.0, "lockout_failures": 10,
                 "lockout_minutes": 30.0, "sensors": []}


def _first_policy(db):
    r = run_gate("audit", "list", "--db", str(db), "--json")
    applied = [json.loads(line) for line in r.stdout.splitlines() if '"policy-applied"' in line]
    assert len(applied) == 1, r.stdout
    return applied[0]["detail"]["policy"]


@pytest.mark.parametrize("config", ["", '[station]\nid = "north-1"\n', "[screening]\n", "[security]\n[calibration]\n"])
def test_a_config_that_leaves_the_keys_out_stores_the_readmes_defaults(tmp_path, config):
    cfg = tmp_path / "c.toml"
    cfg.write_text(config, encoding="utf-8")
    db = tmp_path / "g.db"
    r = run_gate("screen", "--config", str(cfg), "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 0, r.stderr
    assert _first_policy(db) == README_POLICY
    # and with no config at all the same policy: no "differs" refusal between the two
    r = run_gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 0, r.stderr


def test_the_example_config_writes_the_same_defaults(tmp_path):
    example = run_gate("config", "example").stdout
    data = tomllib.loads(example)
    assert data["screening"]["threshold_c"] == README_POLICY["threshold_c"]
    assert data["screening"]["mask_mode"] == README_POLICY["mask_mode"]
    assert data["security"]["lockout_failures"] == 10 and data["security"]["lockout_minutes"] == 30
    assert data["retention"] == {"screening_days": 30, "audit_days": 365}
    assert data["calibration"]["required"] is False and data["calibration"]["tolerance_c"] == 0.3
    assert data["calibration"]["interval_days"] == 30 and data["calibration"]["max_correction_c"] == 1.0
    assert data["calibration"]["body_site_offset_c"] == 0.0
    assert data["clusters"] == {"same_day_pupils": 3, "window_days": 3, "window_pupils": 5}
    assert data["upstream"]["lock_wait_s"] == 10
    assert all(s["ambient_min_c"] == 10.0 and s["ambient_max_c"] == 40.0 for s in data["sensors"])
    # the example itself checks clean
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    r = run_gate("config", "check", str(path))
    assert r.returncode == 0, r.stderr
    # applied to a log made without a config (its sensor aside), it changes nothing of the screening policy
    db = tmp_path / "g.db"
    assert run_gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes").returncode == 0
    path.write_text(example.split("[[sensors]]")[0] + "[school]" + example.split("[school]", 1)[1], encoding="utf-8")
    r = run_gate("screen", "--config", str(path), "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 0, r.stderr


@pytest.fixture
def sensor_log(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text('[[sensors]]\nid = "gun-1"\nprotocol = "text-line"\nurl = "loop://"\ntrigger = "each-reading"\n',
                   encoding="utf-8")
    return cfg, tmp_path / "g.db"


@pytest.mark.parametrize("ambient, decision", [("9.9", "RETEST"), ("10", "ADMIT"), ("40", "ADMIT"),
                                               ("40.1", "RETEST")])
def test_a_sensor_without_an_ambient_range_uses_10_to_40(sensor_log, ambient, decision):
    cfg, db = sensor_log
    r = run_gate("screen", "--config", str(cfg), "--db", str(db), "--temp", "36.6", "--mask", "yes",
                 "--source", "gun-1", "--ambient", ambient)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == decision


@pytest.mark.parametrize("temp, decision", [("33.9", "RETEST"), ("34", "ADMIT"), ("37.29", "ADMIT"),
                                            ("37.3", "RETEST"), ("43.1", "RETEST")])
def test_the_default_threshold_and_plausible_range_are_the_readmes(tmp_path, temp, decision):
    r = run_gate("screen", "--db", str(tmp_path / "g.db"), "--temp", temp, "--mask", "yes", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["decision"] == decision.lower()
    if temp == "33.9":
        assert out["reasons"] == ["reading-too-low"], out
    if temp == "43.1":
        assert out["reasons"] == ["reading-too-high"], out  # outside the plausible range, not a fever
