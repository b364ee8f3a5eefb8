"""A gate's daily report in a school with two gates says when a check's figures are provisional: the other gate has
not synced since the check ended (or the upstream cannot be asked). Real PostgreSQL; the syncs and the reports are
`gate` commands run on the test's clock (gate.cli.main's, which the sync stamps upstream and the report reads), so
"since the check ended" is the clock of the test, not of the machine."""
import datetime as dt
import json
import time

import pytest

from domain import MaskResult, MaskState, Reading
from gate.config import load_config
from gate.school_day import provisional
from gate.ui.bureau.format import cell
from gate.station import Station
from storage import bureau
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.pg import unavailable_reason
from tests.support import Clock, copy_log, env_with_root, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROSTER = "id,name,class,kind\nP1,张一,三年级二班,pupil\nP2,张二,三年级二班,pupil\n"
DAY = "2026-12-01"


def at(h, m, s=0):
    return time.mktime((2026, 12, 1, h, m, s, 0, 0, -1))


def faked(tmp_path, when: str, *args):
    """`gate ARGS` whose clock reads ``when`` (HH:MM:SS) of DAY: the sync stamps that time upstream, the report
    judges by it. In this process (a new one per command, under faketime, cost a second of imports each)."""
    env = dict(env_with_root(), HOME=str(tmp_path / "home"), GATE_LOG_DIR=str(tmp_path / "home" / "log"))
    env.pop("FAKETIME", None)
    now = at(*map(int, when.split(":")))
    r = run_gate(*args, env=env, text=False, clock=lambda: now)
    assert r.returncode == 0, r.stderr.decode()
    return r


def configure(tmp_path, name, url, absences):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[station]\nid = "{name}"\n[school]\nid = "school-9"\nname = "九小"\n'
                    f'absence_cases = "{absences}"\ngates = 2\n[upstream]\nurl = "{url}"\n', encoding="utf-8")
    return path


GATES = (("south", "off", "P2", "07:10:00"), ("north", "school", "P1", "07:20:00"))


@pytest.fixture(scope="module")
def morning(tmp_path_factory, pg):
    """North keeps the absence cases, south does not; each saw one pupil at 07:00; south synced at 07:10, before
    the morning check ended (08:30), north at 07:20. Made once for the module (each sync is a `gate sync`);
    `school` gives every test its own copy of the upstream and of both logs."""
    folder = tmp_path_factory.mktemp("daily_provisional")
    url = pg.create_db("daily_provisional", migrated=True)
    for name, absences, pupil, when in GATES:
        db, cfg = folder / f"{name}.db", configure(folder, name, url, absences)
        with ScreeningLog(db) as log:
            import_roster(log, ROSTER.encode(), station_id=name, actor="admin")
            Station(load_config(cfg), log, clock=Clock(at(7, 0))).screen(
                [Reading(object_c=36.5, source="manual")], MaskResult(MaskState.YES), entrant_id=pupil)
        faked(folder, when, "sync", "--db", db, "--config", cfg)
    return folder, url, pg.saved(url)


@pytest.fixture
def school(morning, tmp_path, pg):
    folder, url, saved = morning
    pg.restored(url, saved)
    gates = {name: (copy_log(folder / f"{name}.db", tmp_path / f"{name}.db"), configure(tmp_path, name, url, absences))
             for name, absences, _, _ in GATES}
    return url, gates


def test_a_check_the_other_gate_has_not_synced_since_is_provisional(school):
    url, gates = school
    cfg = load_config(gates["north"][1])
    assert provisional(cfg, DAY, at(8, 0)) == []  # no check has ended yet
    waits = provisional(cfg, DAY, at(9, 0))
    assert [(w["session"], w["gates"]) for w in waits] == [("morning", ["south"])]  # noon has not ended
    assert [(w["session"], w["gates"]) for w in provisional(cfg, DAY, at(15, 0))] == [
        ("morning", ["south"]), ("noon", ["south"])]


def test_the_daily_report_says_provisional_in_text_json_and_the_zero_report(school, tmp_path):
    url, gates = school
    db, cfg = gates["north"]
    r = faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY, "--json")
    report = json.loads(r.stdout.decode())
    assert report["provisional"] is True and report["zero_report"] is None  # never a zero report from half the school
    assert [(w["session"], w["gates"]) for w in report["waiting_for"]] == [("morning", ["south"]), ("noon", ["south"])]
    said = r.stderr.decode()
    assert "provisional" in said and "south" in said and "gate sync" in said and "Traceback" not in said
    text = faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY).stdout.decode()
    assert text.splitlines()[0].startswith("provisional 临时: 晨检 morning waits for south")
    assert "zero_report: provisional" in text
    # South syncs after the noon check: the report is whole, and nothing abnormal happened: a zero report
    faked(tmp_path, "14:30:00", "sync", "--db", gates["south"][0], "--config", gates["south"][1])
    report = json.loads(faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY,
                              "--json").stdout.decode())
    assert report["provisional"] is False and report["waiting_for"] == [] and report["zero_report"] is True


def test_a_gate_the_bureau_expects_and_never_synced_keeps_it_provisional(school, tmp_path):
    url, gates = school
    faked(tmp_path, "14:30:00", "sync", "--db", gates["south"][0], "--config", gates["south"][1])
    r = run_gate("upstream", "school", "add", "school-9", "--name", "九小", "--stations", "3", "--replace",
                 "--upstream", url)
    assert r.returncode == 0, r.stderr
    waits = provisional(load_config(gates["north"][1]), DAY, at(15, 0))
    assert [(w["gates"], w["unregistered"]) for w in waits] == [([], 1), ([], 1)]
    db, cfg = gates["north"]
    r = faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY)
    assert "1 gate(s) never synced" in r.stdout.decode()


def test_an_upstream_out_of_reach_makes_the_report_provisional(school, tmp_path):
    url, gates = school
    db, cfg = gates["north"]
    down = tmp_path / "down.toml"
    down.write_text(cfg.read_text(encoding="utf-8").replace(url, "postgresql://nobody@127.0.0.1:1/none"),
                    encoding="utf-8")
    r = faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", down, "--date", DAY, "--json")
    report = json.loads(r.stdout.decode())
    assert report["provisional"] is True and report["zero_report"] is None
    assert {w["upstream"] for w in report["waiting_for"]} == {False}
    assert "out of reach" in r.stderr.decode()


def test_a_school_with_one_gate_asks_no_upstream(school, tmp_path):
    url, gates = school
    one = tmp_path / "one.toml"
    one.write_text(gates["north"][1].read_text(encoding="utf-8").replace('"school"', '"this-gate"'),
                   encoding="utf-8")
    assert provisional(load_config(one), DAY, at(15, 0)) == []


def test_a_sync_with_nothing_to_send_still_says_the_gate_is_up_to_date(school, tmp_path):
    from sqlalchemy import create_engine, text

    url, gates = school
    db, cfg = gates["south"]
    faked(tmp_path, "14:30:00", "sync", "--db", db, "--config", cfg)
    r = faked(tmp_path, "14:45:00", "sync", "--db", db, "--config", cfg)
    assert r.stdout.decode().startswith("sent 0,"), r.stdout.decode()
    engine = create_engine(url)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT last_sync_at FROM stations WHERE station_id = 'south'")).scalar()
    engine.dispose()
    assert last == at(14, 45)  # the second sync sent nothing, and the upstream knows it came


def test_the_school_report_is_provisional_while_a_gate_has_not_synced_since_the_check(school, tmp_path):
    url, gates = school
    base = ("school", "report", "--upstream", url, "--school", "school-9", "--date", DAY)
    report = json.loads(faked(tmp_path, "15:00:00", *base, "--json").stdout.decode())
    assert report["provisional"] is True and report["zero_report"] is None
    assert report["waiting_for"] == {"gates": ["north", "south"], "unregistered": 0, "since": f"{DAY} 14:00",
                                     "not_reported": [], "said_provisional": []}  # the bureau's rule: none
    morning = json.loads(faked(tmp_path, "09:00:00", *base, "--session", "morning", "--json").stdout.decode())
    assert morning["waiting_for"]["gates"] == ["north", "south"]  # both synced before the morning check ended
    faked(tmp_path, "14:35:00", "sync", "--db", gates["north"][0], "--config", gates["north"][1])
    text = faked(tmp_path, "15:00:00", *base).stdout.decode()
    assert "临时 provisional" in text and "south not synced since 2026-12-01 14:00" in text and "零报告" not in text
    # Asked of the morning check alone (after north's 14:35 sync: a sync stamped after the reader's now, as a 09:00
    # report would see it, is not believed): only the morning's end counts, so north is whole, south is not
    morning = json.loads(faked(tmp_path, "15:00:00", *base, "--session", "morning", "--json").stdout.decode())
    assert morning["waiting_for"]["gates"] == ["south"]  # synced 07:10, before the morning check ended
    assert morning["waiting_for"]["since"] == f"{DAY} 08:30"
    faked(tmp_path, "14:30:00", "sync", "--db", gates["south"][0], "--config", gates["south"][1])
    report = json.loads(faked(tmp_path, "15:00:00", *base, "--json").stdout.decode())
    assert report["provisional"] is False and report["waiting_for"] is None and report["zero_report"] is True


def test_a_provisional_day_with_a_fever_is_abnormal_not_undecided(school, tmp_path):
    url, gates = school
    db, cfg = gates["north"]
    with ScreeningLog(db) as log:
        station = Station(load_config(cfg), log, clock=Clock(at(7, 30)))
        for value in (38.6, 38.8):  # suspected, then confirmed: abnormal whatever the other gate saw
            station.screen([Reading(object_c=value, source="manual")], MaskResult(MaskState.YES), entrant_id="P1")
    report = json.loads(faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY,
                              "--json").stdout.decode())
    assert report["provisional"] is True and report["zero_report"] is False


def test_the_bureau_reads_a_provisional_report_as_undecided_until_the_last_gate_reports(school, tmp_path):
    url, gates = school
    db, cfg = gates["north"]
    faked(tmp_path, "15:00:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY)
    faked(tmp_path, "15:01:00", "sync", "--db", db, "--config", cfg)
    engine = bureau.reader(url)
    try:
        (row,) = [r for r in bureau.schools_on(engine, dt.date.fromisoformat(DAY), at(16, 0))
                  if r.school_id == "school-9"]
        # North said it waits for south: the bureau must not show "no zero report" (nor a zero report) for the school
        assert row.provisional is True and row.zero_report is None and row.stations_reported == 1
        assert cell("zero_report", row) == "临时 prov."
        # South syncs and both report: the school's report is whole and nothing abnormal happened
        faked(tmp_path, "15:10:00", "sync", "--db", gates["south"][0], "--config", gates["south"][1])
        faked(tmp_path, "15:20:00", "report", "daily", "--db", db, "--config", cfg, "--date", DAY)
        faked(tmp_path, "15:21:00", "sync", "--db", db, "--config", cfg)
        south_db, south_cfg = gates["south"]
        faked(tmp_path, "15:30:00", "report", "daily", "--db", south_db, "--config", south_cfg, "--date", DAY)
        faked(tmp_path, "15:31:00", "sync", "--db", south_db, "--config", south_cfg)
        (row,) = [r for r in bureau.schools_on(engine, dt.date.fromisoformat(DAY), at(16, 0))
                  if r.school_id == "school-9"]
        assert row.provisional is False and row.zero_report is True and row.stations_reported == 2
    finally:
        engine.dispose()
