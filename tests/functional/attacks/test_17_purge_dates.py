"""a17s (issue 16, `gate purge` and what the sync pulled): a pupil moving dates in the SQLite file to get records
purged early, or changing a pulled fever so that it no longer names the pupil it refuses, is caught: purge keeps
(or refuses) and `gate verify` names the edit; what the district does not hold as the log holds it is never purged."""
import sqlite3
import time

import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, many, north_fever
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.functional.attacks.test_16_purge_pulled import admin, decision, purge
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def rows(gate, table):
    with sqlite3.connect(gate.db) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def edit(gate, script):
    with sqlite3.connect(gate.db) as db:
        db.executescript(script)


@pytest.fixture
def two_gates(pg, tmp_path):
    """North confirms P1's fever (cleared there or not, by the test) and syncs; south pulls it."""
    _url, n1, s1 = north_fever(pg, tmp_path, "a17s_purge")

    def pulled(cleared: bool):
        if cleared:
            assert run_gate("clearance", "add", "P1", "--note", "doctor's note", "--config", n1.cfg).returncode == 0
        assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
        done = run_gate("sync", "--once", "--config", s1.cfg)
        assert done.returncode == 0 and "pulled" in done.stdout, done.stdout
        admin(s1)
        return s1
    return pulled


@pytest.mark.parametrize("script", [
    "UPDATE school_records SET pulled_at = pulled_at - 100 * 86400",
    "UPDATE school_records SET pulled_at = pulled_at - 100 * 86400, at = at - 100 * 86400",
    "UPDATE school_cases SET pulled_at = pulled_at - 100 * 86400; "
    "UPDATE school_records SET pulled_at = pulled_at - 100 * 86400",
])
def test_pulled_records_dated_back_in_the_file_are_not_purged_early(two_gates, script):
    s1 = two_gates(cleared=True)
    before = rows(s1, "school_records"), rows(s1, "school_cases")
    edit(s1, script)
    done = purge(s1, "30")  # pulled today: nothing of it is past 30 days
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert (rows(s1, "school_records"), rows(s1, "school_cases")) == before
    assert run_gate("verify", "--config", s1.cfg).returncode == 1


def test_the_same_records_undated_are_purged_once_past_retention(two_gates):
    """The control: a cleared fever and its clearance pulled 100 days ago go by the rule."""
    s1 = two_gates(cleared=True)
    done = purge(s1, "30", clock=Clock(time.time() + 100 * 86400))
    assert done.returncode == 0, done.stderr
    assert "purged 2 record(s) pulled from the school's other gates" in done.stdout, done.stdout
    assert run_gate("verify", "--config", s1.cfg).returncode == 0


@pytest.mark.parametrize("script", [
    "UPDATE school_records SET entrant_id = 'ZZ9'",
    "UPDATE school_records SET kind = 'lifted'",
    "UPDATE school_records SET content = replace(content, '\"P1\"', '\"ZZ9\"'), entrant_id = 'ZZ9'",
])
def test_a_pulled_fever_changed_to_escape_the_keep_rule_is_not_purged_and_the_pupil_is_not_admitted(two_gates, script):
    s1 = two_gates(cleared=False)
    assert "deny" in decision(s1, "P1")
    before = rows(s1, "school_records")
    edit(s1, script)
    done = purge(s1, "30", clock=Clock(time.time() + 100 * 86400))
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert rows(s1, "school_records") == before
    assert run_gate("verify", "--config", s1.cfg).returncode == 1
    screened = run_gate("screen", "--temp", "36.5", "--entrant", "P1", "--config", s1.cfg)
    assert screened.returncode != 0 and "admit" not in screened.stdout.lower(), screened.stdout + screened.stderr


@pytest.fixture
def sent(pg, tmp_path):
    url = pg.create_db("a17s_purge_own", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    many(n1, [DAY], 10)
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    admin(n1)
    return url, n1


def test_own_screenings_dated_back_in_the_file_are_kept(sent):
    url, n1 = sent
    edit(n1, "UPDATE screenings SET created_at = created_at - 100 * 86400, day = '2020-01-01' WHERE seq <= 5")
    done = purge(n1, "30")  # DAY is under 30 days ago: nothing may go
    assert done.returncode == 1 and "not found on upstream" in done.stdout, done.stdout + done.stderr
    assert rows(n1, "screenings") == 10
    assert run_gate("verify", "--config", n1.cfg).returncode == 1


def test_what_the_district_lost_is_not_purged(sent):
    url, n1 = sent
    owner_sql(url, "DELETE FROM screenings WHERE station_id = 'n1' AND seq IN (3, 4)")
    done = purge(n1, "1")
    assert "Traceback" not in done.stderr, done.stderr
    assert "kept" in done.stdout and "not found on upstream" in done.stdout, done.stdout
    with sqlite3.connect(n1.db) as db:
        assert db.execute("SELECT min(seq) FROM screenings").fetchone()[0] <= 3


def test_records_behind_a_moved_checkpoint_are_not_purged(sent, tmp_path):
    url, n1 = sent
    many(n1, [DAY], 5)  # five more of that day, never sent
    edit(n1, "UPDATE sync_state SET last_seq = (SELECT max(seq) FROM outbox)")
    done = purge(n1, "1")
    assert "Traceback" not in done.stderr, done.stderr
    assert rows(n1, "screenings") == 5 and "not found on upstream" in done.stdout, done.stdout


def test_a_pulled_hold_not_lifted_is_kept_past_retention_and_still_refuses(pg, tmp_path):
    """North holds back P1's edited screening (a pupil's sqlite3 edit): south pulls the hold; 100 days on, south's
    purge keeps it and P1 is still refused there."""
    url = pg.create_db("a17s_purge_hold", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    s1 = make_gate(tmp_path, "s1", "S-N", "北校", url)
    s1.screen_at(at(DAY, 7, 0), "Q0")
    n1.screen_at(at(DAY, 7, 30), "P1", temp=38.5)
    edit(n1, "UPDATE screenings SET temperature_c = 36.5 WHERE seq = 1")
    held = run_gate("sync", "--once", "--config", n1.cfg)
    assert held.returncode == 1 and "changed outside the station" in held.stderr, held.stderr
    assert run_gate("sync", "--once", "--config", s1.cfg).returncode == 0
    with sqlite3.connect(s1.db) as db:
        assert db.execute("SELECT count(*) FROM school_records WHERE kind = 'held'").fetchone()[0] == 1
    assert "deny" in decision(s1, "P1")
    admin(s1)
    done = purge(s1, "30", clock=Clock(time.time() + 100 * 86400))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    with sqlite3.connect(s1.db) as db:
        assert db.execute("SELECT count(*) FROM school_records WHERE kind = 'held'").fetchone()[0] == 1
    assert "deny" in decision(s1, "P1")
    assert run_gate("verify", "--config", s1.cfg).returncode == 0


def test_a_quarantined_screening_whose_edit_was_undone_is_still_not_purged(pg, tmp_path):
    """The pupil's edit held the record back; undoing it in the file (without an auditor's lift) does not make it
    received upstream: purge keeps it and everything after it."""
    url = pg.create_db("a17s_purge_undone", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    many(n1, [DAY], 10)
    (decided,) = [r[0] for r in sqlite3.connect(n1.db).execute("SELECT decision FROM screenings WHERE seq = 3")]
    edit(n1, "UPDATE screenings SET decision = 'deny' WHERE seq = 3")
    held = run_gate("sync", "--once", "--config", n1.cfg)
    assert held.returncode == 1 and "quarantined 1" in held.stdout, held.stdout + held.stderr
    edit(n1, f"UPDATE screenings SET decision = '{decided}' WHERE seq = 3")
    assert run_gate("verify", "--config", n1.cfg).returncode == 0
    admin(n1)
    done = purge(n1, "1")
    assert "kept 1 screening the upstream refused (quarantined)" in done.stdout, done.stdout + done.stderr
    with sqlite3.connect(n1.db) as db:
        assert db.execute("SELECT min(seq), count(*) FROM screenings").fetchone() == (3, 8)
