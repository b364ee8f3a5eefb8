"""Class lists (gate report unscreened --session/--class) and the teacher role that sees only its own classes.

In-process through gate.cli.main; each refusal of a teacher reaching past its classes is a test and an audit row."""
import io
import json
import sys
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.auth import Auth, AuthError, User
from gate.cli import main
from gate.config import Config
from gate.station import Station
from storage import audit
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, apply_policy, log_from_template

ROSTER = ("id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nS3,王五,三年级三班,pupil\n"
          "S4,赵六,三年级一班,pupil\nT1,王老师,教务处,staff\nV1,=cmd,访客,visitor\n")
PIN = {"admin": "900001", "chen": "754026", "zhang": "318274"}
DAY = "2026-12-01"


def at(h, m):
    return time.mktime((2026, 12, 1, h, m, 0, 0, 0, -1))


@pytest.fixture
def school(db_path):
    return log_from_template(db_path, morning_and_noon)  # the PIN hashes are slow on purpose: made once a run


def morning_and_noon(db_path):
    """Three users, the roster and the policy; S1 screened at 07:00, S2 at 12:40."""
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", PIN["admin"], None)
        auth.add_user("chen", "teacher", PIN["chen"], User("admin", "admin"), classes=("三年级二班", "三年级三班"))
        auth.add_user("zhang", "duty", PIN["zhang"], User("admin", "admin"))
        apply_policy(log)  # with PINs on, only an admin stores the first screening policy
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        clock = Clock(at(7, 0))
        station = Station(Config(), log, clock=clock)
        yes = MaskResult(MaskState.YES)
        station.screen([Reading(object_c=36.6, source="manual")], yes, entrant_id="S1")
        clock.now = at(12, 40)
        station.screen([Reading(object_c=36.6, source="manual")], yes, entrant_id="S2")


def gate(capsys, monkeypatch, *argv, stdin=""):
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def report(capsys, monkeypatch, db, who, *extra):
    return gate(capsys, monkeypatch, "report", "unscreened", "--date", DAY, "--db", db, *extra,
                "--user", who, "--pin-stdin", stdin=PIN[who] + "\n")


def test_the_morning_list_is_per_class_with_the_staff_apart(school, capsys, monkeypatch):
    code, out, err = report(capsys, monkeypatch, school, "zhang", "--session", "morning")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{DAY} 晨检 morning check: 4 on the roster not seen"
    assert lines[1:] == ["三年级一班: 1", "  S4  赵六", "三年级三班: 1", "  S3  王五", "三年级二班: 1", "  S2  李四",
                         "staff 教职工: 1", "  T1  教务处  王老师"]


def test_a_session_can_be_named_in_chinese_and_an_unknown_one_is_refused(school, capsys, monkeypatch):
    code, out, _ = report(capsys, monkeypatch, school, "zhang", "--session", "午检", "--json")
    assert code == 0 and {json.loads(line)["id"] for line in out.splitlines()} == {"S1", "S3", "S4", "T1"}
    assert {json.loads(line)["session"] for line in out.splitlines()} == {"noon"}
    code, _, err = report(capsys, monkeypatch, school, "zhang", "--session", "evening")
    assert code == 2 and "no session 'evening'" in err and "morning (晨检), noon (午检)" in err


def test_a_teacher_sees_only_its_classes(school, capsys, monkeypatch):
    code, out, err = report(capsys, monkeypatch, school, "chen", "--session", "morning", "--csv")
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0] == "id,name,class,kind,session"
    assert sorted(rows[1:]) == ["S2,李四,三年级二班,pupil,morning", "S3,王五,三年级三班,pupil,morning"]
    code, out, _ = report(capsys, monkeypatch, school, "chen", "--session", "morning", "--class", "三年级三班")
    assert code == 0 and "S3" in out and "S2" not in out and "T1" not in out


def test_a_teacher_asking_for_another_class_is_refused_and_audited(school, capsys, monkeypatch):
    code, out, err = report(capsys, monkeypatch, school, "chen", "--session", "morning", "--class", "三年级一班")
    assert code == 1 and out == ""
    assert err.strip() == "gate: refused: chen is the teacher of 三年级二班, 三年级三班; 三年级一班 is not theirs to see"
    with ScreeningLog(school) as log:
        ev = audit.events(log, 1)[0]
    assert (ev["actor"], ev["action"], ev["detail"]["class"]) == ("chen", "refused", "三年级一班")


def test_other_roles_may_ask_for_any_class(school, capsys, monkeypatch):
    code, out, _ = report(capsys, monkeypatch, school, "zhang", "--session", "noon", "--class", "三年级一班")
    assert code == 0 and "S4" in out and "T1" not in out


@pytest.mark.parametrize("role, classes, says", [
    ("teacher", (), "a teacher needs its classes"),
    ("duty", ("三年级二班",), "--classes is for a teacher"),
    ("teacher", ("三年级\x1b[31m二班",), "class"),
])
def test_a_teacher_without_classes_or_classes_for_another_role_are_refused(db_path, role, classes, says):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", PIN["admin"], None)
        with pytest.raises(AuthError, match=says):
            auth.add_user("x", role, "318274", User("admin", "admin"), classes=classes)


def test_users_add_takes_the_classes_and_users_list_shows_them(db_path, capsys, monkeypatch):
    code, _, err = gate(capsys, monkeypatch, "users", "add", "admin", "--role", "admin", "--db", db_path,
                        "--pin-stdin", stdin="900001\n")
    assert code == 0, err
    code, out, err = gate(capsys, monkeypatch, "users", "add", "chen", "--role", "teacher", "--classes",
                          "三年级二班，三年级三班", "--db", db_path, "--user", "admin", "--pin-stdin",
                          stdin="900001\n754026\n")
    assert code == 0 and "for 三年级二班, 三年级三班" in out, err
    code, out, _ = gate(capsys, monkeypatch, "users", "list", "--json", "--db", db_path, "--user", "admin",
                        "--pin-stdin", stdin="900001\n")
    chen = next(json.loads(line) for line in out.splitlines() if json.loads(line)["name"] == "chen")
    assert chen["classes"] == ["三年级二班", "三年级三班"] and chen["role"] == "teacher"


def test_a_classes_value_edited_in_the_file_into_nonsense_shows_nothing(school, capsys, monkeypatch):
    from sqlalchemy import text
    with ScreeningLog(school) as log, log.engine.begin() as conn:
        conn.execute(text("UPDATE users SET classes = '{not json' WHERE name = 'chen'"))
    code, out, err = report(capsys, monkeypatch, school, "chen", "--session", "morning")
    # fails closed: the users row no longer matches its MAC (storage.seals), so nobody signs in and no name is shown
    assert code == 1 and "row 'chen' was changed or added outside the station" in err and out == ""
