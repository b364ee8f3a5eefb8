"""HOLES in issue 15 (school day), found by attacker a15. Copy into tests/functional/attacks/ (beside
school_day_setup.py, which landed) to run; each test FAILS today and passes once the hole is fixed.

HOLE 1 -- a certificate case's close row edited or cut out of the SQLite file lets the pupil in.
  gate followup close CASE --outcome sick-leave --symptoms fever --user chen --pin-stdin
  gate screen --entrant S1 --temp 36.5 --mask yes      -> DENY certificate-needed (复课证明) -- right
  sqlite3 gate.db "UPDATE cases SET note='ok' WHERE event='close' AND entrant_id='S1'"
      (or: DELETE FROM cases WHERE event='close' AND entrant_id='S1'; or: UPDATE ... SET symptoms='[]')
  gate screen --entrant S1 --temp 36.5 --mask yes      -> today: ADMIT 体温正常，请进入。 (exit 0)
  gate verify does name the broken cases chain (exit 1), but the gate itself fails OPEN. The clearance chain and the
  school's pulled records fail closed ("from that row on no clearance counts, so the person stays refused"; "an
  identified person is not screened"). Should: the cases chain not verifying refuses (or does not screen) the
  identified pupil, naming the changed follow-up cases and "restore the log from backup" -- never an admit.

HOLE 2 -- an onset date in the future is accepted.
  gate followup close CASE --outcome sick-leave --symptoms cough --onset 2099-01-01 --user doc --pin-stdin
  today: "closed case 8b33555a of S4 (...): sick-leave, cough", exit 0, onset stored as 2099-01-01.
  Symptoms count for clusters "on its onset day", so the third pupil of a same-day cluster closed with a future
  onset moves out of today's cluster: no alert, no 24-hour report. Should: refused (exit 2), one line "onset
  2099-01-01 is after today (YYYY-MM-DD ...)", nothing recorded.
"""
import datetime
import json
import sqlite3

import pytest

from tests.functional.attacks.conftest import one_clear_line
from tests.functional.attacks.school_day_setup import case_of, cases, school, signed, yesterday


def screen(gate, db, entrant):
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", entrant, "--json")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout.decode().splitlines()[-1])


@pytest.mark.parametrize("edit", [
    "UPDATE cases SET note = 'ok' WHERE event = 'close' AND entrant_id = 'S1'",
    "UPDATE cases SET symptoms = '[]' WHERE event = 'close' AND entrant_id = 'S1'",
    "UPDATE cases SET outcome = 'late-arrival' WHERE event = 'close' AND entrant_id = 'S1'",
    "DELETE FROM cases WHERE event = 'close' AND entrant_id = 'S1'",
])
def test_a_certificate_case_edited_in_the_file_never_admits_the_pupil(gate, tmp_path, edit):
    db = tmp_path / "g.db"
    school(gate, db)
    assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S1"), "--outcome", "sick-leave",
                  "--symptoms", "fever").returncode == 0
    assert screen(gate, db, "S1")["decision"] == "deny"
    with sqlite3.connect(db) as conn:
        conn.execute(edit)
    assert gate("verify", "--db", db).returncode == 1  # detected by verify (holds today)
    r = signed(gate, db, "zhang", "screen", "--temp", "36.5", "--mask", "yes", "--entrant", "S1", "--json")
    # today: exit 0 and {"decision": "admit", "message": "体温正常，请进入。"}
    admitted = r.returncode == 0 and json.loads(r.stdout.decode().splitlines()[-1])["decision"] == "admit"
    assert not admitted, "a pupil waiting for a 复课证明 walked in after the case was edited in the file"


def test_an_onset_in_the_future_is_refused(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    s4 = case_of(gate, db, "S4")
    r = signed(gate, db, "doc", "followup", "close", s4, "--outcome", "sick-leave", "--symptoms", "cough",
               "--onset", future)
    # today: exit 0, "closed case ... sick-leave, cough", onset stored as the future day
    assert r.returncode == 2 and one_clear_line(r)
    assert next(c for c in cases(gate, db) if c["case"] == s4)["state"] == "open"


def test_a_future_onset_does_not_hide_a_same_day_cluster(gate, tmp_path):
    db = tmp_path / "g.db"
    school(gate, db)
    for who in ("S1", "S2"):
        assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, who), "--outcome", "sick-leave",
                      "--symptoms", "cough").returncode == 0
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S3"), "--outcome", "sick-leave",
           "--symptoms", "cough", "--onset", future)
    if next(c for c in cases(gate, db) if c["entrant_id"] == "S3" and c["reason"] == "absent")["state"] == "open":
        assert signed(gate, db, "chen", "followup", "close", case_of(gate, db, "S3"), "--outcome", "sick-leave",
                      "--symptoms", "cough").returncode == 0
    r = signed(gate, db, "doc", "report", "alerts", "--date", yesterday().isoformat(), "--json")
    # today: no line (the third pupil's cough is counted 30 days from now)
    assert [json.loads(line)["class"] for line in r.stdout.decode().splitlines()] == ["三年级二班"]


# ---------------------------------------------------------------------------------------------------------------
# HOLE 3 -- `gate school report --session` takes any word: 晨检 (which `gate report unscreened` accepts as morning)
# and a typo both print a report in which every pupil is "not seen", exit 0.
#   north: P6 screened 07:00, south: P7 at 12:40 (share_roster = true), both synced; then
#   gate school report --upstream URL --school school-12 --date 2026-12-01 --session 晨检
#     today: "十二小 2026-12-01 晨检: seen 0 / 3 at 0 gate(s) (-)  三年级三班: 2 not seen: P6 P7 ..." exit 0
#     (the same with --session moring). `--session morning` rightly says "seen 1 / 3 ... not seen: P7, P42".
#   Should: 晨检 is the morning check (as in `gate report unscreened --session 晨检`); an unknown session is refused
#   with one line naming the sessions (exit 2), as `gate report unscreened --session moring` does.
# HOLE 4 -- a mistyped school id is a zero report.
#   gate school report --upstream URL --school school-13 --date 2026-12-01
#     today: "school-13 2026-12-01: seen 0 / 0 at 0 gate(s) (-) ... 零报告 zero report", exit 0
#   Should: "no gate of school 'school-13' has sent anything to this upstream" (exit 2 or 1): a school that never
#   reported is not a zero report (the bureau's rule: only an exact report of nothing is a zero report).
from tests.pg import unavailable_reason  # noqa: E402

EVENING = datetime.datetime(2026, 12, 1, 18, 0).timestamp  # "now" of the reports of 2026-12-01 (their day)
TWO_GATE_ROSTER = "id,name,class,kind\nP42,张四二,三年级二班,pupil\nP6,李六,三年级三班,pupil\nP7,李七,三年级三班,pupil\n"


@pytest.fixture(scope="module")
def two_gates(tmp_path_factory, pg):
    """north screened P6 at 07:00 and south P7 at 12:40 on 2026-12-01 (each `gate screen` on that clock), both
    synced. Made once for the module: its tests only read the school's report."""
    from tests.functional.attacks.conftest import Gate
    tmp_path = tmp_path_factory.mktemp("a15_two_gates")
    gate = Gate(tmp_path / "home")
    url = pg.create_db("a15_school_report", migrated=True)
    (tmp_path / "r.csv").write_text(TWO_GATE_ROSTER, encoding="utf-8")
    for name, who, when in (("north", "P6", (7, 0)), ("south", "P7", (12, 40))):
        cfg, db = tmp_path / f"{name}.toml", tmp_path / f"{name}.db"
        cfg.write_text(f'[station]\nid = "{name}"\n[school]\nid = "school-12"\nname = "十二小"\nabsence_cases = "off"\n'
                       f'[upstream]\nurl = "{url}"\nshare_roster = true\n', encoding="utf-8")
        assert gate("roster", "import", "--db", db, "--config", cfg, tmp_path / "r.csv").returncode == 0
        r = gate("screen", "--db", db, "--config", cfg, "--temp", "36.5", "--mask", "yes", "--entrant", who,
                 clock=datetime.datetime(2026, 12, 1, *when).timestamp)
        assert r.returncode == 0, r.stderr
        assert gate("sync", "--db", db, "--config", cfg).returncode == 0
    return url


@pytest.mark.skipif(unavailable_reason() is not None, reason="no PostgreSQL")
def test_the_school_report_knows_the_morning_check_by_its_chinese_name_and_refuses_a_typo(gate, two_gates):
    url = two_gates
    base = ("school", "report", "--upstream", url, "--school", "school-12", "--date", "2026-12-01", "--session")
    english = gate(*base, "morning", clock=EVENING).stdout.decode()
    assert "seen 1 / 3" in english
    r = gate(*base, "晨检", clock=EVENING)
    # today: "seen 0 / 3 ... not seen: P6 P7"
    assert r.returncode == 0 and "seen 1 / 3" in r.stdout.decode()
    r = gate(*base, "moring", clock=EVENING)
    # today: exit 0 and every pupil listed as not seen
    assert r.returncode == 2 and "morning" in one_clear_line(r) and r.stdout == b""


@pytest.mark.skipif(unavailable_reason() is not None, reason="no PostgreSQL")
def test_a_school_that_never_reported_is_no_zero_report(gate, two_gates):
    r = gate("school", "report", "--upstream", two_gates, "--school", "school-13", "--date", "2026-12-01",
             clock=EVENING)
    # today: exit 0, "school-13 2026-12-01: seen 0 / 0 ... 零报告 zero report"
    assert "zero report" not in r.stdout.decode() and "零报告" not in r.stdout.decode()
    assert r.returncode != 0 and "school-13" in one_clear_line(r)


# ---------------------------------------------------------------------------------------------------------------
# HOLE 5 -- a late arrival edited into the morning check in the SQLite file is believed by the class list and the
# follow-up: the pupil is "seen", and no case opens for the teacher to close as late-arrival.
#   faketime -f '2026-12-01 07:00:00' gate screen --temp 36.6 --mask yes --entrant S1
#   faketime -f '2026-12-01 08:35:00' gate screen --temp 36.6 --mask yes --entrant S2      (late: session none)
#   sqlite3 gate.db "UPDATE screenings SET session='morning' WHERE entrant_id='S2'"
#   faketime -f '2026-12-01 09:00:00' gate report unscreened --session morning
#     today: "2026-12-01 晨检 morning check: 0 on the roster not seen", exit 0
#   faketime -f '2026-12-01 09:00:00' gate followup list       today: "0 open, 0 closed"
#   gate verify: exit 1, names the changed screening (holds). The README promises the edit "breaks the chain"; the
#   lists built on the chain do not check it, whereas the fever memory now fails closed on an edited log.
#   Should: the class list and the closing-out of the session do not take a changed row as "seen" (the pupil is
#   listed / gets a case, or the command says the log was changed outside the station and exits 1).
def test_a_late_arrival_edited_into_the_morning_check_is_still_followed_up(gate, tmp_path):
    from domain import MaskResult, MaskState, Reading
    from gate.config import Config
    from gate.station import Station
    from storage.log import ScreeningLog
    from tests.functional.attacks.school_day_setup import at
    from tests.support import Clock
    db = tmp_path / "g.db"
    school(gate, db, users=False)  # S0 seen at 07:00 yesterday
    with ScreeningLog(db) as log:
        Station(Config(), log, language="en", clock=Clock(at(8, 35))).screen(
            [Reading(object_c=36.6, source="manual")], MaskResult(MaskState.YES), entrant_id="S2")
    with sqlite3.connect(db) as conn:
        assert conn.execute("UPDATE screenings SET session = 'morning' WHERE entrant_id = 'S2'").rowcount == 1
    r = gate("report", "unscreened", "--db", db, "--date", yesterday().isoformat(), "--session", "morning", "--json")
    listed = r.returncode == 0 and "S2" in {json.loads(line)["id"] for line in r.stdout.decode().splitlines()}
    # today: exit 0 and S2 is not listed (the edited row counts as seen)
    assert listed or r.returncode == 1
    r = gate("followup", "list", "--db", db, "--json")
    has_case = r.returncode == 0 and "S2" in {json.loads(line)["entrant_id"] for line in r.stdout.decode().splitlines()}
    # today: exit 0 and no case for S2
    assert has_case or r.returncode == 1


# ---------------------------------------------------------------------------------------------------------------
# HOLE 6 (minor) -- the gate that keeps the school's absence cases says nothing while its session waits for an
# unreachable upstream: the teacher reads "no absences".
#   north.toml: [school] absence_cases = "school", [upstream] url = "postgresql://...:1/..." (out of reach)
#   faketime -f '2026-12-01 07:00:00' gate screen --entrant P1 ...   (P2, P3 never came)
#   faketime -f '2026-12-01 15:00:00' gate followup list --config north.toml
#     today: "0 open, 0 closed", nothing on stderr, exit 0; `gate report daily` likewise "cases: opened 0, open 0"
#     while its sessions say "unseen 2" / "unseen 3".
#   Should: one line saying the morning and noon checks are not closed out yet because the upstream could not be
#   asked who was seen at the other gates (README: "the session waits instead of opening cases on a guess").
def test_a_session_waiting_for_the_upstream_says_so(gate, tmp_path):
    from domain import MaskResult, MaskState, Reading
    from gate.config import load_config
    from gate.station import Station
    from storage.log import ScreeningLog
    from tests.functional.attacks.school_day_setup import at
    from tests.support import Clock
    cfg, db = tmp_path / "north.toml", tmp_path / "north.db"
    cfg.write_text('[station]\nid = "north"\n[school]\nid = "s5"\nname = "五小"\nabsence_cases = "school"\n'
                   '[upstream]\nurl = "postgresql://gate@127.0.0.1:1/none"\n', encoding="utf-8")
    (tmp_path / "r.csv").write_text("id,name,class,kind\nP1,甲,一班,pupil\nP2,乙,一班,pupil\n", encoding="utf-8")
    assert gate("roster", "import", "--db", db, "--config", cfg, tmp_path / "r.csv").returncode == 0
    with ScreeningLog(db) as log:
        Station(load_config(cfg), log, clock=Clock(at(7, 0))).screen(
            [Reading(object_c=36.5, source="manual")], MaskResult(MaskState.YES), entrant_id="P1")
    r = gate("followup", "list", "--db", db, "--config", cfg)
    # today: stdout "0 open, 0 closed", stderr empty
    assert "upstream" in r.stderr.decode() or "upstream" in r.stdout.decode()


# ---------------------------------------------------------------------------------------------------------------
# HOLE 7 (minor) -- a class typed with an inner space in the roster is a class of its own, with no teacher.
#   roster.csv: "S3,王五,三年级 二班,pupil" beside "S1,张三,三年级二班,pupil" (a trailing full-width space is trimmed,
#   an inner half- or full-width space is kept)
#   gate roster import roster.csv          today: "roster replaced: 4 added ..." exit 0, no word about it
#   gate report unscreened --session morning --user chen (teacher of 三年级二班)   today: S3 is never listed
#   Should: the import warns (or refuses, naming the line) when a class differs from another only by spaces, so
#   every pupil belongs to the class whose teacher follows them up.
def test_a_class_differing_only_by_a_space_is_flagged_at_import(gate, tmp_path):
    db = tmp_path / "g.db"
    (tmp_path / "r.csv").write_text("id,name,class,kind\nS1,张三,三年级二班,pupil\nS3,王五,三年级 二班,pupil\n"
                                    "S4,赵六,三年级\u3000二班,pupil\n", encoding="utf-8")
    r = gate("roster", "import", "--db", db, tmp_path / "r.csv")
    said = (r.stdout + r.stderr).decode()
    # today: exit 0, "roster replaced: 3 added, 0 changed, 0 removed, 0 unchanged" and nothing else
    assert r.returncode != 0 or "三年级 二班" in said or "line 3" in said
