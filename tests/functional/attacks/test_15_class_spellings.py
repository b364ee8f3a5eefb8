"""A class is one class whatever its spacing, width or case: the roster, a teacher's --classes, the --class filters,
the follow-up cases and the cluster rule all file it as 三年级二班 (domain.identifiers.check_class) and match it by its
key, so a pupil typed into "三年级 二班" or "三年级　二班" (full-width space) is followed up by the teacher of 三年级二班,
and the roster import says what it filed where. Attacks: each spelling a tired secretary or an input method makes,
a teacher reaching for another class through a spelling, a name that grows past 64 characters when folded."""
import io
import json
import sys
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.auth import Auth, AuthError, User
from gate.cli import main
from gate.config import Config
from gate.school_day import close_out
from gate.station import Station
from storage import audit, cases
from storage.log import ScreeningLog
from storage.roster import RosterError, import_roster, unscreened
from tests.support import Clock, apply_policy

ROSTER = ("id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级 二班,pupil\nS3,王五,三年级\u3000二班,pupil\n"
          "S4,赵六, 三年级二班 ,pupil\nS5,孙七,三年级三班,pupil\nS6,周八,Class 3B,pupil\nS7,吴九,class3b,pupil\n"
          "S8,郑十,ｃｌａｓｓ　３Ｂ,pupil\n")
PIN = {"admin": "900001", "chen": "754026", "li": "318274"}
DAY = "2026-12-01"


def at(h, m):
    return time.mktime((2026, 12, 1, h, m, 0, 0, 0, -1))


def gate(capsys, *argv, stdin=""):
    capsys.readouterr()
    sys.stdin = io.StringIO(stdin)
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def school(db_path, capsys):
    """chen teaches 三年级二班, typed with a space; li teaches class 3B, typed in full-width letters. Nobody was seen at
    the morning check but S5: at 09:00 every other pupil has an absence case."""
    roster_file = db_path.with_suffix(".csv")
    roster_file.write_text(ROSTER, encoding="utf-8")
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", PIN["admin"], None)
        apply_policy(log)
    code, out, err = gate(capsys, "roster", "import", "--db", db_path, roster_file, "--user", "admin", "--pin-stdin",
                          stdin=PIN["admin"] + "\n")
    assert code == 0, err
    for name, classes in (("chen", "三年级 二班"), ("li", "ＣＬＡＳＳ３Ｂ")):
        code, said, err = gate(capsys, "users", "add", name, "--role", "teacher", "--classes", classes, "--db",
                               db_path, "--user", "admin", "--pin-stdin", stdin=f"{PIN['admin']}\n{PIN[name]}\n"
                               f"{PIN[name]}\n")
        assert code == 0, err
    with ScreeningLog(db_path) as log:
        Station(Config(), log, clock=Clock(at(7, 0))).screen(
            [Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S5")
        close_out(log, Config(), at(9, 0))
    return db_path, out


def signed(capsys, db, who, *argv):
    return gate(capsys, *argv, "--db", db, "--user", who, "--pin-stdin", stdin=PIN[who] + "\n")


def test_every_spelling_of_a_class_is_filed_as_one_and_the_import_says_so(school):
    db, said = school
    with ScreeningLog(db) as log:
        classes = {e.roster_id: e.group for e in unscreened(log, DAY)}
    assert classes == {"S1": "三年级二班", "S2": "三年级二班", "S3": "三年级二班", "S4": "三年级二班", "S6": "Class 3B",
                       "S7": "Class 3B", "S8": "Class 3B"}
    assert "note: class '三年级 二班' (line 3) is filed as '三年级二班'" in said
    assert "note: class '三年级\\u3000二班' (line 4) is filed as '三年级二班'" in said  # the invisible one shown
    assert "note: class 'class3b' (line 8) is filed as 'Class 3B'" in said
    with ScreeningLog(db) as log:
        ev = next(e for e in audit.events(log) if e["action"] == "roster-import")
    assert {(f["as_written"], f["filed_as"]) for f in ev["detail"]["classes_filed"]} == {
        ("三年级 二班", "三年级二班"), ("三年级\u3000二班", "三年级二班"), ("class3b", "Class 3B"),
        ("ｃｌａｓｓ\u3000３Ｂ", "Class 3B")}


def test_the_teacher_of_the_class_sees_every_pupil_of_it_whatever_the_spelling(school, capsys):
    db, _ = school
    code, out, err = signed(capsys, db, "chen", "report", "unscreened", "--date", DAY, "--session", "morning",
                            "--json")
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.splitlines()} == {"S1", "S2", "S3", "S4"}
    code, out, err = signed(capsys, db, "chen", "followup", "list", "--json")
    assert code == 0, err
    assert {json.loads(line)["entrant_id"] for line in out.splitlines()} == {"S1", "S2", "S3", "S4"}
    code, out, err = signed(capsys, db, "li", "followup", "list", "--class", "class 3b", "--json")
    assert code == 0, err
    assert {json.loads(line)["entrant_id"] for line in out.splitlines()} == {"S6", "S7", "S8"}


def test_the_teachers_classes_are_filed_as_the_roster_files_them(school, capsys):
    db, _ = school
    with ScreeningLog(db) as log:
        users = {u["name"]: u["classes"] for u in Auth(log, "gate-1").users()}
    assert users["chen"] == ["三年级二班"] and users["li"] == ["CLASS3B"]


@pytest.mark.parametrize("spelling", ["三年级 二班", "三年级\u3000二班", " 三年级二班", "三年级  二班"])
def test_a_class_filter_finds_the_class_under_any_spelling(school, capsys, spelling):
    db, _ = school
    code, out, err = signed(capsys, db, "chen", "report", "unscreened", "--date", DAY, "--session", "morning",
                            "--class", spelling, "--json")
    assert code == 0, err  # not refused as another class
    assert {json.loads(line)["id"] for line in out.splitlines()} == {"S1", "S2", "S3", "S4"}


@pytest.mark.parametrize("spelling", ["三年级 三班", "三年级\u3000三班", "class 3b"])
def test_a_spelling_opens_no_other_class_to_a_teacher(school, capsys, spelling):
    db, _ = school
    code, out, err = signed(capsys, db, "chen", "report", "unscreened", "--date", DAY, "--class", spelling)
    assert code == 1 and "is not theirs to see" in err, err
    assert out == ""
    with ScreeningLog(db) as log:
        assert any(e["action"] == "refused" and e["actor"] == "chen" for e in audit.events(log))


def test_a_teacher_closes_a_case_of_its_class_filed_from_any_spelling(school, capsys):
    db, _ = school
    with ScreeningLog(db) as log:
        case = next(c for c in cases.listed(log) if c.entrant_id == "S3")  # typed with a full-width space
    code, out, err = signed(capsys, db, "chen", "followup", "close", case.short_id, "--outcome", "late-arrival")
    assert code == 0, err


def test_a_class_that_grows_past_64_characters_when_folded_is_refused_naming_its_line(db_path):
    with ScreeningLog(db_path) as log:
        with pytest.raises(RosterError) as refused:  # ㈠ folds to (一): 40 of them are 120 characters
            import_roster(log, ("id,name,class,kind\nS1,张三," + "㈠" * 40 + ",pupil\n").encode(), station_id="g",
                          actor="admin")
    assert "line 2, field class" in str(refused.value) and "at most 64" in str(refused.value)


def test_a_teacher_given_one_class_in_two_spellings_has_it_once(db_path):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", PIN["admin"], None)
        auth.add_user("chen", "teacher", PIN["chen"], User("admin", "admin"),
                      classes=("三年级二班", "三年级 二班", "三年级\u3000二班"))
        assert {u["name"]: u["classes"] for u in auth.users()}["chen"] == ["三年级二班"]
        with pytest.raises(AuthError, match="control or invisible"):
            auth.add_user("wu", "teacher", PIN["li"], User("admin", "admin"), classes=("三年级\t二班",))
