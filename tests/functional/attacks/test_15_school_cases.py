"""Issue 15's one case list for a school with several gates, attacked against a real PostgreSQL (attacker a15): a
teacher closing a case of a class not theirs at the other gate, case events forged upward under the school's id by a
station of another school or by nobody, a pupil of the same id seen at another school's gate, two closes in the
same second at two gates and two at once at one gate, a pupil seen at the other gate one second before and at the
end of the morning check, the pulled table cut out or copied from another gate's file, control characters in a
forged note, a certificate recorded before the close, class names with invisible characters, and a daily report
while the other gate synced one second before the check ended. Every attempt here is refused or detected."""
import json
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from domain.case import Outcome
from gate.clearance import clear
from storage import cases
from storage.log import ScreeningLog
from tests.functional.test_school_cases import PIN, Gate, at, morning_at_north
from tests.pg import unavailable_reason
from tests.support import Clock, env_with_root, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.fixture
def school(tmp_path, pg):
    """north keeps the absence cases; south is the school's other gate; other is a gate of school-99 on the same
    upstream with the same pupil ids."""
    url = pg.create_db("a15_school_cases")
    clock = Clock(at(7, 42))
    north = Gate(tmp_path, "north", url, clock)
    south = Gate(tmp_path, "south", url, clock, absence="off")
    other = Gate(tmp_path, "other", url, clock, absence="off", school="school-99")
    return north, south, other, clock, url


def insert_upstream(url, row, user=None):
    import sqlalchemy as sa

    from storage import upstream as up
    from storage import upstream_schema as tables
    engine = (up.make_upstream_engine(url) if user is None else
              sa.create_engine(url.replace("postgresql://postgres@", f"postgresql+psycopg://{user}@")))
    try:
        with engine.begin() as conn:
            conn.execute(tables.cases.insert().values(**row))
    finally:
        engine.dispose()


def station_role(url, name, school_id="school-12"):
    """A station's own role upstream, as the README's grants make it: insert-only, listed for its school."""
    import psycopg
    name = f"{name}_{url.rsplit('/', 1)[1]}"  # roles are the server's, shared by every database of the run
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in (f"CREATE ROLE {name} LOGIN PASSWORD 'change-me'", f"GRANT USAGE ON SCHEMA public TO {name}",
                    f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {name}",
                    f"INSERT INTO gate_role_schools (role_name, school_id) VALUES ('{name}', '{school_id}')"):
            conn.execute(sql)
    return f"{name}:change-me"


def forged_close(case, school_id, station_id, *, seq=1, cid="forged-1", outcome="false-alarm", note="",
                 symptoms="[]"):
    return dict(school_id=school_id, id=cid, station_id=station_id, seq=seq, case_id=case.case_id, event="close",
                entrant_id=case.entrant_id, class_name=case.class_name, day=case.day, session=case.session,
                reason="absent", screening_id=None, outcome=outcome, symptoms=symptoms, onset=None, note=note,
                by="x", role="teacher", at=at(10, 0), prev_hash="0" * 64, row_hash="0" * 64)


def test_a_teacher_closing_a_case_of_a_class_not_theirs_at_the_other_gate_is_refused(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    p8 = north.case("P8")  # 三年级二班, chen's; wang teaches 三年级三班
    r = south.gate("followup", "close", p8.short_id, "--outcome", "late-arrival", who="wang")
    assert r.returncode == 1 and "refused" in r.stderr and "三年级三班" in r.stderr
    rows, _ = south.listed("--entrant", "P8", who="wang")
    assert rows == []  # not even listed to wang
    south.sync()
    north.sync()
    assert north.case("P8").is_open and south.case("P8").is_open
    assert any(d.get("case") == p8.case_id for d in south.audit("refused"))


@pytest.mark.parametrize("station", ["other", "evil"])
def test_a_close_sent_upward_under_the_schools_id_by_another_schools_station_or_nobody_closes_nothing(school, station):
    """`other` is a registered gate of school-99, `evil` never registered: neither is a gate of school-12."""
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    for g in (north, other, south):
        g.sync()
    insert_upstream(url, forged_close(north.case("P7"), "school-12", station))
    assert south.sync().cases_pulled == 0 and north.sync().cases_pulled == 0
    assert north.case("P7").is_open and south.case("P7").is_open


def test_a_pupil_of_the_same_id_seen_at_another_schools_gate_is_still_followed_up(school, tmp_path):
    north, south, other, clock, url = school
    east = Gate(tmp_path, "east", url, clock, absence="school")  # keeps school-12's absence cases
    south.sync()
    clock.now = at(7, 40)
    other.screen(36.6, "P6")  # P6 of school-99
    other.sync()
    east.screen(36.6, "P42")
    east.sync()
    clock.now = at(9, 0)
    assert east.close_out(at(9, 0)) == 3
    assert east.sync().settled == 0
    assert east.case("P6").is_open


def test_two_closes_in_the_same_second_at_two_gates_settle_alike_and_the_fever_still_refuses(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    p7 = north.case("P7")
    with ScreeningLog(south.db) as log:
        cases.close_case(log, p7.case_id, station_id="south", outcome=Outcome.SENT_HOME, symptoms=("fever",),
                         onset="2026-12-01", note="", by="doc", role="health", at=at(10, 0))
    with ScreeningLog(north.db) as log:
        cases.close_case(log, p7.case_id, station_id="north", outcome=Outcome.LATE_ARRIVAL, symptoms=(),
                         onset=None, note="", by="wang", role="teacher", at=at(10, 0))
    south.sync()
    north.sync()
    south.sync()
    settled = [(g.case("P7").outcome, g.case("P7").closed_at_gate,
                [(o.outcome, o.gate) for o in g.case("P7").other_closes]) for g in (north, south)]
    assert settled[0] == settled[1] == (Outcome.LATE_ARRIVAL, "north", [(Outcome.SENT_HOME, "south")])  # tie: gate id
    clock.now = at(7, 30, day=2)
    for g in (north, south):
        assert g.screen(36.6, "P7").reasons[0] == "certificate-needed"


def test_two_closes_of_one_case_at_once_at_one_gate_record_one(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    p7 = north.case("P7")
    procs = [subprocess.Popen([sys.executable, "-m", "gate.cli", "followup", "close", p7.short_id, "--outcome",
                               outcome, "--db", str(north.db), "--config", str(north.cfg), "--user", "wang",
                               "--pin-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env_with_root())
             for outcome in ("late-arrival", "sick-leave")]
    results = [p.communicate((PIN["wang"] + "\n").encode(), timeout=120) + (p.returncode,) for p in procs]
    assert sorted(code for _, _, code in results) == [0, 1], results
    assert any(b"closed already" in err for _, err, code in results if code == 1)
    with sqlite3.connect(north.db) as conn:
        assert conn.execute("SELECT count(*) FROM cases WHERE event = 'close'").fetchone()[0] == 1
    assert north.verified()


@pytest.mark.parametrize("hms, settled", [((8, 29, 59), True), ((8, 30, 0), False)])
def test_a_pupil_seen_at_the_other_gate_settles_the_case_only_within_the_check(school, hms, settled):
    north, south, other, clock, url = school
    north.screen(36.6, "P42")
    clock.now = time.mktime((2026, 12, 1, *hms, 0, 0, -1))
    south.screen(36.6, "P6")  # at 08:30:00 P6 was late: not seen in the morning check
    clock.now = at(9, 0)
    assert north.close_out(at(9, 0)) == 3
    south.sync()
    assert north.sync().settled == int(settled)
    c = north.case("P6")
    assert (c.outcome is Outcome.SEEN_AT_GATE) is settled
    if settled:
        assert "seen at south in the morning check at 08:29" in c.note


def test_the_pulled_cases_cut_out_of_the_file_are_named_by_verify_and_the_list_warns(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    with sqlite3.connect(south.db) as conn:
        assert conn.execute("DELETE FROM school_cases").rowcount == 3
    r = run_gate("verify", "--db", south.db, "--config", south.cfg)
    assert r.returncode == 1 and "follow-up cases pulled from the school's other gates" in r.stderr
    assert "rows were removed" in r.stderr
    _, said = south.listed()
    assert "changed in this log" in said and "gate verify" in said


def test_pulled_cases_copied_from_another_gates_file_are_named_by_verify(school, tmp_path):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    east = Gate(tmp_path, "east", url, clock, absence="off")
    east.sync()
    with sqlite3.connect(east.db) as conn:
        conn.execute(f"ATTACH '{south.db}' AS s")
        conn.execute("DELETE FROM school_cases")
        assert conn.execute("INSERT INTO school_cases SELECT * FROM s.school_cases").rowcount == 3
    r = run_gate("verify", "--db", east.db, "--config", east.cfg)
    assert r.returncode == 1 and "follow-up cases pulled from the school's other gates" in r.stderr
    rows, said = east.listed()
    assert rows == [] and "changed in this log" in said


def test_a_forged_close_with_terminal_escapes_in_its_note_is_left_out_and_never_printed(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    user = station_role(url, "gate_north")
    insert_upstream(url, forged_close(north.case("P7"), "school-12", "south", seq=57, outcome="personal-leave",
                                      note="\x1b[2J\x1b]0;pwned\x07" + "妈妈说" * 3000,
                                      symptoms='["cough", "\\u001b[31m"]'), user=user)
    north.sync()
    assert north.case("P7").is_open
    r = north.gate("followup", "list")
    assert r.returncode == 0 and "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr


def test_a_certificate_recorded_before_the_close_at_the_other_gate_does_not_clear_it(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    clock.now = at(9, 30)
    with ScreeningLog(south.db) as log, pytest.raises(Exception, match="no confirmed fever waiting"):
        clear(log, station_id="south", entrant_id="P7", note="复课证明 old", by="doc", role="health", now=clock())
    with ScreeningLog(north.db) as log:
        cases.close_case(log, north.case("P7").case_id, station_id="north", outcome=Outcome.SICK_LEAVE,
                         symptoms=("fever",), onset="2026-12-01", note="", by="wang", role="teacher", at=at(10, 0))
    north.sync()
    south.sync()
    clock.now = at(7, 30, day=2)
    for g in (north, south):
        assert g.screen(36.6, "P7").reasons[0] == "certificate-needed"


@pytest.mark.parametrize("spelling", ["三年级\u200b二班", "三年级\t二班", "三年级二班\u202e", "三年级\ufeff二班"])
def test_a_class_with_an_invisible_character_is_refused_in_the_roster_and_in_classes(tmp_path, spelling):
    env = dict(env_with_root(), HOME=str(tmp_path), GATE_LOG_DIR=str(tmp_path / "log"))
    db = tmp_path / "g.db"
    assert run_gate("users", "add", "admin", "--role", "admin", "--db", db, "--pin-stdin", input="900001\n",
                    env=env).returncode == 0
    roster = tmp_path / "r.csv"
    roster.write_text(f"id,name,class,kind\nP1,甲,{spelling},pupil\n", encoding="utf-8")
    r = run_gate("roster", "import", "--db", db, roster, "--user", "admin", "--pin-stdin", input="900001\n", env=env)
    assert r.returncode == 2 and "line 2, field class" in r.stderr and spelling not in r.stderr
    r = run_gate("users", "add", "t", "--role", "teacher", "--classes", spelling, "--db", db, "--user", "admin",
                 "--pin-stdin", input="900001\n754026\n754026\n", env=env)
    assert r.returncode == 2 and "invisible" in r.stderr and spelling not in r.stderr


def test_a_teacher_whose_class_was_typed_with_a_no_break_space_closes_the_other_gates_case(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    r = run_gate("users", "add", "liu", "--role", "teacher", "--classes", "三年级\u00a0二班", "--db", south.db,
                 "--config", south.cfg, "--user", "admin", "--pin-stdin", input="900001\n471938\n471938\n")
    assert r.returncode == 0 and "for 三年级二班" in r.stdout, r.stderr
    r = run_gate("followup", "close", north.case("P8").short_id, "--outcome", "personal-leave", "--db", south.db,
                 "--config", south.cfg, "--user", "liu", "--pin-stdin", input="471938\n")
    assert r.returncode == 0, r.stderr
    r = run_gate("followup", "close", north.case("P7").short_id, "--outcome", "personal-leave", "--db", south.db,
                 "--config", south.cfg, "--user", "liu", "--pin-stdin", input="471938\n")
    assert r.returncode == 1 and "refused" in r.stderr


def faked(tmp_path, when, *args):
    env = dict(env_with_root(), HOME=str(tmp_path / "home"), GATE_LOG_DIR=str(tmp_path / "home" / "log"))
    env.pop("FAKETIME", None)
    if args[0] == "sync":  # PINs are on at these gates: an admin signs in for the first sync
        args = (*args, "--user", "admin", "--pin-stdin")
    r = subprocess.run([shutil.which("faketime"), "-f", when, sys.executable, "-m", "gate.cli", *map(str, args)],
                       input=(PIN["admin"] + "\n").encode(), capture_output=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return r


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_gate_that_synced_one_second_before_the_check_ended_keeps_the_report_provisional(school, tmp_path):
    north, south, other, clock, url = school
    for g in (north, south):
        g.cfg.write_text(g.cfg.read_text(encoding="utf-8").replace('"this-gate"', '"school"\ngates = 2'),
                         encoding="utf-8")
    faked(tmp_path, "2026-12-01 07:20:00", "sync", "--db", north.db, "--config", north.cfg)
    faked(tmp_path, "2026-12-01 08:29:59", "sync", "--db", south.db, "--config", south.cfg)
    report = ("report", "daily", "--db", north.db, "--config", north.cfg, "--date", "2026-12-01", "--json")
    first = json.loads(faked(tmp_path, "2026-12-01 09:00:00", *report).stdout.decode())
    assert first["provisional"] is True and first["zero_report"] is None
    assert [w["gates"] for w in first["waiting_for"]] == [["south"]]
    faked(tmp_path, "2026-12-01 08:30:00", "sync", "--db", south.db, "--config", south.cfg)
    assert json.loads(faked(tmp_path, "2026-12-01 09:00:00", *report).stdout.decode())["provisional"] is False


def test_a_close_forged_under_the_schools_id_by_another_schools_station_role_is_refused_upstream(school):
    import sqlalchemy.exc
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    user = station_role(url, "gate_other", school_id="school-99")
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="row-level security"):
        insert_upstream(url, forged_close(north.case("P7"), "school-12", "south", seq=57), user=user)
    north.sync()
    assert north.case("P7").is_open


async def test_f11_at_the_other_gate_shows_a_teacher_only_its_class_and_refuses_an_odd_symptom_or_long_note(school):
    from gate.config import load_config
    from gate.ui.app import build_app
    from gate.ui.screens.followup import FollowupScreen
    from tests.support import pilot_wait_until

    north, south, other, clock, url = school
    morning_at_north(north, south, clock)  # P6, P7 (三年级三班) and P8 (三年级二班) opened at north
    north.sync()
    south.sync()
    with ScreeningLog(south.db) as log:
        app = build_app(load_config(south.cfg), log, clock=clock)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f11")
            assert await pilot_wait_until(pilot, lambda: app.screen.query("#signin-name"))
            await pilot.press(*"chen", "enter", *PIN["chen"], "enter")
            assert await pilot_wait_until(pilot, lambda: isinstance(app.screen, FollowupScreen) and
                                          len(app.screen.shown) == 1)
            screen = app.screen
            assert [(c.entrant_id, c.gate) for c in screen.shown] == [("P8", "north")]
            for symptoms, note in (("fever\x1b[31m", ""), ("fever", "x" * 600), ("cough", "妈妈\x1b]0;x\x07说")):
                screen.query_one("#fu-outcome").value = "sick-leave"
                screen.query_one("#fu-symptoms").value = symptoms
                screen.query_one("#fu-note").value = note
                await pilot.click("#fu-close")
                await pilot.pause(0.5)
                assert [c.entrant_id for c in screen.shown] == ["P8"], (symptoms, note)
    assert south.case("P8").is_open and south.verified()


def test_the_stations_outcome_is_refused_for_the_other_gates_case(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    r = south.gate("followup", "close", north.case("P7").short_id, "--outcome", "seen-at-gate", who="wang")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert south.case("P7").is_open


def test_case_opens_forged_upward_with_escapes_or_a_huge_note_are_left_out_and_never_printed(school):
    import uuid
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    user = station_role(url, "gate_n")
    for i, (entrant, cls, note) in enumerate([("P6", "三年级三班\x1b[2J", ""), ("P6\x1b[31m", "三年级三班", ""),
                                              ("P9", "三年级三班", "\x1b]0;x\x07" * 10),
                                              ("P10", "三年级三班", "n" * 20000)]):
        insert_upstream(url, dict(school_id="school-12", id=f"o{i}", station_id="south", seq=100 + i,
                                  case_id=str(uuid.uuid4()), event="open", entrant_id=entrant, class_name=cls,
                                  day="2026-12-01", session="morning", reason="absent", screening_id=None,
                                  outcome=None, symptoms="[]", onset=None, note=note, by="station", role="",
                                  at=at(9, 0), prev_hash="0" * 64, row_hash="0" * 64), user=user)
    north.sync()
    for who in ("admin", "wang"):
        r = north.gate("followup", "list", who=who)
        assert r.returncode == 0 and "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr
        assert "P9" not in r.stdout and "P10" not in r.stdout and "[gate south]" not in r.stdout
    rows, _ = north.listed()
    assert sorted(r["entrant_id"] for r in rows) == ["P6", "P7", "P8"]


def test_one_pupil_closed_with_a_cough_at_both_gates_is_one_pupil_of_a_cluster_at_both(tmp_path, pg, monkeypatch):
    import tests.functional.test_school_cases as two_gates
    monkeypatch.setattr(two_gates, "ROSTER", two_gates.ROSTER + "P9,李九,三年级三班,pupil\n")
    url = pg.create_db("a15_cluster_twice")
    clock = Clock(at(7, 42))
    north = Gate(tmp_path, "north", url, clock, absence="school")
    south = Gate(tmp_path, "south", url, clock, absence="off")
    north.sync()
    south.sync()
    north.screen(36.6, "P42")
    clock.now = at(9, 0)
    assert north.close_out(at(9, 0)) == 4
    north.sync()
    south.sync()

    def cough(g, entrant, hour):
        with ScreeningLog(g.db) as log:
            cases.close_case(log, north.case(entrant).case_id, station_id=g.name, outcome=Outcome.SICK_LEAVE,
                             symptoms=("cough",), onset="2026-12-01", note="", by="doc", role="health", at=at(hour, 0))

    def alerts(g):
        r = g.gate("report", "alerts", "--date", "2026-12-01", "--json")
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    cough(north, "P6", 10)
    cough(south, "P6", 11)  # the same pupil closed again at the other gate: a note, not a second pupil
    cough(south, "P7", 12)
    north.sync()
    south.sync()
    north.sync()
    assert alerts(north) == [] and alerts(south) == []
    cough(north, "P9", 13)
    north.sync()
    south.sync()
    for g in (north, south):
        assert [(a["class"], a["symptom"], a["pupils"]) for a in alerts(g)] == [
            ("三年级三班", "cough", ["P6", "P7", "P9"])]


def test_a_teacher_at_the_other_gate_finds_its_class_under_any_spelling_and_no_other(school):
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    for spelling in ("三年级\u3000三班", "三年级 三班", " 三年级三班 "):
        rows, _ = south.listed("--class", spelling, who="wang")
        assert sorted(r["entrant_id"] for r in rows) == ["P6", "P7"]
    r = south.gate("followup", "list", "--class", "三年级 二班", who="wang")
    assert r.returncode == 1 and "not theirs to see" in r.stderr and "P8" not in r.stdout


def test_a_short_id_naming_two_cases_of_the_school_closes_neither(school):
    """A case pulled from the other gate whose id begins like one of this gate's: the 8 characters are refused as
    ambiguous, for the teacher of either class."""
    north, south, other, clock, url = school
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()
    p7 = north.case("P7")
    insert_upstream(url, dict(school_id="school-12", id="o1", station_id="south", seq=100,
                              case_id=p7.case_id[:8] + "-0000-4000-8000-000000000000", event="open",
                              entrant_id="P8", class_name="三年级二班", day="2026-12-01", session="noon",
                              reason="absent", screening_id=None, outcome=None, symptoms="[]", onset=None, note="",
                              by="station", role="", at=at(14, 0), prev_hash="0" * 64, row_hash="0" * 64),
                    user=station_role(url, "gate_n"))
    north.sync()
    for who in ("wang", "chen"):
        r = north.gate("followup", "close", p7.short_id, "--outcome", "late-arrival", who=who)
        assert r.returncode == 1 and "names 2 cases" in r.stderr
    assert north.case("P7").is_open


@pytest.mark.parametrize("start, end, says", [
    ("23:00", "00:30", "never runs past midnight"), ("18:30", "24:00", "not a time of day"),
    ("19:30", "18:30", "must end after it starts"), ("19:00", "19:00", "must end after it starts"),
    ("08:00", "09:00", "overlap"),
])
def test_a_check_across_midnight_empty_backwards_or_overlapping_is_refused_by_config_check(tmp_path, start, end,
                                                                                          says):
    cfg = tmp_path / "gate.toml"
    cfg.write_text('[station]\nid = "north"\n[[sessions]]\nname = "morning"\nlabel_zh = "晨检"\nlabel_en = "morning"\n'
                   'start = "06:30"\nend = "08:30"\n[[sessions]]\nname = "evening"\nlabel_zh = "晚检"\n'
                   f'label_en = "evening"\nstart = "{start}"\nend = "{end}"\n', encoding="utf-8")
    r = run_gate("config", "check", cfg)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
def test_a_provisional_daily_report_in_csv_leaves_the_zero_report_empty_and_says_why_on_stderr(school, tmp_path):
    north, south, other, clock, url = school
    for g in (north, south):
        g.cfg.write_text(g.cfg.read_text(encoding="utf-8").replace('"this-gate"', '"school"\ngates = 2'),
                         encoding="utf-8")
    faked(tmp_path, "2026-12-01 07:20:00", "sync", "--db", north.db, "--config", north.cfg)
    faked(tmp_path, "2026-12-01 07:21:00", "sync", "--db", south.db, "--config", south.cfg)  # before 08:30 only
    r = faked(tmp_path, "2026-12-01 15:00:00", "report", "daily", "--db", north.db, "--config", north.cfg, "--date",
              "2026-12-01", "--csv")
    rows = dict(line.split(",", 1) for line in r.stdout.decode().splitlines()[1:])
    assert rows["zero_report"] == "" and rows["provisional"] == "True"
    assert "waits for south" in r.stderr.decode() and "provisional" not in r.stdout.decode().splitlines()[0]
