"""a16c (issue 16): a figure nobody can know is never 0. A gate with no roster says unscreened "not known" in its
daily report (text, JSON, CSV); the bureau gives no zero report for a school whose second gate never registered, never
reported, or reported before its last check ended; a daily report's JSON edited in the file (an escaped key, a
duplicate key) is quarantined, never sent."""
import csv
import io
import json
import sqlite3

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_a_gate_without_a_roster_says_unscreened_is_not_known_in_every_form(tmp_path):
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", "sqlite:///" + str(tmp_path / "up.db"))
    n1.screen_at(at(DAY, 7, 30), "P1")
    late = Clock(at(DAY, 20, 0))
    as_json = run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(), "--json", clock=late)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["unscreened"] is None
    as_csv = run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(), "--csv", clock=late)
    rows = dict(r for r in csv.reader(io.StringIO(as_csv.stdout.lstrip("\ufeff"))) if len(r) == 2)
    assert rows["unscreened"] == "", rows
    text = run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(), clock=late)
    assert "unscreened: — (no roster)" in text.stdout.splitlines(), text.stdout


def bureau(url, when, school="S-N"):
    done = run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json", clock=Clock(when))
    assert done.returncode == 0, done.stderr
    return {r["school_id"]: r for r in json.loads(done.stdout)}[school]


def reported_zero(gate, made, synced):
    assert run_gate("report", "daily", "--config", gate.cfg, "--date", DAY.isoformat(),
                    clock=Clock(made)).returncode == 0
    assert run_gate("sync", "--once", "--config", gate.cfg, clock=Clock(synced)).returncode == 0


def test_no_zero_report_while_a_declared_gate_never_registered_or_never_reported(pg, tmp_path):
    url = pg.create_db("a16c_zero")
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P1")
    reported_zero(n1, at(DAY, 20, 0), at(DAY, 20, 1))
    assert bureau(url, at(DAY, 21, 0))["zero_report"] is True  # the one gate it knows, done
    assert run_gate("upstream", "school", "add", "S-N", "--name", "北校", "--stations", "2", "--replace",
                    "--upstream", url).returncode == 0
    row = bureau(url, at(DAY, 21, 0))
    assert row["zero_report"] is None and row["provisional"] is True, row  # a second gate is expected
    n2 = make_gate(tmp_path, "n2", "S-N", "北校", url)
    n2.screen_at(at(DAY, 7, 40), "P2")
    assert run_gate("sync", "--once", "--config", n2.cfg, clock=Clock(at(DAY, 20, 2))).returncode == 0
    row = bureau(url, at(DAY, 21, 0))
    assert row["zero_report"] is None and row["provisional"] is True, row  # n2 registered, sent no report
    reported_zero(n2, at(DAY, 13, 0), at(DAY, 13, 1))  # reported at noon, before 午检 ended, not synced since
    row = bureau(url, at(DAY, 21, 0))
    assert row["zero_report"] is None and row["provisional"] is True, row


@pytest.mark.parametrize("edit", [
    lambda c: c.replace('"zero_report": false', '"zero_repor\\u0074": false', 1),
    lambda c: c.replace('{', '{"zero_report": true, ', 1),
    lambda c: c.replace('"confirmed_fevers": 1', '"confirmed_fevers": 1.0', 1),
    lambda c: c.replace(', ', ',  ', 1),
], ids=["escaped-key", "duplicate-key", "float-for-int", "whitespace"])
def test_a_daily_reports_json_edited_in_the_file_is_quarantined_never_sent(pg, tmp_path, edit):
    url = pg.create_db("a16c_rep")
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P9", temp=38.5)
    n1.screen_at(at(DAY, 7, 31), "P9", temp=38.6)
    assert run_gate("report", "daily", "--config", n1.cfg, "--date", DAY.isoformat(),
                    clock=Clock(at(DAY, 20, 0))).returncode == 0
    with sqlite3.connect(n1.db) as db:
        (content,) = db.execute("SELECT content FROM daily_reports").fetchone()
        assert edit(content) != content
        db.execute("UPDATE daily_reports SET content = ?", (edit(content),))
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, done.stderr
    assert owner_sql(url, "SELECT count(*) FROM daily_reports") == [(0,)]
