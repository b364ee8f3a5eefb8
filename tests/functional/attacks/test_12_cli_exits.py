"""Issue 12, the command line from outside: every command and action has its own --help with examples; a typo'd
command or action says what exists; odd files as --config / --db get one line and the README's exit code; a config
with every key misspelled, or every value wrong, is reported whole, each problem with its key; the documented exit
codes are reached as documented (README "Exit codes")."""
import re
import sqlite3

import pytest

from tests.support import count_rows, log_from_template, run_gate



def one_clear_line(r):
    """stderr of a refusal (text): said, and no traceback anywhere."""
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert r.stderr.strip(), "a refusal must say why"
    return r.stderr


def _groups():
    top = run_gate("--help").stdout
    return re.findall(r"^    (\w[\w-]*)", top, re.M)


def _actions(*cmd):
    r = run_gate(*cmd, "--help")
    if "ACTION" not in r.stdout.splitlines()[0]:
        return []
    block = r.stdout.split("positional arguments:")[1].split("options:")[0]
    return re.findall(r"^    (\w[\w-]*)", block, re.M)


def test_every_command_and_action_has_help_with_examples():
    commands = _groups()
    assert {"screen", "verify", "config", "calibrate", "sync", "export", "users"} <= set(commands)
    seen = 0
    for c in commands:
        r = run_gate(c, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"usage: gate {c}"), (c, r.stderr)
        actions = _actions(c)
        if not actions:
            assert "examples:" in r.stdout, c
        for a in actions:
            r = run_gate(c, a, "--help")
            assert r.returncode == 0 and r.stdout.startswith(f"usage: gate {c} {a}"), (c, a, r.stderr)
            assert "examples:" in r.stdout and f"gate {c}" in r.stdout.split("examples:")[1], (c, a)
            seen += 1
    assert seen >= 40


@pytest.mark.parametrize("typed, choices, helped", [
    (["scren"], ["screen", "verify", "config"], "gate --help"),
    (["verfy"], ["verify"], "gate --help"),
    (["calibrate", "fitt"], ["run", "fit", "check", "list", "show"], "gate calibrate --help"),
    (["users", "ad"], ["add", "list", "reset-pin", "disable", "enable", "role"], "gate users --help"),
    (["report", "dayly"], ["daily", "alerts", "unscreened"], "gate report --help"),
    (["config", "chek"], ["check", "apply", "example"], "gate config --help"),
    (["held", "lyft"], ["list", "lift"], "gate held --help"),
    (["roster", "visitor", "aprove"], ["add"], "gate roster visitor --help"),
])
def test_a_typod_command_or_action_says_what_exists(typed, choices, helped):
    r = run_gate(*typed, "--db", "/nonexistent/never.db")
    assert r.returncode == 2
    err = one_clear_line(r)
    assert f"invalid choice: '{typed[-1]}'" in err
    for c in choices:
        assert f"'{c}'" in err, c
    assert helped in err


def test_an_action_left_out_is_asked_for():
    for group in ("calibrate", "users", "config", "clearance", "held", "followup"):
        r = run_gate(group)
        assert r.returncode == 2 and "required: ACTION" in one_clear_line(r)
        assert f"gate {group} --help" in r.stderr


def test_every_misspelled_key_is_reported_at_once_with_its_hint(tmp_path):
    cfg = tmp_path / "miss.toml"
    wrong = {  # section, typed, meant
        "station": [("idd", "id"), ("gat", "gate"), ("langauge", "language")],
        "screening": [("threshhold_c", "threshold_c"), ("mask_mod", "mask_mode"), ("deny_bel", "deny_bell"),
                      ("retest_wait_minute", "retest_wait_minutes"), ("plausible_min", "plausible_min_c")],
        "upstream": [("urll", "url"), ("lock_wait", "lock_wait_s")],
        "retention": [("screening_day", "screening_days")],
        "calibration": [("tolerance", "tolerance_c")],
        "security": [("lockout_failure", "lockout_failures")],
        "clusters": [("window_day", "window_days")],
        "school": [("nam", "name")],
    }
    text = '[staton]\nid = "x"\n'
    for section, keys in wrong.items():
        text += f"[{section}]\n" + "".join(f'{typed} = 1\n' for typed, _ in keys)
    cfg.write_text(text, encoding="utf-8")
    r = run_gate("config", "check", str(cfg))
    assert r.returncode == 2
    err = one_clear_line(r)
    assert "unknown section `[staton]` (did you mean `station`?)" in err
    for section, keys in wrong.items():
        for typed, meant in keys:
            assert f"unknown key `{section}.{typed}` (did you mean `{meant}`?)" in err, (section, typed)
    total = 1 + sum(len(k) for k in wrong.values())
    assert f"has {total} problem(s)" in err


BAD_VALUES = {
    "station": {"id": '"a b"', "gate": "5", "language": '"fr"', "db": "7", "key_file": "[]"},
    "screening": {"threshold_c": '"hot"', "mask_mode": '"sometimes"', "deny_bell": '"yes"',
                  "retest_wait_minutes": "-1", "plausible_min_c": '"x"', "plausible_max_c": "99"},
    "upstream": {"url": "1", "share_roster": '"no"', "lock_wait_s": "0", "make_day_wait_s": "-1"},
    "school": {"id": "3", "name": "4", "absence_cases": '"maybe"', "gates": "0"},
    "clusters": {"same_day_pupils": "0", "window_days": '"x"', "window_pupils": "-1"},
    "retention": {"screening_days": '"x"', "audit_days": "0"},
    "calibration": {"required": '"x"', "interval_days": "0", "warn_days": "-1", "grace_days": '"x"',
                    "tolerance_c": "-1", "max_correction_c": '"x"', "body_site_offset_c": "9"},
    "security": {"lockout_failures": "0", "lockout_minutes": '"x"', "idle_logout_minutes": "-1"},
}
SENSOR = {"id": '""', "protocol": '"telepathy"', "url": "3", "baud": '"fast"', "mode": '"x"', "trigger": '"x"',
          "warmup_s": "-5", "ambient_min_c": '"cold"', "ambient_max_c": "1000", "presence_margin_c": '"x"',
          "presence_frames": "0"}


def test_a_config_with_every_value_wrong_names_every_key_at_once_and_stores_nothing(tmp_path):
    cfg = tmp_path / "vals.toml"
    text = "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) for s, keys in BAD_VALUES.items())
    text += "[[sensors]]\n" + "".join(f"{k} = {v}\n" for k, v in SENSOR.items())
    cfg.write_text(text, encoding="utf-8")
    r = run_gate("config", "check", str(cfg))
    assert r.returncode == 2
    err = one_clear_line(r)
    lines = err.strip().splitlines()[1:]
    for s, keys in BAD_VALUES.items():
        for k in keys:
            assert any(f"`{s}.{k}`" in line for line in lines), f"{s}.{k}"
    for k in SENSOR:
        assert any(f"`sensors[0].{k}`" in line for line in lines), f"sensors[0].{k}"
    assert len(lines) == sum(len(k) for k in BAD_VALUES.values()) + len(SENSOR)
    # allowed values are said where there is a choice
    assert "allowed: zh-CN, en" in err and "allowed: must-wear, reminder, off" in err
    # the same config given to a screening: refused whole, nothing stored
    db = tmp_path / "g.db"
    r = run_gate("screen", "--config", str(cfg), "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 2 and r.stdout == "" and not db.exists()


def one_screening(db):
    assert run_gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes").returncode == 0


@pytest.fixture
def log(tmp_path):
    """A log with one screening, as `gate screen` wrote it: written once a run and copied into each test."""
    return log_from_template(tmp_path / "g.db", one_screening)


@pytest.mark.parametrize("kind, says", [("devnull", "is a device, not a config file"),
                                        ("stdin", "is a device, not a config file"),
                                        ("folder", "is a folder, not a config file"),
                                        ("ten-mb", "a config file is at most 1.0 MB; nothing was read"),
                                        ("binary", "not UTF-8 text"),
                                        ("nul", "not valid TOML"),
                                        ("missing", "No such file or directory")])
@pytest.mark.parametrize("command", [["config", "check"], ["screen", "--temp", "36.6", "--mask", "yes", "--config"],
                                     ["config", "apply"]])
def test_an_odd_file_as_config_is_one_problem_exit_2_and_nothing_stored(tmp_path, log, kind, says, command):
    target = {"devnull": "/dev/null", "stdin": "/dev/stdin", "folder": str(tmp_path),
              "missing": str(tmp_path / "nope.toml")}.get(kind)
    if target is None:
        path = tmp_path / f"{kind}.toml"
        if kind == "ten-mb":
            path.write_text("# a comment\n" * 900_000, encoding="utf-8")
        elif kind == "binary":
            path.write_bytes(bytes(range(256)) * 40)
        else:
            path.write_bytes(b'[station]\nid = "a\x00b"\n')
        target = str(path)
    args = [*command, target] + ([] if command == ["config", "check"] else ["--db", str(log)])
    r = run_gate(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    err = one_clear_line(r)
    assert says in err and "1 problem(s)" in err
    assert r.stdout == "" and count_rows(log) == 1


@pytest.mark.parametrize("db, says", [("/dev/null", "is a device, not a log"),
                                      ("{tmp}", "is a folder, not a log"),
                                      ("{tmp}/empty.db", "is not a station log"),
                                      ("{tmp}/g.db.key", "file is not a database"),
                                      ("{tmp}/missing.db", "nothing was created")])
def test_read_only_commands_on_the_wrong_file_say_so(tmp_path, log, db, says):
    (tmp_path / "empty.db").touch()
    path = db.replace("{tmp}", str(tmp_path))
    r = run_gate("verify", "--db", path)
    assert r.returncode in (2, 3)
    err = one_clear_line(r)
    assert says in err
    assert r.returncode == (2 if "nothing was created" in says else 3)
    if r.returncode == 3:
        assert err.startswith("gate: log failure:")
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "empty.db.key").exists()


@pytest.mark.parametrize("where", ["--db", "--config"])
def test_control_characters_in_a_path_never_reach_the_terminal(tmp_path, log, where):
    odd = str(tmp_path / "x\x1b[31mred\nFAKE: ok \x1b]0;pwn\x07.db")
    r = run_gate("verify", where, odd)
    assert r.returncode == 2
    err = one_clear_line(r)
    assert "\x1b" not in err and "\x07" not in err and "\nFAKE" not in err
    assert len(err.strip().splitlines()) <= 2


def test_documented_exit_codes_are_reached_as_documented(tmp_path, log):
    # 1 CheckFailed: a broken chain, named
    con = sqlite3.connect(log)
    con.execute("update screenings set temperature_c = 35.0, decision = 'admit'")
    con.commit()
    con.close()
    r = run_gate("verify", "--db", str(log))
    assert r.returncode == 1 and "BROKEN" in r.stdout + r.stderr
    # 1 Refused: a user that is not there, once PINs are on; the line starts `refused:`
    db = tmp_path / "u.db"
    assert run_gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", str(db),
                    input="246810\n").returncode == 0
    r = run_gate("screen", "--temp", "36.6", "--mask", "yes", "--user", "ghost", "--pin-stdin", "--db", str(db),
                 input="246810\n")
    assert r.returncode == 1 and one_clear_line(r).startswith("gate: refused:") and r.stdout == ""
    # 1 UpstreamFailure: nobody listens at the district's address
    up = tmp_path / "up.toml"
    up.write_text('[upstream]\nurl = "postgresql://gate@127.0.0.1:1/x"\n', encoding="utf-8")
    fresh = tmp_path / "f.db"
    assert run_gate("screen", "--db", str(fresh), "--config", str(up), "--temp", "36.6",
                    "--mask", "yes").returncode == 0
    r = run_gate("sync", "--config", str(up), "--db", str(fresh))
    assert r.returncode == 1 and "unreachable" in one_clear_line(r)
    # 2 UsageError and 2 DeviceFailure
    assert run_gate("screen", "--temp", "abc", "--db", str(fresh)).returncode == 2
    r = run_gate("read", "--url", str(tmp_path / "ttyUSB-none"), "--protocol", "gy-mcu90614", "--count", "1")
    assert r.returncode == 2 and "does not exist" in one_clear_line(r)
    # 3 StorageFailure: covered for locks in test_12_locks.py; here a folder
    r = run_gate("screen", "--temp", "36.6", "--db", str(tmp_path))
    assert r.returncode == 3 and one_clear_line(r).startswith("gate: log failure:")


@pytest.mark.parametrize("text, says", [
    ("station = 5", "`station` must be a table `[station]`"),
    ('[[station]]\nid = "a"', "`station` must be a table `[station]`"),
    ("sensors = {}", "`sensors` must be a list of tables `[[sensors]]`"),
    ('[sensors]\nid = "a"', "`sensors` must be a list of tables `[[sensors]]`"),
    ('sessions = "morning"', "`sessions` must be a list of tables `[[sessions]]`"),
    ("[screening]\nthreshold_c = 37.3\nthreshold_c = 37.5", "not valid TOML: Cannot overwrite a value (at line 3"),
    ("[screening.threshold_c]\nx = 1", "`screening.threshold_c` must be a number"),
    ("threshold_c = 39", "`threshold_c` belongs in `[screening]`"),
    ("[screening]\nthreshold_c = 1e400", "must be a finite number, not inf"),
    ("[screening]\nthreshold_c = nan", "must be a finite number, not nan"),
    ("[screening]\nthreshold_c = true", "`screening.threshold_c` must be a number"),
    ("[screening]\nthreshold_c = 37.35", "allowed: 34.0–39.0 in steps of 0.1"),
    ('[[sensors]]\nid = "a"\nprotocol = "text-line"\nurl = "loop://"\n' * 2, "`sensors[1].id` 'a' is used twice"),
    ("[retention]\nscreening_days = 3.5", "must be a whole number, not 3.5"),
    ("[retention]\nscreening_days = 99999999999999999999", "allowed: 1–3650"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_a_config_of_the_wrong_shape_is_one_named_problem(tmp_path, text, says):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text + "\n", encoding="utf-8")
    r = run_gate("config", "check", str(cfg))
    assert r.returncode == 2
    err = one_clear_line(r)
    assert says in err and "has 1 problem(s)" in err
