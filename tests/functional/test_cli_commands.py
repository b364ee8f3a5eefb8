"""The shape of the `gate` command line: every action has its own --help naming its options and an example, the
README's commands parse, every kind of failure has its exit code from the one table, and no odd argument ever gets a
traceback."""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import string
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import (CheckFailed, DeviceFailure, GateError, Refused, StorageFailure, UpstreamFailure,
                           UsageError)
from gate.cli import EXIT_CODES, EXIT_INTERNAL, GROUPS, build_parser, exit_code, main
from tests.functional.test_startup_imports import modules_after
from tests.support import GATE, ROOT, env_with_root, run_gate as gate


def every_action(parser: argparse.ArgumentParser, path=()):
    """(argv path, parser) for every command and nested action."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    seen = set()
    for name, sp in subs[0].choices.items():
        if id(sp) not in seen:  # aliases (`sync run`) share the parser of their action
            seen.add(id(sp))
            yield from every_action(sp, (*path, name))


ACTIONS = list(every_action(build_parser(every_command=True)))


def test_every_command_group_is_there_with_its_actions():
    paths = {" ".join(p) for p, _ in ACTIONS}
    for expected in ("screen", "run", "demo", "verify", "config check", "config example", "mask check", "mask train",
                     "calibrate run", "calibrate fit", "calibrate check", "calibrate list", "calibrate show",
                     "sync send", "sync status", "sync verify", "export create", "export verify", "report daily",
                     "report unscreened", "roster import", "roster list", "roster visitor add", "purge", "users add",
                     "users list", "users reset-pin", "users disable", "users enable", "users role", "audit list",
                     "sim", "read", "ports", "clearance add", "clearance list"):
        assert expected in paths, expected
    assert {p[0] for p, _ in ACTIONS} == set(GROUPS)


@pytest.mark.parametrize("path, parser", ACTIONS, ids=[" ".join(p) for p, _ in ACTIONS])
def test_each_action_has_its_own_help_with_its_options_and_an_example(path, parser, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: gate {' '.join(path)}"), out[:80]
    assert "examples:\n  gate " + path[0] in out
    for action in parser._actions:
        for flag in action.option_strings:
            assert flag in out, flag
    # and only its own: `gate calibrate fit --help` does not offer run's --points or the sensor port
    if path == ("calibrate", "fit"):
        assert "--points" not in out and "--url" not in out and "--blackbody-control" not in out
    if path == ("calibrate", "list"):
        assert "--point " not in out and "--reference-id" not in out


def test_help_from_the_real_command_lists_every_group():
    # The installed `gate` program itself, in its own process: the entry point in pyproject.toml works.
    out = subprocess.run([GATE, "--help"], capture_output=True, text=True, env=env_with_root(), timeout=120)
    assert out.returncode == 0
    for name in GROUPS:
        assert re.search(rf"^    {name}\b", out.stdout, re.M), name


# The README's commands, placeholders filled in: each must still parse as written (issue 12 keeps them unchanged).
README = [
    "demo --scenario fevers --language en",
    "run --config station.toml --url /dev/ttyUSB0 --protocol gy-mcu90614 --db gate.db --headless --count 3",
    "screen --temp 36.6 --ambient 22 --mask yes --entrant S1 --operator li --source manual --json",
    "verify --db gate.db", "config check station.toml", "config example",
    "mask a.jpg b.jpg --json", "mask train --data ../shared/mask-data --out w.npz",
    "sim --protocol gy-mcu90614 --scenario fevers --link /tmp/gy --seed 1 --slave 3 --address 2 --pattern simple",
    "sim --protocol gy-mcu90614 --gain 0.97 --offset -1.2 --noise 0.05 --blackbody-control bb",
    "sim --protocol modbus-ir --slave 7 --link /tmp/ir",
    "read --url /tmp/ir --protocol modbus-ir --slave 7 --count 5", "read --url /dev/ttyUSB0 --protocol gy-mcu90614 "
    "--baud 9600 --count 5 --json", "ports",
    "calibrate run --url /dev/ttyUSB0 --protocol gy-mcu90614 --points 35,37,40 --samples 5 --reference-id BB "
    "--operator li",
    "calibrate fit --sensor gy-mcu90614:g --reference-id BB --operator li --point 35.0:34.6,34.7,34.6 "
    "--point 37:36.6,36.7 --json",
    "calibrate check --sensor gy-mcu90614:g --point 37:36.9,37.0,36.9", "calibrate list", "calibrate show ID",
    "sync --upstream postgresql://gate@h/s --once", "sync --upstream sqlite:///d.db --watch", "sync status",
    "sync verify --upstream postgresql://gate@h/s",
    "export --from 2026-11-01 --to 2026-11-30 --format xlsx --out dir --identified --user wu --pin-stdin",
    "export verify dir", "report daily --date 2026-11-28 --json", "report daily --csv", "report unscreened",
    "roster import pupils.csv", "roster import pupils.csv --add", "roster list",
    "roster visitor add V1 --name N --phone 13800000000 --reason R --host H --date 2026-11-28",
    "purge --older-than 30", "purge --user wu --pin-stdin", "audit list --json",
    "users add li --role duty --pin-stdin", "users list", "users reset-pin li", "users disable li",
]


def test_every_readme_command_group_exists():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`gate ([a-z][a-z-]*)", text))
    assert named <= set(GROUPS), named - set(GROUPS)


@pytest.mark.parametrize("line", README)
def test_every_readme_command_still_parses(line):
    argv = line.split()
    args = build_parser(argv).parse_args(argv)
    assert callable(args.func)


@pytest.mark.parametrize("argv, action", [
    (["mask", "photo.jpg"], "check"), (["mask", "--json", "a.png", "b.png"], "check"),
    (["sync", "--once"], "send"), (["sync"], "send"), (["sync", "run"], "run"), (["sync", "status"], "status"),
    (["export", "--from", "2026-11-01", "--to", "2026-11-02", "--out", "x"], "create"),
    (["export", "verify", "x"], "verify"),
])
def test_short_forms_name_their_default_action(argv, action):
    assert build_parser(argv).parse_args(argv).action == action


# -- exit codes ------------------------------------------------------------------------------------------------------
def test_the_exit_code_table_covers_every_kind_of_failure():
    kinds = {kind for kind, _, _ in EXIT_CODES}
    assert kinds == set(GateError.__subclasses__()), "every kind in domain/errors.py has a row"
    assert [code for kind, code, _ in EXIT_CODES if kind is UsageError] == [2]
    assert exit_code(StorageFailure("x"))[0] == 3 and exit_code(GateError("x"))[0] == EXIT_INTERNAL


def test_the_readme_exit_code_table_says_what_the_code_does():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind, code, _ in EXIT_CODES:
        assert re.search(rf"^\| {code} \| `{kind.__name__}` \|", text, re.M), kind.__name__
    assert re.search(rf"^\| {EXIT_INTERNAL} \|", text, re.M)


def test_the_core_errors_are_kinds_of_the_one_family():
    from drivers.base import SensorError
    from drivers.manual import ManualEntryError
    from gate.auth import AuthError
    from gate.calibration import CalibrationError
    from gate.config import ConfigError
    from storage.export import ExportError
    from storage.log import LogError
    from storage.roster import RosterError
    from storage.sync import SyncError

    assert issubclass(LogError, StorageFailure) and issubclass(AuthError, Refused)
    assert issubclass(SensorError, DeviceFailure) and issubclass(SyncError, UpstreamFailure)
    for usage in (ConfigError, ManualEntryError, CalibrationError, ExportError, RosterError):
        assert issubclass(usage, UsageError) and issubclass(usage, ValueError), usage


def one_line_without_traceback(out) -> str:
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_check_failed_exits_1(tmp_path):
    (tmp_path / "exp").mkdir()
    out = gate("export", "verify", tmp_path / "exp")
    assert out.returncode == 1 and "cannot read the manifest" in out.stderr


def test_usage_error_exits_2_in_one_line(db_path):
    out = gate("screen", "--temp", "36.6", "--mask", "perhaps", "--db", db_path)
    assert out.returncode == 2
    line = one_line_without_traceback(out)
    assert "invalid choice: 'perhaps'" in line and "gate screen --help" in line and not db_path.exists()
    assert one_line_without_traceback(gate("calibrate", "fit", "--sensor", "s")).startswith("gate: the following")
    assert gate("calibrate", "fitt").returncode == 2 and gate("nonsense").returncode == 2 and gate().returncode == 2


def test_refused_exits_1_and_says_refused(db_path):
    assert gate("users", "add", "admin", "--role", "admin", "--pin-stdin", "--db", db_path,
                input="900001\n").returncode == 0
    out = gate("users", "add", "zhang", "--role", "duty", "--user", "admin", "--pin-stdin", "--db", db_path,
               input="123456\n318274\n")
    assert out.returncode == 1 and one_line_without_traceback(out).startswith("gate: refused: ")
    assert "wrong PIN" in out.stderr


def test_storage_failure_exits_3(tmp_path):
    bad = tmp_path / "gate.db"
    bad.write_bytes(b"a pupil's homework, saved over the log" * 50)
    out = gate("screen", "--temp", "36.6", "--mask", "yes", "--db", bad)
    assert out.returncode == 3 and one_line_without_traceback(out).startswith("gate: log failure: ")


def test_device_failure_exits_2():
    out = gate("read", "--url", "/dev/ttyUSB-not-there", "--protocol", "gy-mcu90614")
    assert out.returncode == 2 and "does not exist" in one_line_without_traceback(out)


def test_upstream_failure_exits_1_and_the_screenings_stay_pending(tmp_path, db_path):
    assert gate("screen", "--temp", "36.6", "--mask", "yes", "--db", db_path).returncode == 0
    out = gate("sync", "--once", "--upstream", f"sqlite:///{tmp_path}/no/such/folder/district.db", "--db", db_path)
    assert out.returncode == 1 and "unreachable" in one_line_without_traceback(out)
    status = json.loads(gate("sync", "status", "--json", "--db", db_path).stdout)
    assert status["pending"] >= 1


def test_an_unexpected_fault_is_one_line_and_the_traceback_goes_to_the_error_log(tmp_path, monkeypatch, capsys):
    # A fault in the station's own code cannot be produced on purpose by a real command (it would be fixed), so a
    # command group that divides by zero stands in for one; everything else is the real main().
    import types

    boom = types.ModuleType("gate.cli.boom")
    boom.COMMANDS = {"boom": lambda p: p.set_defaults(func=lambda args: 1 / 0)}
    monkeypatch.setitem(sys.modules, "gate.cli.boom", boom)
    monkeypatch.setitem(GROUPS, "boom", "a broken command")  # its module: gate.cli.boom
    monkeypatch.setenv("GATE_LOG_DIR", str(tmp_path / "logs"))
    assert main(["boom"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "ZeroDivisionError" in err
    assert str(tmp_path / "logs" / "gate-errors.log") in err
    logged = (tmp_path / "logs" / "gate-errors.log").read_text(encoding="utf-8")
    assert "Traceback" in logged and "1 / 0" in logged and "'boom'" in logged


# -- odd arguments ---------------------------------------------------------------------------------------------------
# Commands that would start a device loop, a simulator or the duty screen when given valid arguments stay out of the
# in-process fuzzing; their parsers are the same class and are fuzzed through the others.
QUICK = sorted(set(GROUPS) - {"run", "demo", "sim", "read"})
ODD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
FLAGS = st.sampled_from(["--help", "--json", "--db", "--config", "--temp", "--user", "--pin-stdin", "--point", "-",
                         "--", "--from", "--date", "--limit", "--older-than", "--role", "=", "-x", "--mask"])
TOKEN = st.one_of(ODD, FLAGS, st.sampled_from(["check", "list", "add", "verify", "import", "fit", "show",
                                               "36.6", "0", "-1", "1e999", "nan", "train", "status"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(QUICK), rest=st.lists(TOKEN, max_size=6))
def test_odd_arguments_never_get_a_traceback(tmp_path, monkeypatch, capsys, command, rest):
    monkeypatch.chdir(tmp_path)  # an odd --db or --out value is a relative path: it lands here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # a default log never lands in the real home
    monkeypatch.setenv("GATE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(sys, "stdin", open("/dev/null"))  # --pin-stdin reads nothing, a terminal is never asked
    argv = [command, *rest]
    if "--db" not in rest:
        argv += ["--db", str(tmp_path / "fuzz.db")]
    code = main(argv)
    out = capsys.readouterr()
    assert isinstance(code, int) and code != EXIT_INTERNAL, (argv, out.err)
    assert "Traceback" not in out.err
    if code == 2:
        first = out.err.splitlines()[0]
        assert first.startswith("gate: ") and first.isprintable(), (argv, out.err)


@pytest.mark.parametrize("argv", [
    ["screen", "--temp", "36.6\n\x1b[31mADMIT"], ["screen", "--entrant"],
    ["calibrate", "fit", "--sensor", "s", "--reference-id", "BB", "--point", "35:" + "3" * 5000],
    ["report", "daily", "--date", "2026-02-30"], ["audit", "list", "--limit", "0"], ["users", "add"],
])
def test_odd_values_are_one_printable_line_and_store_nothing(db_path, argv):
    out = gate(*argv, "--db", db_path)
    assert out.returncode == 2
    line = one_line_without_traceback(out)
    assert set(line) <= set(string.printable) | set("–—°　→") or line.isprintable()
    if db_path.exists():
        con = sqlite3.connect(db_path)
        assert con.execute("select count(*) from screenings").fetchone()[0] == 0


# -- start-up: what each command does not load (timing itself is bench/cli_startup.py) -----------------------------
HEAVY = ("sqlalchemy", "alembic", "cv2", "textual", "psycopg", "openpyxl", "pymodbus", "numpy", "sim")


def loaded_by(argv: list[str]) -> set[str]:
    """The heavy libraries among the packages a fresh interpreter has loaded after `gate ARGV`."""
    return {m.split(".")[0] for m in modules_after(argv)} & set(HEAVY)


def test_help_loads_none_of_the_heavy_libraries():
    assert loaded_by(["--help"]) == set()
    assert loaded_by(["calibrate", "fit", "--help"]) == {"sqlalchemy"}  # the calibration records' module


def test_screening_into_a_current_log_loads_only_sqlalchemy(db_path):
    assert gate("screen", "--temp", "36.6", "--mask", "yes", "--db", db_path).returncode == 0  # the schema is made
    assert loaded_by(["screen", "--temp", "36.6", "--mask", "yes", "--db", str(db_path)]) == {"sqlalchemy"}


def test_the_newest_migration_file_is_alembics_head():
    from alembic.script import ScriptDirectory

    from storage import upstream
    from storage.migrate import head_revision, newest_file_revision

    assert newest_file_revision() == head_revision()
    # the upstream's too: the bureau's read-only commands check its schema by the file names, without Alembic
    assert upstream.newest_revision() == ScriptDirectory.from_config(upstream._alembic()).get_current_head()


def test_a_read_only_bureau_command_loads_no_alembic(tmp_path):
    from storage import upstream

    url = f"sqlite:///{tmp_path / 'upstream.db'}"
    engine = upstream.make_upstream_engine(url)
    upstream.upgrade(engine)  # the database's owner migrated it
    engine.dispose()
    assert loaded_by(["bureau", "daily", "--upstream", url, "--json"]) == {"sqlalchemy"}


def test_every_protocol_names_its_device_class():
    from drivers.registry import PROTOCOLS, device_class

    assert [device_class(p).PROTOCOL for p in PROTOCOLS] == list(PROTOCOLS)


@pytest.mark.parametrize("command", [("report", "daily"), ("report", "unscreened"), ("clearance", "list"),
                                     ("calibrate", "list"), ("sync", "status"), ("audit", "list"), ("users", "list"),
                                     ("roster", "list"), ("purge", "--older-than", "30")])
def test_a_mistyped_db_is_refused_by_commands_that_read_and_no_log_is_created(tmp_path, command):
    typo = tmp_path / "gaet.db"
    out = gate(*command, "--db", typo)
    assert out.returncode == 2 and "no log at" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not typo.exists()
