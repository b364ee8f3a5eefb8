"""Follow-up cases (因病缺勤追踪): every rule that opens a case, closing with an outcome (teacher or school doctor,
signed in, audited, chained), carry-over, and the clearance before return. The clock is always injected."""
import io
import json
import sys
import time

import pytest
from sqlalchemy import text

from domain import Decision, MaskResult, MaskState, Reading, Reason
from domain.case import CaseReason, Outcome
from gate.auth import Auth, User
from gate.cli import main
from gate.clearance import clear
from gate.config import Config
from gate.followup import close_sessions
from gate.station import Station
from storage import audit, cases
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import Clock, log_from_template

ROSTER = ("id,name,class,kind\nS1,张三,三年级二班,pupil\nS2,李四,三年级二班,pupil\nS3,王五,三年级三班,pupil\n"
          "T1,王老师,教务处,staff\n")
PIN = {"admin": "900001", "chen": "754026", "doc": "645913", "zhang": "318274"}
YES, NO = MaskResult(MaskState.YES), MaskResult(MaskState.NO)
SESSIONS = Config().school_sessions()


def at(h, m, s=0, day=1):
    return time.mktime((2026, 12, day, h, m, s, 0, 0, -1))


def hand(v):
    return Reading(object_c=v, source="manual")


@pytest.fixture
def school(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        yield Station(Config(), log, language="en", clock=clock), log, clock


def opened(log, reason=None):
    return [c for c in cases.listed(log) if reason is None or c.reason is reason]


def test_pupils_not_seen_get_a_case_when_the_session_closes_and_not_before(school):
    station, log, clock = school
    station.screen([hand(36.6)], YES, entrant_id="S1")
    assert close_sessions(log, SESSIONS, "gate-1", at(8, 29, 59)) == 0
    assert close_sessions(log, SESSIONS, "gate-1", at(8, 30, 0)) == 2
    absent = opened(log, CaseReason.ABSENT)
    assert sorted((c.entrant_id, c.class_name, c.session) for c in absent) == [
        ("S2", "三年级二班", "morning"), ("S3", "三年级三班", "morning")]  # staff are not followed up as absent
    assert close_sessions(log, SESSIONS, "gate-1", at(9, 0)) == 0  # a session is closed out once
    assert [e["action"] for e in audit.events(log, 5)].count("session-closed") == 1


def test_a_pupil_absent_in_the_morning_is_not_opened_again_at_noon(school):
    station, log, clock = school
    station.screen([hand(36.6)], YES, entrant_id="S1")
    clock.now = at(12, 40)
    station.screen([hand(36.6)], YES, entrant_id="S3")
    close_sessions(log, SESSIONS, "gate-1", at(14, 0))
    absent = sorted((c.entrant_id, c.session) for c in opened(log, CaseReason.ABSENT))
    # S2 missed both (one case), S3 missed the morning, S1 missed noon
    assert absent == [("S1", "noon"), ("S2", "morning"), ("S3", "morning")]


def test_a_day_nobody_was_screened_opens_nothing(school):
    station, log, clock = school
    station.screen([hand(36.6)], YES, entrant_id="S1")
    close_sessions(log, SESSIONS, "gate-1", at(9, 0, day=3))  # day 2: a holiday, nobody at the gate
    assert {c.day for c in opened(log)} == {"2026-12-01"}


def test_a_confirmed_fever_opens_its_case_with_the_screening(school):
    station, log, clock = school
    station.screen([hand(38.5)], YES, entrant_id="S2")
    assert opened(log) == []  # a suspected fever is not a case yet
    s = station.screen([hand(38.4)], YES, entrant_id="S2")
    assert s.decision is Decision.DENY
    (case,) = opened(log)
    assert (case.reason, case.screening_id, case.class_name, case.session) == (
        CaseReason.FEVER, s.id, "三年级二班", "morning")
    station.screen([hand(36.6)], YES, entrant_id="S2")  # refused as not cleared: no second fever case
    assert len(opened(log, CaseReason.FEVER)) == 1


def test_a_no_mask_refusal_opens_one_case_a_day(school):
    station, log, clock = school
    station.screen([hand(36.6)], NO, entrant_id="S3")
    station.screen([hand(36.6)], NO, entrant_id="S3")
    assert [c.reason for c in opened(log)] == [CaseReason.NO_MASK]
    station.screen([hand(36.6)], NO)  # anonymous: nobody to follow up
    assert len(opened(log)) == 1


def test_a_retest_left_open_at_the_end_of_the_session_opens_a_case(school):
    station, log, clock = school
    high = station.screen([hand(38.0)], YES, entrant_id="S1")
    station.screen([hand(38.0)], YES, entrant_id="S2")
    station.screen([hand(36.5)], YES, entrant_id="S2")  # answered: admitted
    station.screen([hand(36.6)], YES, entrant_id="S3")
    close_sessions(log, SESSIONS, "gate-1", at(8, 30))
    (case,) = opened(log, CaseReason.RETEST_OPEN)
    assert (case.entrant_id, case.screening_id) == ("S1", high.id)


def test_open_cases_carry_over_to_the_next_day(school):
    station, log, clock = school
    station.screen([hand(36.6)], YES, entrant_id="S1")
    close_sessions(log, SESSIONS, "gate-1", at(7, 0, day=2))
    assert {c.entrant_id for c in cases.listed(log, open_only=True)} == {"S2", "S3", "S1"}  # S1 missed noon


# -- the command line ------------------------------------------------------------------------------------------------
def staffed_morning(db):
    """The school's log (its policy stored by the station before anyone had a PIN), four users, S1 seen at 07:00 and
    the morning check closed at 08:30: the others' absence cases open. Made once a run: PIN hashes are slow."""
    with ScreeningLog(db) as log:
        import_roster(log, ROSTER.encode(), station_id="gate-1", actor="admin")
        station = Station(Config(), log, language="en", clock=Clock(at(7, 0)))
        auth = Auth(log, "gate-1")
        auth.add_user("admin", "admin", PIN["admin"], None)
        auth.add_user("chen", "teacher", PIN["chen"], User("admin", "admin"), classes=("三年级二班",))
        auth.add_user("doc", "health", PIN["doc"], User("admin", "admin"))
        auth.add_user("zhang", "duty", PIN["zhang"], User("admin", "admin"))
        station.screen([hand(36.6)], YES, entrant_id="S1")
        close_sessions(log, SESSIONS, "gate-1", at(8, 30))


@pytest.fixture
def teachers(db_path):
    clock = Clock(at(7, 0))
    with ScreeningLog(log_from_template(db_path, staffed_morning)) as log:
        yield Station(Config(), log, language="en", clock=clock), log, clock


def gate(capsys, monkeypatch, db, *argv, who="chen"):
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(PIN[who] + "\n"))
    code = main([*map(str, argv), "--db", str(db), "--user", who, "--pin-stdin"])
    out = capsys.readouterr()
    return code, out.out, out.err


def case_of(log, entrant):
    return next(c for c in cases.listed(log) if c.entrant_id == entrant)


def test_a_teacher_lists_and_closes_only_its_classes(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "list", "--open", "--json")
    assert code == 0, err
    assert [json.loads(line)["entrant_id"] for line in out.splitlines()] == ["S2"]
    s2, s3 = case_of(log, "S2"), case_of(log, "S3")
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "close", s2.short_id, "--outcome",
                          "late-arrival", "--note", "到校 08:40")
    assert code == 0 and f"closed case {s2.short_id} of S2" in out, err
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "close", s3.case_id, "--outcome", "sick-leave")
    assert code == 1 and "is of 三年级三班; chen is the teacher of 三年级二班" in err
    ev = audit.events(log, 1)[0]
    assert (ev["actor"], ev["action"], ev["detail"]["case"]) == ("chen", "refused", s3.case_id)
    assert case_of(log, "S3").is_open
    code, _, err = gate(capsys, monkeypatch, log.path, "followup", "list", "--class", "三年级三班")
    assert code == 1 and "not theirs to see" in err


def test_closing_twice_an_unknown_case_and_bad_values_are_refused(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    s3 = case_of(log, "S3")
    assert gate(capsys, monkeypatch, log.path, "followup", "close", s3.short_id, "--outcome", "personal-leave",
                who="doc")[0] == 0
    code, _, err = gate(capsys, monkeypatch, log.path, "followup", "close", s3.short_id, "--outcome",
                        "sick-leave", who="doc")
    assert code == 1 and "closed already (personal-leave, by doc)" in err
    code, _, err = gate(capsys, monkeypatch, log.path, "followup", "close", "zzzzzzzz", "--outcome", "sick-leave",
                        who="doc")
    assert code == 1 and "no case 'zzzzzzzz'" in err
    for bad, says in ((["--symptoms", "fever,itchy"], "unknown symptom(s) itchy"),
                      (["--onset", "1 Dec"], "is not a date"), (["--outcome", "gone"], "invalid choice"),
                      (["--note", "a\x1b[2Jb"], "note")):
        argv = ["followup", "close", s3.short_id, "--outcome", "sick-leave", *bad]
        code, _, err = gate(capsys, monkeypatch, log.path, *argv, who="doc")
        assert code == 2 and says in err, (bad, err)
    code, _, err = gate(capsys, monkeypatch, log.path, "followup", "close", s3.short_id, "--outcome", "sick-leave",
                        who="zhang")
    assert code == 1 and "zhang is duty; followup-close needs health or teacher" in err


def test_a_close_edited_in_the_file_closes_nothing(teachers):
    station, log, clock = teachers
    s2 = case_of(log, "S2")
    cases.close_case(log, s2.case_id, station_id="gate-1", outcome=Outcome.PERSONAL_LEAVE, symptoms=(), onset=None,
                     note="", by="chen", role="teacher", at=at(9, 0), classes=None)
    with log.engine.begin() as conn:  # turn personal leave into a false alarm by hand
        conn.execute(text("UPDATE cases SET outcome = 'false-alarm' WHERE event = 'close'"))
    assert case_of(log, "S2").is_open
    assert not cases.verify(log).ok


# -- clearance before return -----------------------------------------------------------------------------------------
def test_sent_home_with_fever_refuses_the_pupil_until_the_certificate_is_recorded(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    s2 = case_of(log, "S2")
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "close", s2.short_id, "--outcome",
                          "sick-leave", "--symptoms", "fever,cough", "--onset", "2026-11-28")  # a past day: the wall clock reads it
    assert code == 0 and "refused at the gate until the school doctor" in out, err
    clock.now = at(7, 5, day=3)
    back = station.screen([hand(36.5)], YES, entrant_id="S2")
    assert back.decision is Decision.DENY and back.reasons[0] == Reason.CERTIFICATE_NEEDED
    assert f"Follow-up case {s2.short_id} (sick-leave with fever" in back.message and "复课证明" in back.message
    assert "复课证明" in station.message_in(back, "zh-CN") and s2.short_id in station.message_in(back, "zh-CN")
    clear(log, station_id="gate-1", entrant_id="S2", note="医院复课证明 12月2日", by="doc", role="health",
          now=clock())
    assert station.screen([hand(36.5)], YES, entrant_id="S2").decision is Decision.ADMIT


def test_personal_leave_or_a_cough_alone_needs_no_certificate(teachers):
    station, log, clock = teachers
    for entrant, outcome, symptoms in (("S2", Outcome.PERSONAL_LEAVE, ("fever",)),
                                       ("S3", Outcome.SICK_LEAVE, ("cough",))):
        cases.close_case(log, case_of(log, entrant).case_id, station_id="gate-1", outcome=outcome,
                         symptoms=symptoms, onset=None, note="", by="doc", role="health", at=clock(), classes=None)
        assert station.screen([hand(36.5)], YES, entrant_id=entrant).decision is Decision.ADMIT


def sent_home_with_a_fever(station, log, when):
    """S1's fever confirmed at the gate; at `when` the school doctor closes its case: sent home with a fever."""
    station.screen([hand(38.6)], YES, entrant_id="S1")
    station.screen([hand(38.7)], YES, entrant_id="S1")
    fever_case = next(c for c in cases.listed(log) if c.reason is CaseReason.FEVER)
    cases.close_case(log, fever_case.case_id, station_id="gate-1", outcome=Outcome.SENT_HOME, symptoms=("fever",),
                     onset="2026-12-01", note="", by="doc", role="health", at=when, classes=None)


def test_one_clearance_clears_a_confirmed_fever_and_the_case_that_followed_it(teachers):
    station, log, clock = teachers
    sent_home_with_a_fever(station, log, clock())
    clock.now = at(7, 0, day=3)
    assert station.screen([hand(36.5)], YES, entrant_id="S1").reasons[0] == Reason.FEVER_NOT_CLEARED
    clear(log, station_id="gate-1", entrant_id="S1", note="doctor's note", by="doc", role="health", now=clock())
    assert station.screen([hand(36.5)], YES, entrant_id="S1").decision is Decision.ADMIT


def test_a_pupil_sent_home_with_a_fever_gets_no_absence_case_at_noon(school):
    station, log, clock = school
    station.screen([hand(38.6)], YES, entrant_id="S1")
    station.screen([hand(38.6)], YES, entrant_id="S1")
    for pupil in ("S2", "S3"):
        station.screen([hand(36.6)], YES, entrant_id=pupil)
    clock.now = at(12, 40)
    for pupil in ("S2", "S3"):
        station.screen([hand(36.6)], YES, entrant_id=pupil)
    close_sessions(log, SESSIONS, "gate-1", at(14, 0))
    assert [(c.entrant_id, c.reason) for c in opened(log)] == [("S1", CaseReason.FEVER)]


def test_one_clearance_after_the_fever_and_the_days_of_sick_leave_lets_the_pupil_back(teachers):
    station, log, clock = teachers
    sent_home_with_a_fever(station, log, at(9, 0))
    clock.now = at(7, 0, day=2)
    station.screen([hand(36.6)], YES, entrant_id="S2")  # day 2 is a school day; S1 stays home
    close_sessions(log, SESSIONS, "gate-1", at(8, 30, day=2))
    absent = next(c for c in cases.listed(log, open_only=True) if c.entrant_id == "S1")
    cases.close_case(log, absent.case_id, station_id="gate-1", outcome=Outcome.SICK_LEAVE, symptoms=("fever",),
                     onset="2026-12-01", note="", by="chen", role="teacher", at=at(9, 0, day=2), classes=None)
    clock.now = at(7, 0, day=3)
    assert station.screen([hand(36.5)], YES, entrant_id="S1").decision is Decision.DENY
    clear(log, station_id="gate-1", entrant_id="S1", note="复课证明", by="doc", role="health", now=clock())
    assert station.screen([hand(36.5)], YES, entrant_id="S1").decision is Decision.ADMIT


def test_the_school_doctor_sees_who_waits_for_a_certificate(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    s2 = case_of(log, "S2")
    cases.close_case(log, s2.case_id, station_id="gate-1", outcome=Outcome.SENT_HOME, symptoms=("fever",),
                     onset=None, note="", by="chen", role="teacher", at=clock(), classes=None)
    code, out, err = gate(capsys, monkeypatch, log.path, "clearance", "list", "--json", who="doc")
    assert code == 0, err
    (waiting,) = [json.loads(line) for line in out.splitlines() if json.loads(line)["state"] == "waiting"]
    assert (waiting["entrant_id"], waiting["case"], waiting["outcome"]) == ("S2", s2.case_id, "sent-home")
    clear(log, station_id="gate-1", entrant_id="S2", note="复课证明", by="doc", role="health", now=clock() + 60)
    code, out, _ = gate(capsys, monkeypatch, log.path, "clearance", "list", "--json", who="doc")
    assert [json.loads(line)["state"] for line in out.splitlines()] == ["cleared"]


# -- any spelling of the pupil's id (P42, p42, Ｐ４２: domain.identifiers.id_key) --------------------------------------
def test_a_case_is_listed_closed_and_refused_on_under_any_spelling(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    s2 = case_of(log, "S2")
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "list", "--entrant", "ｓ２", "--json")
    assert code == 0, err
    assert [json.loads(line)["case"] for line in out.splitlines()] == [s2.case_id]
    code, out, err = gate(capsys, monkeypatch, log.path, "followup", "close", s2.short_id, "--outcome", "sick-leave",
                          "--symptoms", "fever", who="doc")
    assert code == 0 and s2.short_id in out and "refused at the gate until the school doctor" in out, err
    assert cases.listed(log, open_only=True, entrant_id="S2") == []
    clock.now = at(7, 5, day=3)
    for spelling in ("S2", "s2", "Ｓ２"):  # the certificate is needed however the id reaches the gate
        back = station.screen([hand(36.5)], YES, entrant_id=spelling)
        assert back.decision is Decision.DENY and back.reasons[0] == Reason.CERTIFICATE_NEEDED, spelling
    code, out, _ = gate(capsys, monkeypatch, log.path, "clearance", "list", "--json", who="doc")
    assert [json.loads(line)["entrant_id"] for line in out.splitlines()
            if json.loads(line)["state"] == "waiting"] == ["S2"]
    clear(log, station_id="gate-1", entrant_id="ｓ２", note="复课证明", by="doc", role="health", now=clock())
    assert station.screen([hand(36.5)], YES, entrant_id="s2").decision is Decision.ADMIT


def test_a_pupil_id_is_no_case_id(teachers, capsys, monkeypatch):
    station, log, clock = teachers
    code, _, err = gate(capsys, monkeypatch, log.path, "followup", "close", "s2", "--outcome", "late-arrival")
    assert code == 1 and "no case" in err and "nothing was recorded" in err
    assert len(cases.listed(log, open_only=True, entrant_id="S2")) == 1


def test_cases_opened_under_one_spelling_are_not_opened_again_under_another(school):
    station, log, clock = school
    with log.unit("a case") as u:  # as a gate without the roster wrote it: the pupil typed in lower case
        cases.open_case(u, log, station_id="gate-1", entrant_id="s3", class_name="", day="2026-12-01",
                        session="morning", reason=CaseReason.ABSENT, screening_id=None, at=at(8, 30))
    with log.read("cases") as conn:
        assert cases.has_open(conn, "S3", CaseReason.ABSENT, "2026-12-01")
        assert cases.has_open(conn, "Ｓ３", CaseReason.ABSENT, "2026-12-01")
        assert not cases.has_open(conn, "S33", CaseReason.ABSENT, "2026-12-01")
    station.screen([hand(36.6)], YES, entrant_id="S1")
    close_sessions(log, SESSIONS, "gate-1", at(8, 30))
    assert sorted(c.entrant_id for c in opened(log, CaseReason.ABSENT)) == ["S2", "s3"]  # S3 not opened twice
