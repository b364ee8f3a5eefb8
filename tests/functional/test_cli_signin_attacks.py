"""A pupil at an unlocked gate PC, tried on the command line: each attempt is refused, audited, and changes nothing."""
import json
import sqlite3

import pytest

from storage import audit
from storage.log import ScreeningLog
from tests.support import apply_policy, log_from_template
from tests.functional.test_cli_roles import PIN, add_staff, gate


@pytest.fixture
def station(tmp_path):
    return log_from_template(tmp_path / "gate.db", staff)


def staff(db):
    """One user per role, the admin first."""
    with ScreeningLog(db) as log:
        add_staff(log)
        apply_policy(log)  # with PINs on, only an admin stores the first screening policy


def screenings(db):
    return sqlite3.connect(db).execute("select operator from screenings").fetchall()


def events(db, n=3):
    with ScreeningLog(db) as log:
        return audit.events(log, n)


@pytest.mark.parametrize("argv", [
    ["screen", "--temp", "36.6", "--mask", "yes"],
    ["roster", "list"],
    ["report", "unscreened"],
    ["audit", "list"],
    ["users", "list"],
    ["users", "add", "pupil", "--role", "admin"],
])
def test_without_a_pin_nothing_is_written_or_read(station, capsys, monkeypatch, argv):
    code, out, err = gate(capsys, monkeypatch, *argv, "--db", station, stdin="123456\n")
    assert code == 2 and "needs a signed-in user" in err and out == ""
    assert screenings(station) == []
    assert events(station, 1)[0]["action"] == "refused"


def test_another_users_name_in_operator_is_refused(station, capsys, monkeypatch):
    code, _, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--operator", "zhang", "--db", station)
    assert code == 2 and "needs a signed-in user" in err
    code, _, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--operator", "zhang", "--user", "li",
                        "--pin-stdin", "--db", station, stdin=PIN["li"] + "\n")
    assert code != 0 and "--operator 'zhang' is not the signed-in user 'li'" in err
    assert screenings(station) == []
    ev = events(station, 1)[0]
    assert (ev["actor"], ev["action"], ev["detail"]["operator"]) == ("li", "refused", "zhang")
    # The duty officer herself: the operator recorded is the one who signed in, with or without --operator.
    for extra in ([], ["--operator", "zhang"]):
        code, _, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--mask", "yes", *extra, "--user",
                            "zhang", "--pin-stdin", "--db", station, stdin=PIN["zhang"] + "\n")
        assert code == 0, err
    assert screenings(station) == [("zhang",), ("zhang",)]


@pytest.mark.parametrize("argv", [
    ["--user", "zhang", "--pin", "318274"],
    ["--user", "zhang", "--pin=318274"],
    ["--user", "zhang", "--pin-stdin", "318274"],
    ["--user", "zhang:318274"],
])
def test_a_pin_typed_on_the_command_line_is_refused_and_never_echoed(station, capsys, monkeypatch, argv):
    code, out, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--mask", "yes", *argv, "--db", station)
    assert code == 2 and "318274" not in err + out
    assert screenings(station) == []
    assert "--pin-stdin" in err, err


def test_a_pin_typed_into_the_name_is_neither_shown_nor_kept(station, capsys, monkeypatch):
    code, out, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--user", "zhang:318274", "--pin-stdin",
                          "--db", station, stdin="318274\n")
    assert code == 1 and "no active user 'zhang:[digits hidden]'" in err and "318274" not in err + out
    assert all("318274" not in json.dumps(e) for e in events(station, 50))
    assert screenings(station) == []


def test_a_disabled_admin_cannot_enable_themselves(station, capsys, monkeypatch):
    admin = ["--user", "admin", "--pin-stdin", "--db", station]
    assert gate(capsys, monkeypatch, "users", "add", "admin2", "--role", "admin", *admin,
                stdin="900001\n900002\n")[0] == 0
    assert gate(capsys, monkeypatch, "users", "disable", "admin2", *admin, stdin="900001\n")[0] == 0
    code, _, err = gate(capsys, monkeypatch, "users", "enable", "admin2", "--user", "admin2", "--pin-stdin",
                        "--db", station, stdin="900002\n")
    assert code != 0 and "no active user 'admin2'" in err
    assert (events(station, 1)[0]["actor"], events(station, 1)[0]["action"]) == ("admin2", "login-failed")
    code, out, err = gate(capsys, monkeypatch, "users", "enable", "admin2", *admin, stdin="900001\n")
    assert code == 0 and "admin2 enabled" in out, err
    assert (events(station, 1)[0]["actor"], events(station, 1)[0]["action"]) == ("admin", "user-enabled")


def test_the_last_admin_cannot_disable_themselves_or_step_down(station, capsys, monkeypatch):
    admin = ["--user", "admin", "--pin-stdin", "--db", station]
    code, _, err = gate(capsys, monkeypatch, "users", "disable", "admin", *admin, stdin="900001\n")
    assert code != 0 and "admin is the last active admin" in err
    code, _, err = gate(capsys, monkeypatch, "users", "role", "admin", "--role", "duty", *admin, stdin="900001\n")
    assert code != 0 and "last active admin" in err
    code, out, err = gate(capsys, monkeypatch, "users", "list", *admin, stdin="900001\n")
    assert code == 0 and any(line.split()[:3] == ["admin", "admin", "active"] for line in out.splitlines()), out
    code, out, _ = gate(capsys, monkeypatch, "users", "role", "wu", "--role", "admin", *admin, stdin="900001\n")
    assert code == 0 and "wu is now admin (was auditor)" in out


def test_with_pins_off_the_operator_is_as_given_and_nothing_asks_for_a_pin(tmp_path, capsys, monkeypatch):
    db = tmp_path / "gate.db"
    code, _, err = gate(capsys, monkeypatch, "screen", "--temp", "36.6", "--mask", "yes", "--operator", "wang",
                        "--db", db)
    assert code == 0, err
    assert screenings(db) == [("wang",)]


def test_roster_import_prints_what_it_did(tmp_path, station, capsys, monkeypatch):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("id,name,class,kind\nS1,张三,1班,pupil\nS2,李四,1班,pupil\n", encoding="utf-8")
    second.write_text("id,name,class,kind\nS1,张三,1班,pupil\n", encoding="utf-8")
    admin = ["--user", "admin", "--pin-stdin", "--db", station]
    assert gate(capsys, monkeypatch, "roster", "import", first, *admin, stdin="900001\n")[0] == 0
    code, out, _ = gate(capsys, monkeypatch, "roster", "import", second, "--add", *admin, stdin="900001\n")
    assert code == 0 and "roster merged into: 0 added, 0 changed, 0 removed, 1 unchanged" in out
    code, out, _ = gate(capsys, monkeypatch, "roster", "import", second, *admin, stdin="900001\n")
    assert code == 0 and "roster replaced: 0 added, 0 changed, 1 removed (now visitors" in out
    code, out, err = gate(capsys, monkeypatch, "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S2",
                          "--user", "zhang", "--pin-stdin", "--db", station, stdin="318274\n")
    assert code == 0 and out.startswith("DENY"), out + err
