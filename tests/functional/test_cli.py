"""The `gate` command line as a user runs it: the real entry point (in this process), real files."""
import json
import sqlite3

import pytest

from tests.support import run_gate as gate


def rows(db):
    if not db.exists():
        return 0
    return sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0]


def test_help_lists_every_command():
    out = gate("--help")
    assert out.returncode == 0
    for cmd in ("screen", "run", "verify", "config", "demo", "sim", "read", "ports"):
        assert cmd in out.stdout
    for cmd in ("screen", "run", "verify", "sim", "read", "ports"):
        assert gate(cmd, "--help").returncode == 0


def test_screen_prints_json_after_storing(db_path):
    out = gate("screen", "--temp", "36.6", "--mask", "yes", "--entrant", "S1024", "--operator", "li", "--db", db_path,
               "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["decision"] == "admit" and d["reasons"] == ["normal"] and d["message"] and d["temperature_c"] == 36.6
    row = sqlite3.connect(db_path).execute("select id, decision, entrant_id from screenings").fetchone()
    assert row == (d["id"], "admit", "S1024")


def test_screen_fever_and_retest_reasons(db_path, tmp_path):
    d = json.loads(gate("screen", "--temp", "37,8", "--mask", "yes", "--db", db_path, "--json").stdout)
    assert d["decision"] == "retest" and "fever-suspected" in d["reasons"]
    d = json.loads(gate("screen", "--temp", "36.6", "--mask", "no", "--db", db_path, "--json").stdout)
    assert d["decision"] == "deny" and "no-mask" in d["reasons"]
    cfg = tmp_path / "gun.toml"
    cfg.write_text('[[sensors]]\nid = "gun-1"\nprotocol = "gy-mcu90614"\nurl = "/dev/null"\n', encoding="utf-8")
    # A station with a sensor is another screening policy: its own log (the first one would refuse this config).
    d = json.loads(gate("screen", "--temp", "36.6", "--ambient", "2", "--source", "gun-1", "--mask", "yes",
                        "--db", tmp_path / "gun.db", "--config", cfg, "--json").stdout)
    assert d["decision"] == "retest" and "ambient-too-cold" in d["reasons"]


@pytest.mark.parametrize("value", ["abc", "", "nan", "1e9", "3.73.1", "inf", "98.6", "-1", "36.6K", "１２"])
def test_bad_temperatures_are_refused_and_nothing_is_stored(db_path, value):
    out = gate("screen", "--temp", value, "--mask", "yes", "--db", db_path, "--json")
    assert out.returncode != 0
    assert "--temp" in out.stderr and "nothing was stored" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""
    assert rows(db_path) == 0


def test_bad_ambient_is_refused(db_path):
    out = gate("screen", "--temp", "36.6", "--ambient", "warm", "--db", db_path)
    assert out.returncode != 0 and "--ambient" in out.stderr and rows(db_path) == 0


def test_config_check_names_key_and_allowed_values(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(gate("config", "example").stdout, encoding="utf-8")
    ok = gate("config", "check", good)
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[station]\nlanguage = "fr"\n[screening]\nthreshold_c = 40.5\nmask_mode = "sometimes"\n'
                   '[[sensors]]\nid = "g"\nprotocol = "nope"\nurl = "/dev/ttyUSB0"\nbaud = 1234\n', encoding="utf-8")
    out = gate("config", "check", bad)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    for needle in ("station.language", "zh-CN, en", "screening.threshold_c", "34.0–39.0", "screening.mask_mode",
                   "must-wear, reminder, off", "sensors[0].protocol", "gy-mcu90614", "sensors[0].baud"):
        assert needle in out.stderr, needle


@pytest.mark.parametrize("content, says", [
    ("[station\nid=1", "not valid TOML"),
    ("[screening]\nthreshold_c = 37.25\n", "steps of 0.1"),
    ("[screening]\nthreshold_c = 'high'\n", "must be a number"),
    ("[colour]\nx = 1\n", "unknown section"),
    ("[station]\nnmae = 'x'\n", "unknown key `station.nmae`"),
    ("[[sensors]]\nid = 'a'\n", "needs `protocol`"),
])
def test_config_problems(tmp_path, content, says):
    f = tmp_path / "c.toml"
    f.write_text(content, encoding="utf-8")
    out = gate("config", "check", f)
    assert out.returncode == 2 and says in out.stderr, out.stderr


def test_missing_config_file_and_screen_with_bad_config(tmp_path, db_path):
    out = gate("config", "check", tmp_path / "nope.toml")
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = gate("screen", "--temp", "36.6", "--config", tmp_path / "nope.toml", "--db", db_path)
    assert out.returncode == 2 and rows(db_path) == 0


def test_run_on_a_missing_port_fails_fast_and_clearly(db_path):
    out = gate("run", "--url", "/dev/ttyUSB-not-there", "--protocol", "gy-mcu90614", "--headless", "--db", db_path)
    assert out.returncode == 2 and "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_verify_on_a_missing_log(tmp_path):
    out = gate("verify", "--db", tmp_path / "none.db")
    assert out.returncode == 2 and "no log" in out.stderr
