"""a16c (issue 16): lock waits are settings ([upstream] lock_wait_s, make_day_wait_s; --lock-wait on the bureau's
commands and maintain), each 0.5 to 600 s; anything else (0, negative, nan, inf, 1e400, a string, a bool, a table, a
list, a hex or suffixed number) is refused in one line naming the setting, exit 2, before any connection."""
import pytest

from tests.support import run_gate

URL = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens: a refusal must come before any connection
BAD_CLI = ["0", "-1", "0.49", "600.01", "nan", "-nan", "inf", "1e400", "abc", "", "0x10", "5s", "½"]
COMMANDS = [("bureau", "daily"), ("bureau", "late"), ("bureau", "app"), ("bureau", "serve"),
            ("bureau", "export", "--from", "2026-11-23", "--to", "2026-11-23", "--out", "OUT"),
            ("upstream", "maintain")]


@pytest.mark.parametrize("value", BAD_CLI)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_bad_lock_wait_on_the_command_line_is_refused_in_one_line(tmp_path, command, value):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    done = run_gate(*argv, "--upstream", URL, f"--lock-wait={value}", timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--lock-wait" in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


BAD_TOML = ["0", "-0.0", "0.4999", "600.0001", "nan", "+inf", "-inf", "1e400", '"10"', "true", "false", "[1]",
            "{s = 1}", "1979-05-27", "9007199254740993"]


@pytest.mark.parametrize("value", BAD_TOML)
@pytest.mark.parametrize("key", ["lock_wait_s", "make_day_wait_s"])
def test_a_bad_lock_wait_setting_is_refused_in_one_line_naming_it(tmp_path, key, value):
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "n1"\ndb = "{tmp_path / "n1.db"}"\n[upstream]\nurl = "{URL}"\n{key} = {value}\n',
                   encoding="utf-8")
    for argv in (("config", "check", cfg), ("sync", "--once", "--config", cfg)):
        done = run_gate(*argv, timeout=60)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert f"upstream.{key}" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert "unreachable" not in done.stderr, done.stderr


@pytest.mark.parametrize("value", ["0.5", "600", "10"])
def test_the_edges_of_the_range_are_taken(tmp_path, value):
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "n1"\ndb = "{tmp_path / "n1.db"}"\n[upstream]\nurl = "{URL}"\n'
                   f'lock_wait_s = {value}\nmake_day_wait_s = {value}\n', encoding="utf-8")
    assert run_gate("config", "check", cfg).returncode == 0
