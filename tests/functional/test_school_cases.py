"""One follow-up case list for a school with two gates (storage/school_cases.py), against a real PostgreSQL: a case
opened at the north gate is listed and closed at the south gate, and north learns the close at its next sync; two
closes at once are settled the same way at both gates (the first by time counts, the other is a note, audited); a
teacher of another class is refused at either gate; a pupil seen at the south gate leaves no "not seen" case open at
north after the sync; a certificate close at one gate refuses at both; a forged pulled row is named by `gate verify`
and closes nothing; a gate with no upstream says its list is its own."""
import functools
import json
import sqlite3
import time

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from domain.case import Outcome
from gate.auth import Auth, User
from gate.clearance import clear
from gate.config import load_config
from gate.followup import open_count
from gate.school_day import close_out
from gate.station import Station
from storage import cases, integrity
from storage.errors import LogEdited
from storage.log import ScreeningLog
from storage.roster import import_roster
from storage.sync import Sync
from tests.pg import unavailable_reason
from tests.support import Clock, apply_policy, log_from_template, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROSTER = ("id,name,class,kind\nP42,张四二,三年级二班,pupil\nP6,李六,三年级三班,pupil\nP7,李七,三年级三班,pupil\n"
          "P8,王八,三年级二班,pupil\n")
PIN = {"admin": "900001", "chen": "754026", "wang": "618403", "doc": "530917"}
YES = MaskResult(MaskState.YES)


def at(h, m, day=1):
    return time.mktime((2026, 12, day, h, m, 0, 0, 0, -1))


def staffed_log(name, roster, db):
    """A gate's log before the school day: the roster, the users, and the policy of a config (no screening keys)."""
    cfg = db.with_name(f"{name}.toml")
    cfg.write_text(f'[station]\nid = "{name}"\nlanguage = "en"\n', encoding="utf-8")
    with ScreeningLog(db) as log:
        import_roster(log, roster.encode(), station_id=name, actor="admin")
        auth = Auth(log, name)
        auth.add_user("admin", "admin", PIN["admin"], None)
        auth.add_user("chen", "teacher", PIN["chen"], User("admin", "admin"), classes=("三年级二班",))
        auth.add_user("wang", "teacher", PIN["wang"], User("admin", "admin"), classes=("三年级三班",))
        auth.add_user("doc", "health", PIN["doc"], User("admin", "admin"))
        apply_policy(log, load_config(cfg))


class Gate:
    """One gate of the school: its own log and key, its users (chen teaches 三年级二班, wang 三年级三班)."""

    def __init__(self, tmp_path, name, url, clock, absence="this-gate", school="school-12"):
        self.name, self.clock = name, clock
        self.cfg = tmp_path / f"{name}.toml"
        upstream = f'[upstream]\nurl = "{url}"\n' if url else ""
        self.cfg.write_text(f'[station]\nid = "{name}"\nlanguage = "en"\n[school]\nid = "{school}"\n'
                            f'name = "第十二小学"\nabsence_cases = "{absence}"\n{upstream}', encoding="utf-8")
        # The roster, the users (their PIN hashes are slow on purpose) and the policy, made once a run for each
        # gate name and roster; every test still gets its own copy of the log.
        self.db = log_from_template(tmp_path / f"{name}.db", functools.partial(staffed_log, name, ROSTER),
                                    key=f"school-gate {name} {ROSTER}")

    def gate(self, *argv, who="admin"):
        """`gate ARGV` at this gate on the test's clock (a case closed at 09:00 of the school day, not whenever the
        suite runs: a close stamped days later left the case open in that day's school report)."""
        return run_gate(*argv, "--db", self.db, "--config", self.cfg, "--user", who, "--pin-stdin",
                        input=PIN[who] + "\n", clock=self.clock)

    def sync(self):
        with ScreeningLog(self.db) as log:
            cfg = load_config(self.cfg)
            s = Sync(log, cfg.upstream_url, school_id=cfg.school_id, station_id=self.name, clock=self.clock,
                     sessions=cfg.school_sessions())
            try:
                return s.once()
            finally:
                s.close()

    def screen(self, value, entrant):
        with ScreeningLog(self.db) as log:
            return Station(load_config(self.cfg), log, language="en", clock=self.clock).screen(
                [Reading(object_c=value, source="manual", operator="li")], YES, entrant_id=entrant)

    def close_out(self, when):
        with ScreeningLog(self.db) as log:
            return close_out(log, load_config(self.cfg), when)

    def case(self, entrant):
        with ScreeningLog(self.db) as log:
            return next(c for c in cases.listed(log) if c.entrant_id == entrant)

    def listed(self, *extra, who="admin"):
        r = self.gate("followup", "list", "--json", *extra, who=who)
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()], r.stderr

    def audit(self, action):
        with sqlite3.connect(self.db) as conn:
            return [json.loads(d) for (d,) in conn.execute("SELECT detail FROM audit_events WHERE action = ?",
                                                          (action,))]

    def verified(self) -> bool:
        with ScreeningLog(self.db) as log:
            return integrity.check(log).ok


@pytest.fixture
def school(tmp_path, pg):
    url = pg.create_db("school_cases", migrated=True)
    clock = Clock(at(7, 42))
    north = Gate(tmp_path, "north", url, clock)
    south = Gate(tmp_path, "south", url, clock, absence="off")
    return north, south, clock


def morning_at_north(north, south, clock):
    """P42 screened at north; P6, P7 and P8 seen nowhere: north opens their "not seen" cases at 08:30."""
    assert north.screen(36.6, "P42").decision is Decision.ADMIT
    clock.now = at(9, 0)
    assert north.close_out(at(9, 0)) == 3


def morning_synced(north, south, clock):
    """The morning at north, then both gates synced: south knows north's three cases."""
    morning_at_north(north, south, clock)
    north.sync()
    south.sync()


def test_a_case_opened_at_north_is_listed_and_closed_at_south_and_north_learns_it(school):
    north, south, clock = school
    morning_at_north(north, south, clock)
    north.sync()
    r = south.gate("sync")  # the command line says what it pulled
    assert r.returncode == 0 and "3 follow-up case event(s) from the other gates" in r.stdout, r.stderr
    rows, said = south.listed("--open", who="wang")  # wang teaches 三年级三班: P6 and P7
    assert {r["entrant_id"] for r in rows} == {"P6", "P7"} and {r["gate"] for r in rows} == {"north"}
    assert "the school's cases (school-12)" in said and "3 event(s) pulled" in said
    p6 = north.case("P6")
    r = south.gate("followup", "close", p6.short_id, "--outcome", "personal-leave", "--note", "家长电话",
                   who="wang")
    assert r.returncode == 0, r.stderr
    assert "opened at north, which learns the close at its next sync" in r.stdout
    assert south.audit("case-closed")[-1]["opened_at"] == "north"  # audited where it was closed
    assert south.case("P6").closed_at_gate == "south"
    assert north.case("P6").is_open  # north has not heard yet
    south.sync()
    assert north.sync().cases_pulled == 1
    closed = north.case("P6")
    assert closed.outcome is Outcome.PERSONAL_LEAVE and closed.closed_by == "wang" and closed.closed_at_gate == "south"
    text = north.gate("followup", "list")
    assert "closed personal-leave" in text.stdout and "(closed at south)" in text.stdout
    # Closing it again at north is refused, naming where it was closed.
    again = north.gate("followup", "close", p6.short_id, "--outcome", "sick-leave", who="wang")
    assert again.returncode == 1 and "closed already (personal-leave, by wang at south)" in again.stderr
    # The duty screen's count is the school's: P7 and P8 still open at both gates.
    for g in (north, south):
        with ScreeningLog(g.db) as log:
            assert open_count(log) == 2
    assert north.verified() and south.verified()


def test_a_teacher_of_another_class_is_refused_for_a_case_of_the_other_gate(school):
    north, south, clock = school
    morning_synced(north, south, clock)
    p6 = north.case("P6")
    r = south.gate("followup", "close", p6.short_id, "--outcome", "late-arrival", who="chen")
    assert r.returncode == 1 and "refused" in r.stderr and "三年级三班" in r.stderr
    assert south.case("P6").is_open
    assert any(d.get("case") == p6.case_id and d["why"] == "not the teacher's class" for d in south.audit("refused"))
    r = south.gate("followup", "list", "--class", "三年级三班", who="chen")
    assert r.returncode == 1 and "not theirs to see" in r.stderr


def test_two_gates_closing_one_case_at_once_agree_on_the_first_close(school):
    north, south, clock = school
    morning_synced(north, south, clock)
    p7 = north.case("P7")
    with ScreeningLog(south.db) as log:  # 10:00 at the south gate: sent home with a fever
        cases.close_case(log, p7.case_id, station_id="south", outcome=Outcome.SENT_HOME, symptoms=("fever",),
                         onset="2026-12-01", note="", by="doc", role="health", at=at(10, 0))
    with ScreeningLog(north.db) as log:  # 10:05 at the north gate, before either synced: a late arrival
        cases.close_case(log, p7.case_id, station_id="north", outcome=Outcome.LATE_ARRIVAL, symptoms=(),
                         onset=None, note="", by="wang", role="teacher", at=at(10, 5))
    south.sync()
    north.sync()
    south.sync()
    for g in (north, south):
        c = g.case("P7")
        assert c.outcome is Outcome.SENT_HOME and c.closed_at_gate == "south" and c.closed_at == at(10, 0)
        assert [(o.outcome, o.gate, o.by) for o in c.other_closes] == [(Outcome.LATE_ARRIVAL, "north", "wang")]
        clash = g.audit("case-close-conflict")
        assert len(clash) == 1 and clash[0]["counts"]["gate"] == "south" and clash[0]["notes"][0]["gate"] == "north"
        rows, _ = g.listed("--entrant", "P7")
        assert rows[0]["other_closes"][0]["outcome"] == "late-arrival"
    # Sent home with a fever: refused at both gates until the certificate is recorded, at either.
    clock.now = at(7, 30, day=2)
    for g in (north, south):
        refused = g.screen(36.6, "P7")
        assert refused.decision is Decision.DENY and refused.reasons[0] == "certificate-needed"
    with ScreeningLog(north.db) as log:
        clear(log, station_id="north", entrant_id="P7", note="复课证明 from the hospital", by="doc", role="health",
              now=clock())
    north.sync()
    south.sync()
    assert south.screen(36.6, "P7").decision is Decision.ADMIT
    assert north.verified() and south.verified()


def test_a_later_close_with_a_fever_still_needs_the_certificate(school):
    """The first close said late arrival, the other gate's later close sent the pupil home with a fever: the list
    keeps the first, the gate refuses until the 复课证明 (safety before tidiness)."""
    north, south, clock = school
    morning_synced(north, south, clock)
    p8 = north.case("P8")
    with ScreeningLog(north.db) as log:
        cases.close_case(log, p8.case_id, station_id="north", outcome=Outcome.LATE_ARRIVAL, symptoms=(), onset=None,
                         note="", by="chen", role="teacher", at=at(10, 0))
    with ScreeningLog(south.db) as log:
        cases.close_case(log, p8.case_id, station_id="south", outcome=Outcome.SICK_LEAVE, symptoms=("fever",),
                         onset="2026-12-01", note="", by="doc", role="health", at=at(10, 5))
    north.sync()
    south.sync()
    north.sync()
    clock.now = at(7, 30, day=2)
    for g in (north, south):
        assert g.case("P8").outcome is Outcome.LATE_ARRIVAL
        assert g.screen(36.6, "P8").reasons[0] == "certificate-needed"


def test_a_pupil_seen_at_south_leaves_no_not_seen_case_open_at_north(school):
    north, south, clock = school
    clock.now = at(7, 40)
    assert south.screen(36.6, "P6").decision is Decision.ADMIT  # P6 came in by the south gate
    morning_at_north(north, south, clock)  # north did not see P6: a "not seen" case opens there
    assert north.case("P6").is_open
    south.sync()
    result = north.sync()
    assert result.settled == 1
    c = north.case("P6")
    assert c.outcome is Outcome.SEEN_AT_GATE and c.closed_by == "station"
    assert "seen at south in the morning check at 07:40" in c.note
    assert north.audit("case-closed")[-1]["outcome"] == "seen-at-gate"
    assert north.case("P7").is_open  # seen nowhere: still followed up
    south.sync()
    assert south.case("P6").outcome is Outcome.SEEN_AT_GATE  # the settle went upward in north's sync
    # A teacher may not give the station's outcome.
    r = north.gate("followup", "close", north.case("P7").short_id, "--outcome", "seen-at-gate", who="wang")
    assert r.returncode == 2 and north.case("P7").is_open


@pytest.mark.parametrize("forge", [
    "UPDATE school_cases SET content = replace(content, 'personal-leave', 'false-alarm') "
    "WHERE content LIKE '%personal-leave%'",
    "DELETE FROM school_cases WHERE seq = (SELECT max(seq) FROM school_cases)",
])
def test_a_forged_pulled_case_row_is_named_by_verify_and_closes_nothing(school, forge):
    north, south, clock = school
    morning_synced(north, south, clock)
    with ScreeningLog(north.db) as log:
        cases.close_case(log, north.case("P6").case_id, station_id="north", outcome=Outcome.PERSONAL_LEAVE,
                         symptoms=(), onset=None, note="", by="wang", role="teacher", at=at(10, 0))
    north.sync()
    south.sync()
    assert south.case("P6").outcome is Outcome.PERSONAL_LEAVE
    with sqlite3.connect(south.db) as conn:
        assert conn.execute(forge).rowcount == 1
    r = run_gate("verify", "--db", south.db, "--config", south.cfg)
    assert r.returncode == 1 and "follow-up cases pulled from the school's other gates" in r.stderr
    assert south.case("P6").outcome is not Outcome.FALSE_ALARM  # the forged close is not believed
    rows, said = south.listed()
    assert "changed in this log" in said and "gate verify" in said


def test_a_close_slipped_into_the_pulled_table_closes_nothing(school):
    north, south, clock = school
    morning_synced(north, south, clock)
    p7 = north.case("P7")
    with sqlite3.connect(south.db) as conn:  # a pupil copies a close row by hand: P7 "false alarm", linked on
        last = conn.execute("SELECT row_hash FROM school_cases ORDER BY seq DESC LIMIT 1").fetchone()[0]
        event = {"id": "forged", "case_id": p7.case_id, "event": "close", "station_id": "north", "entrant_id": "P7",
                 "class_name": "三年级三班", "day": p7.day, "session": p7.session, "reason": "absent",
                 "screening_id": None, "outcome": "false-alarm", "symptoms": "[]", "onset": None, "note": "",
                 "by": "wang", "role": "teacher", "at": at(10, 0)}
        conn.execute("INSERT INTO school_cases (id, origin, origin_seq, case_id, entrant_id, at, content, pulled_at, "
                     "prev_hash, row_hash) VALUES ('north/999', 'north', 999, ?, 'P7', ?, ?, ?, ?, ?)",
                     (p7.case_id, at(10, 0), json.dumps(event), at(10, 1), last, "0" * 64))
    assert south.case("P7").is_open
    r = run_gate("verify", "--db", south.db, "--config", south.cfg)
    assert r.returncode == 1 and "follow-up cases pulled from the school's other gates" in r.stderr


def test_a_close_of_the_other_gates_case_cut_out_of_this_file_fails_closed(school):
    north, south, clock = school
    morning_synced(north, south, clock)
    with ScreeningLog(south.db) as log:  # the school doctor at south sends P7 home with a fever (north's case)
        cases.close_case(log, north.case("P7").case_id, station_id="south", outcome=Outcome.SENT_HOME,
                         symptoms=("fever",), onset="2026-12-01", note="", by="doc", role="health", at=at(10, 0))
    clock.now = at(7, 30, day=2)
    assert south.screen(36.6, "P7").reasons[0] == "certificate-needed"
    with sqlite3.connect(south.db) as conn:  # the pupil deletes the close from south's file
        assert conn.execute("DELETE FROM cases WHERE event = 'close'").rowcount == 1
    with pytest.raises(LogEdited, match="before P7 is admitted"):
        south.screen(36.6, "P7")


def test_a_pulled_certificate_close_edited_into_a_false_alarm_still_refuses(school):
    north, south, clock = school
    morning_at_north(north, south, clock)
    with ScreeningLog(north.db) as log:
        cases.close_case(log, north.case("P7").case_id, station_id="north", outcome=Outcome.SENT_HOME,
                         symptoms=("fever",), onset="2026-12-01", note="", by="doc", role="health", at=at(10, 0))
    north.sync()
    south.sync()
    with sqlite3.connect(south.db) as conn:
        assert conn.execute("UPDATE school_cases SET content = replace(content, 'sent-home', 'false-alarm') "
                            "WHERE content LIKE '%sent-home%'").rowcount == 1
    assert south.case("P7").is_open  # the edited close is not believed ...
    clock.now = at(7, 30, day=2)
    assert south.screen(36.6, "P7").reasons[0] == "certificate-needed"  # ... and the pupil is still refused


def test_a_close_sent_upward_under_another_school_closes_nothing_here(school):
    from storage import upstream as up
    from storage import upstream_schema as tables

    north, south, clock = school
    morning_at_north(north, south, clock)
    north.sync()
    p7 = north.case("P7")
    engine = up.make_upstream_engine(load_config(north.cfg).upstream_url)
    try:
        with engine.begin() as conn:  # a station of school-13 answers north's case on the shared upstream
            conn.execute(tables.cases.insert().values(
                school_id="school-13", id="c13", station_id="north", seq=1, case_id=p7.case_id, event="close",
                entrant_id="P7", class_name="三年级三班", day=p7.day, session=p7.session, reason="absent",
                screening_id=None, outcome="false-alarm", symptoms="[]", onset=None, note="", by="x", role="teacher",
                at=at(10, 0), prev_hash="0" * 64, row_hash="0" * 64))
    finally:
        engine.dispose()
    south.sync()
    assert north.sync().cases_pulled == 0
    assert north.case("P7").is_open and south.case("P7").is_open


def test_an_upstream_out_of_reach_leaves_the_list_as_last_pulled(school):
    north, south, clock = school
    morning_synced(north, south, clock)
    text = south.cfg.read_text(encoding="utf-8")
    south.cfg.write_text(text.split("[upstream]")[0] + '[upstream]\nurl = "postgresql://gate@127.0.0.1:9/none"\n',
                         encoding="utf-8")
    assert south.gate("sync").returncode == 1  # out of reach: one line, nothing changes here
    r = south.gate("followup", "list", "--open")
    assert r.returncode == 0 and "3 open" in r.stdout and "as of the last sync" in r.stdout


def test_a_gate_with_no_upstream_lists_its_own_cases_and_says_so(tmp_path):
    clock = Clock(at(7, 42))
    alone = Gate(tmp_path, "alone", None, clock)
    assert alone.screen(36.6, "P42").decision is Decision.ADMIT
    assert alone.close_out(at(9, 0)) == 3
    r = alone.gate("followup", "list", "--open")
    assert r.returncode == 0 and r.stdout.startswith("this gate's cases only (no upstream in the config)")
    assert "3 open, 0 closed" in r.stdout and "[gate alone]" in r.stdout
    p6 = alone.case("P6")
    assert alone.gate("followup", "close", p6.short_id, "--outcome", "sick-leave", who="wang").returncode == 0
    assert not alone.case("P6").is_open and alone.verified()
