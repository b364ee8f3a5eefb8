"""a16c's hole (issue 16): at a gate with no roster, the daily report's top-level `unscreened` was already "not known"
(null), but its per-check block still said `"expected": 0, "unseen": 0` for 晨检 and 午检, and `gate report unscreened
--session morning` printed "… 0 on the roster not seen" (with --json: nothing at all). A tired teacher reads 0 not
seen. Now every form says not known (null / "— (no roster)"), never 0; a gate with a roster still gives its figures
(a real 0 stays 0)."""
import csv
import io
import json

from gate.config import load_config
from gate.school_day import session_state
from storage.log import ScreeningLog
from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate
from tests.support import Clock, run_gate

ROSTER = "id,name,class,kind\nP1,张一,三年级二班,pupil\nP2,张二,三年级二班,pupil\n"
LATE = Clock(at(DAY, 20, 0))


def daily_json(gate):
    done = run_gate("report", "daily", "--config", gate.cfg, "--date", DAY.isoformat(), "--json", clock=LATE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def unscreened(gate, *extra):
    return run_gate("report", "unscreened", "--config", gate.cfg, "--date", DAY.isoformat(), *extra, clock=LATE)


def test_a_gate_without_a_roster_gives_no_zero_unseen_for_a_session(tmp_path):
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", "sqlite:///" + str(tmp_path / "up.db"))
    n1.screen_at(at(DAY, 7, 30), "P1")
    report = daily_json(n1)
    assert report["unscreened"] is None
    assert set(report["sessions"]) >= {"morning", "noon"}
    for name, session in report["sessions"].items():
        assert session["unseen"] is None and session["expected"] is None, (name, session)  # was: 0 and 0
        assert session["seen"] is None, (name, session)  # "0 of the roster seen" while P1 was screened: not known
    assert report["sessions"]["morning"]["screened_ids"] == 1  # who was screened is still counted
    text = run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(), clock=LATE).stdout
    line = next(x for x in text.splitlines() if x.startswith("sessions: "))
    assert "'unseen': '— (no roster)'" in line and "'unseen': 0" not in line and "None" not in line, line
    rows = dict(r for r in csv.reader(io.StringIO(run_gate(
        "report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(), "--csv", clock=LATE).stdout.lstrip("\ufeff")))
        if len(r) == 2)
    assert json.loads(rows["sessions"])["morning"]["unseen"] is None, rows["sessions"]
    with ScreeningLog(n1.db) as log:  # the duty screen's check bar during 晨检: no "seen 0" while P1 was screened
        shown = session_state(log, load_config(n1.cfg).school_sessions(), at(DAY, 7, 45)).text("zh-CN")
    assert "晨检" in shown and "seen — (no roster loaded)" in shown and "seen 0" not in shown, shown


def test_report_unscreened_at_a_gate_without_a_roster_says_not_known_not_0(tmp_path):
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", "sqlite:///" + str(tmp_path / "up.db"))
    n1.screen_at(at(DAY, 7, 30), "P1")
    for when in (("--session", "morning"), ("--session", "午检"), ()):
        text = unscreened(n1, *when)
        assert text.returncode == 0, text.stderr
        assert "0 on the roster not seen" not in text.stdout, text.stdout  # was: exactly that, exit 0
        assert "— (no roster)" in text.stdout and "gate roster import" in text.stdout, text.stdout
        assert len(text.stdout.splitlines()) == 1, text.stdout
        as_json = unscreened(n1, *when, "--json")
        assert as_json.returncode == 0, as_json.stderr
        assert as_json.stdout.strip(), "was: --json printed nothing at all (exit 0)"
        said = [json.loads(x) for x in as_json.stdout.splitlines()]
        assert len(said) == 1 and said[0]["unscreened"] is None and said[0]["roster"] == 0, said
        assert said[0]["session"] == ({"morning": "morning", "午检": "noon"}[when[1]] if when else None), said
        # CSV is rows of people: it cannot say "not known", and an empty list would read "everyone seen"
        as_csv = unscreened(n1, *when, "--csv")
        assert as_csv.returncode == 1 and as_csv.stdout == "", as_csv.stdout
        assert len(as_csv.stderr.strip().splitlines()) == 1 and "no roster" in as_csv.stderr, as_csv.stderr


def test_a_gate_with_a_roster_still_gives_each_checks_figures(tmp_path):
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", "sqlite:///" + str(tmp_path / "up.db"), roster=ROSTER)
    n1.screen_at(at(DAY, 7, 30), "P1")
    morning = daily_json(n1)["sessions"]["morning"]
    assert (morning["seen"], morning["expected"], morning["unseen"]) == (1, 2, 1), morning
    noon = daily_json(n1)["sessions"]["noon"]
    assert (noon["seen"], noon["expected"], noon["unseen"]) == (0, 2, 2), noon  # a real 0 seen stays 0
    with ScreeningLog(n1.db) as log:
        shown = session_state(log, load_config(n1.cfg).school_sessions(), at(DAY, 7, 45)).text("en")
    assert "seen 1 / 2" in shown, shown
    text = unscreened(n1, "--session", "morning")
    assert text.returncode == 0 and "1 on the roster not seen" in text.stdout and "P2" in text.stdout, text.stdout
    said = [json.loads(x) for x in unscreened(n1, "--session", "morning", "--json").stdout.splitlines()]
    assert [p["id"] for p in said] == ["P2"], said
