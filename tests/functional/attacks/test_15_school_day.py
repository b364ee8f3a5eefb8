"""Issue 15 attacked from the command line as a tired teacher or a curious pupil would: sessions at their boundaries
(a frozen faked clock), a teacher reaching past its classes with odd spellings, follow-up cases closed twice, by the
wrong role, for another class, with a wrong outcome; the 复课证明 refusal and who may clear it; the cluster rule at
2/3 pupils with odd-case symptoms and the same pupil counted twice; a close edited in the SQLite file."""
import datetime
import json
import sqlite3

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import Config
from gate.station import Station
from storage.log import ScreeningLog
from tests.functional.attacks.conftest import faketime_prefix, one_clear_line
from tests.functional.attacks.school_day_setup import (
    ROSTER, at, case_of, cases, confirmed_fever, school, signed, yesterday)
from tests.support import Clock

REFUSED = "refused: chen is the teacher of 三年级二班; "


# --- sessions at their boundaries, with the clock frozen for the whole process ---------------------------------

def test_a_screening_at_082959_is_in_the_morning_check_and_one_at_083000_or_near_midnight_is_not(gate, tmp_path):
    db = tmp_path / "g.db"
    (tmp_path / "r.csv").write_text(ROSTER, encoding="utf-8")
    assert gate("roster", "import", "--db", db, tmp_path / "r.csv").returncode == 0
    for when, who in (("2026-12-01 08:29:59", "S1"), ("2026-12-01 08:30:00", "S2"), ("2026-12-01 23:59:59", "S3"),
                      ("2026-12-02 00:00:00", "S4")):
        r = gate("screen", "--db", db, "--temp", "36.6", "--mask", "yes", "--entrant", who,
                 prefix=faketime_prefix(when))
        assert r.returncode == 0, r.stderr.decode()
    r = gate("report", "unscreened", "--db", db, "--date", "2026-12-01", "--session", "morning", "--json")
    assert r.returncode == 0, r.stderr.decode()
    unseen = {json.loads(line)["id"] for line in r.stdout.decode().splitlines()}
    assert "S1" not in unseen and {"S2", "S3", "S4"} <= unseen  # the end of a window is outside it
    r = gate("report", "unscreened", "--db", db, "--date", "2026-12-01", "--json")
    unseen_day = {json.loads(line)["id"] for line in r.stdout.decode().splitlines()}
    assert {"S1", "S2", "S3"}.isdisjoint(unseen_day) and "S4" in unseen_day  # 00:00:00 is the next day
    with sqlite3.connect(db) as conn:
        sessions = dict(conn.execute("SELECT entrant_id, session FROM screenings"))
    assert sessions == {"S1": "morning", "S2": None, "S3": None, "S4": None}


# --- the teacher and its classes ------------------------------------------------------------------------------

@pytest.mark.parametrize("asked", ["三年级三班", "三年级三班 ", " 三年级三班", "三年级三班\u3000", "三年级二班,三年级三班",
                                   "三年级二班，三年级三班", "*", "%"])
def test_a_teacher_asking_for_another_class_by_any_spelling_is_refused_and_shown_nothing(gate, tmp_path, asked):
    db = tmp_path / "g.db"
    school(gate, db)
    r = signed(gate, db, "chen", "report", "unscreened", "--session", "morning", "--class", asked)
    err = one_clear_line(r)
    assert r.returncode in (1, 2) and r.stdout == b"" and "S4" not in err and "钱七" not in err
    if r.returncode == 1:
        assert REFUSED in err


def test_a_teacher_without_classes_cannot_be_made(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    for classes in (None, "", " , ，", "\u3000"):
        extra = () if classes is None else ("--classes", classes)
        r = gate("users", "add", "wu", "--role", "teacher", *extra, "--db", db, "--user", "admin", "--pin-stdin",
                 stdin=b"900001\n318276\n")
        assert r.returncode in (1, 2) and ("teacher" in one_clear_line(r) or "class" in one_clear_line(r))
    r = signed(gate, db, "admin", "users", "list", "--json")
    assert "wu" not in {json.loads(line)["name"] for line in r.stdout.decode().splitlines()}


def test_a_teacher_sees_only_its_classes_in_cases(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    assert {c["class"] for c in cases(gate, db, "chen")} == {"三年级二班"}
    assert {"S4", "S5"} <= {c["entrant_id"] for c in cases(gate, db, "doc")}
    r = signed(gate, db, "chen", "followup", "list", "--class", "三年级三班")
    assert r.returncode == 1 and REFUSED in one_clear_line(r) and r.stdout == b""


# --- closing follow-up cases --------------------------------------------------------------------------------

def test_a_case_is_closed_once_by_the_right_person_with_a_known_outcome(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    s1, s4 = case_of(gate, db, "S1"), case_of(gate, db, "S4")
    # another class's case, by its id or its short id
    for cid in (s4, s4[:8]):
        r = signed(gate, db, "chen", "followup", "close", cid, "--outcome", "late-arrival")
        assert r.returncode == 1 and "is of 三年级三班" in one_clear_line(r)
    # the wrong roles, and nobody at all once PINs are on
    for who in ("zhang", "admin"):
        r = signed(gate, db, who, "followup", "close", s1, "--outcome", "late-arrival")
        assert r.returncode == 1 and "followup-close needs health or teacher" in one_clear_line(r)
    r = signed(gate, db, None, "followup", "close", s1, "--outcome", "late-arrival")
    assert r.returncode == 2 and one_clear_line(r)
    # a wrong outcome, a wrong symptom, a date that is no date, a prefix too short to be one case, no case at all
    for extra in (("--outcome", "sick"), ("--outcome", "sick-leave", "--symptoms", "fevre"),
                  ("--outcome", "sick-leave", "--onset", "2026-02-30"), ("--outcome", "sick-leave", "--onset", "1.12")):
        r = signed(gate, db, "chen", "followup", "close", s1, *extra)
        assert r.returncode == 2 and one_clear_line(r)
    for cid in (s1[:3], "00000000", "", "S1"):
        r = signed(gate, db, "chen", "followup", "close", cid, "--outcome", "late-arrival")
        assert r.returncode in (1, 2) and one_clear_line(r)
    assert all(c["state"] == "open" for c in cases(gate, db))
    r = signed(gate, db, "chen", "followup", "close", s1[:8], "--outcome", "late-arrival")
    assert r.returncode == 0, r.stderr.decode()
    # closing it again, with another outcome, by anyone: refused, the first close stands
    for who, outcome in (("chen", "sick-leave"), ("doc", "false-alarm")):
        r = signed(gate, db, who, "followup", "close", s1, "--outcome", outcome, "--symptoms", "fever")
        assert r.returncode == 1 and "closed already (late-arrival, by chen)" in one_clear_line(r)
    closed = next(c for c in cases(gate, db) if c["case"] == s1)
    assert (closed["outcome"], closed["closed_by"], closed["symptoms"]) == ("late-arrival", "chen", [])


# --- clearance before return ----------------------------------------------------------------------------------

def test_sick_leave_with_fever_refuses_until_the_school_doctor_clears_and_only_the_doctor_may(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    s1 = case_of(gate, db, "S1")
    r = signed(gate, db, "chen", "followup", "close", s1, "--outcome", "sick-leave", "--symptoms", " Fever ,COUGH")
    assert r.returncode == 0 and "复课证明" in r.stdout.decode(), r.stderr.decode()
    for entrant in ("S1", " S1"):
        r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", entrant, "--json")
        seen = json.loads(r.stdout.decode().splitlines()[-1])
        assert seen["decision"] == "deny" and seen["reasons"][0] == "certificate-needed"
        assert s1[:8] in seen["message"] and "复课证明" in seen["message"]
    for who in ("chen", "zhang"):
        r = signed(gate, db, who, "clearance", "add", "S1", "--note", "复课证明")
        assert r.returncode == 1 and "clearance-add needs admin or health" in one_clear_line(r)
    for wrong in ("S2", "S1x", "S11"):  # a mistyped id clears nobody (" S1 " and "s1" are S1, as at the gate)
        r = signed(gate, db, "doc", "clearance", "add", wrong, "--note", "复课证明")
        assert r.returncode != 0 and one_clear_line(r)
    r = signed(gate, db, "doc", "clearance", "add", "S1", "--note", "")
    assert r.returncode == 2 and one_clear_line(r)
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S1", "--json")
    assert json.loads(r.stdout.decode().splitlines()[-1])["decision"] == "deny"
    assert signed(gate, db, "doc", "clearance", "add", "S1", "--note", "复课证明 seen").returncode == 0
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S1", "--json")
    assert json.loads(r.stdout.decode().splitlines()[-1])["decision"] == "admit"


def test_sick_leave_without_fever_or_a_late_arrival_needs_no_certificate(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S1"), "--outcome", "sick-leave",
                  "--symptoms", "cough").returncode == 0
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S1", "--json")
    assert json.loads(r.stdout.decode().splitlines()[-1])["decision"] == "admit"


# --- cluster alerts -----------------------------------------------------------------------------------------

def alerts(gate, db):
    r = signed(gate, db, "doc", "report", "alerts", "--date", yesterday().isoformat(), "--json")
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]


def test_two_pupils_are_no_cluster_even_with_one_counted_twice_three_are_whatever_the_spelling(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    for who, symptoms in (("S1", " Cough "), ("S2", "COUGH,cough")):
        assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, who), "--outcome", "sick-leave",
                      "--symptoms", symptoms).returncode == 0
    # S1 again: a no-mask refusal yesterday opens a second case of the same pupil, closed with the same symptom
    with ScreeningLog(db) as log:
        Station(Config(), log, language="en", clock=Clock(at(15, 0))).screen(
            [Reading(object_c=36.6, source="manual")], MaskResult(MaskState.NO), entrant_id="S1")
    again = case_of(gate, db, "S1")
    assert signed(gate, db, "chen", "followup", "close", again, "--outcome", "sent-home", "--symptoms",
                  "cough").returncode == 0
    assert alerts(gate, db) == []  # two pupils, three cases
    # pupils of another class with the same symptom do not add up
    assert signed(gate, db, "doc", "followup", "close", case_of(gate, db, "S4"), "--outcome", "sick-leave",
                  "--symptoms", "cough").returncode == 0
    assert alerts(gate, db) == []
    assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S3"), "--outcome", "sick-leave",
                  "--symptoms", "\tcOuGh").returncode in (0, 2)
    if not alerts(gate, db):  # a tab was refused: typed plainly, the third pupil raises it
        assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S3"), "--outcome", "sick-leave",
                      "--symptoms", "cough").returncode == 0
    (alert,) = alerts(gate, db)
    assert (alert["class"], alert["symptom"], sorted(alert["pupils"])) == ("三年级二班", "cough", ["S1", "S2", "S3"])


# --- the SQLite file ------------------------------------------------------------------------------------------

def test_a_close_slipped_into_the_file_closes_nothing_and_verify_names_it(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    s2 = case_of(gate, db, "S2")
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT * FROM cases WHERE case_id = ? AND event = 'open'", (s2,)).fetchone()
        cols = [d[1] for d in conn.execute("PRAGMA table_info(cases)")]
        forged = dict(zip(cols, row))
        forged.update(seq=forged["seq"] + 1000, id="f" * 36, event="close", outcome="late-arrival", by="chen",
                      role="teacher")
        conn.execute(f"INSERT INTO cases ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                     [forged[c] for c in cols])
    assert gate("verify", "--db", db).returncode == 1
    still = [c for c in cases(gate, db, "chen") if c["case"] == s2]
    assert not still or still[0]["state"] == "open"


def test_four_pupils_over_three_days_are_no_cluster_the_fifth_raises_it_and_another_classs_teacher_sees_none(
        gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    (tmp_path / "more.csv").write_text("id,name,class,kind\n" + "".join(f"B{i},乙{i},三年级三班,pupil\n"
                                                                       for i in range(1, 6)), encoding="utf-8")
    r = gate("roster", "import", "--add", "--db", db, "--user", "admin", "--pin-stdin", tmp_path / "more.csv",
             stdin=b"900001\n")
    assert r.returncode == 0, r.stderr.decode()
    days = [yesterday() - datetime.timedelta(days=n) for n in (2, 1, 0)]
    with ScreeningLog(db) as log:
        for d in days[:2]:
            Station(Config(), log, language="en", clock=Clock(at(7, 0, day=d))).screen(
                [Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S0")
    # each B pupil's cough counted on its onset day: two on the first day, two on the second
    onsets = {"B1": days[0], "B2": days[0], "B3": days[1], "B4": days[1], "B5": days[2]}

    def close(who):
        cid = next(c["case"] for c in cases(gate, db) if c["entrant_id"] == who and c["state"] == "open")
        r = signed(gate, db, "doc", "followup", "close", cid, "--outcome", "sick-leave", "--symptoms", "cough",
                   "--onset", onsets[who].isoformat())
        assert r.returncode == 0, r.stderr.decode()

    def alerts_on(d, who="doc"):
        r = signed(gate, db, who, "report", "alerts", "--date", d.isoformat(), "--json")
        assert r.returncode in (0, 1), r.stderr.decode()
        return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()], r

    for who in ("B1", "B2", "B3", "B4"):
        close(who)
    assert all(alerts_on(d)[0] == [] for d in days)  # 2 + 2: four within three days, never three on one day
    close("B5")
    raised, _ = alerts_on(days[2])
    assert [(a["class"], a["symptom"], sorted(a["pupils"])) for a in raised] == [
        ("三年级三班", "cough", ["B1", "B2", "B3", "B4", "B5"])]
    seen_by_chen, r = alerts_on(days[2], "chen")  # chen teaches 三年级二班 only
    assert seen_by_chen == [] and "B1" not in r.stdout.decode()


@pytest.mark.parametrize("extra, says", [
    (("--note", "妈妈\x1b[31m说"), "control or invisible"),
    (("--note", "x" * 501), "at most 500"),
    (("--symptoms", "发热"), "unknown symptom"),
    (("--symptoms", "fever\u200b"), "symptom"),
])
def test_a_close_with_an_odd_note_or_symptom_is_refused_and_the_case_stays_open(gate, tmp_path, extra, says):
    db = tmp_path / "g.db"
    school(gate, db)
    s1 = case_of(gate, db, "S1")
    r = signed(gate, db, "chen", "followup", "close", s1, "--outcome", "sick-leave", *extra)
    err = one_clear_line(r)
    assert r.returncode == 2 and says in err and "\x1b" not in err
    assert next(c for c in cases(gate, db) if c["case"] == s1)["state"] == "open"


@pytest.mark.parametrize("who, args", [
    ("zhang", ("followup", "list")),
    ("chen", ("clearance", "list")),
    ("chen", ("roster", "list")),
    (None, ("followup", "list")),
    (None, ("report", "unscreened", "--session", "morning")),
])
def test_the_wrong_role_or_nobody_signed_in_reads_no_names(gate, tmp_path, who, args):
    db = tmp_path / "g.db"
    school(gate, db)
    r = signed(gate, db, who, *args)
    assert r.returncode in (1, 2) and one_clear_line(r)
    assert "张三" not in r.stdout.decode() and "S1" not in r.stdout.decode()


def test_a_confirmed_fever_and_its_own_case_closed_with_fever_are_one_pupil_not_two(gate, tmp_path):
    db = tmp_path / "g.db"
    fever = confirmed_fever(gate, db)
    assert "fever-confirmed" in fever.reasons
    for c in [c for c in cases(gate, db) if c["entrant_id"] == "S1" and c["state"] == "open"]:
        assert signed(gate, db, "chen", "followup", "close", c["case"], "--outcome", "sent-home", "--symptoms",
                      "fever").returncode == 0
    assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S2"), "--outcome", "sick-leave",
                  "--symptoms", "FEVER").returncode == 0
    r = signed(gate, db, "doc", "report", "alerts", "--date", yesterday().isoformat(), "--json")
    assert r.returncode == 0 and r.stdout.strip() == b""  # S1 twice and S2: two pupils
    assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S3"), "--outcome", "sick-leave",
                  "--symptoms", "fever").returncode == 0
    r = signed(gate, db, "doc", "report", "alerts", "--date", yesterday().isoformat(), "--json")
    (alert,) = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert sorted(alert["pupils"]) == ["S1", "S2", "S3"] and alert["symptom"] == "fever"


def test_a_teacher_closing_a_confirmed_fever_as_false_alarm_does_not_let_the_pupil_in(gate, tmp_path):
    db = tmp_path / "g.db"
    confirmed_fever(gate, db)
    fever_case = next(c["case"] for c in cases(gate, db) if c["entrant_id"] == "S1" and c["reason"] == "fever")
    assert signed(gate, db, "chen", "followup", "close", fever_case, "--outcome", "false-alarm").returncode == 0
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S1", "--json")
    seen = json.loads(r.stdout.decode().splitlines()[-1])
    assert seen["decision"] == "deny" and seen["reasons"][0] == "fever-not-cleared"  # only the doctor clears
