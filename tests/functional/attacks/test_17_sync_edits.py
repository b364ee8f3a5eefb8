"""a17s (issue 16, the sync reading a batch by its table's own seq span): a pupil at the gate PC edits the log with
sqlite3 between syncs, or the sync is killed mid-backlog, or two run at once. After each, `gate sync` and `gate sync
verify` either say what is wrong (quarantined "changed outside the station", a row "missing upstream") or leave the
upstream holding the log's unedited records, each once. One backlog of 3,000 screenings (and their audit events) is
synced once per module; each test gets a copy of the log and of the upstream as they were then, plus what it adds."""
import os
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, many, sql_as
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import ROOT, copy_log, run_gate, wait_until

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
ROWS = 3000


@pytest.fixture(scope="module")
def synced_once(pg, tmp_path_factory):
    """A gate that synced one screening (its first sync: the upstream's identity kept), then screened 3,000 more
    that wait in its outbox; the log and the upstream as they are then, to be copied into each test."""
    work = tmp_path_factory.mktemp("a17s_sync")
    url = pg.create_db("a17s_sync", migrated=True)
    gate = make_gate(work, "n1", "S-N", "北校", url)
    gate.screen_at(at(DAY, 6, 59), "K0")
    assert run_gate("sync", "--once", "--config", gate.cfg).returncode == 0
    many(gate, [DAY], ROWS)
    return url, pg.saved(url), gate


@pytest.fixture
def gate(pg, synced_once, tmp_path):
    url, saved, template = synced_once
    pg.restored(url, saved)
    mine = make_gate(tmp_path, "n1", "S-N", "北校", url)
    copy_log(template.db, mine.db)
    return url, mine


def sql(g, text, params=()):
    with sqlite3.connect(g.db) as db:
        return db.execute(text, params).fetchall()


def upstream_ids(url):
    rows = owner_sql(url, "SELECT id FROM screenings WHERE station_id = 'n1'")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "a screening twice upstream"
    return set(ids)


def log_ids(g):
    return {r[0] for r in sql(g, "SELECT id FROM screenings")}


def sync(g):
    done = run_gate("sync", "--once", "--config", g.cfg)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def verify_upstream(g):
    done = run_gate("sync", "verify", "--config", g.cfg)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def record_of(g, seq):
    return sql(g, "SELECT id FROM screenings WHERE seq = ?", (seq,))[0][0]


def outbox_seq(g, seq):
    return sql(g, "SELECT o.seq FROM outbox o JOIN screenings s ON s.id = o.record_id WHERE s.seq = ?", (seq,))[0][0]


def all_sent_each_once(url, g):
    assert upstream_ids(url) == log_ids(g)
    checked = verify_upstream(g)
    assert checked.returncode == 0 and "0 differ, 0 pending" in checked.stdout, checked.stdout + checked.stderr


def test_untouched_the_backlog_goes_up_each_once_and_verifies(gate):
    url, g = gate
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


@pytest.mark.parametrize("where", [2, 1500, ROWS + 1])  # the backlog's first, middle and last screening
def test_an_outbox_entry_deleted_is_named_missing_upstream_by_sync_verify(gate, where):
    url, g = gate
    lost = record_of(g, where)
    sql(g, "DELETE FROM outbox WHERE seq = ?", (outbox_seq(g, where),))
    assert sync(g).returncode == 0
    assert upstream_ids(url) == log_ids(g) - {lost}
    checked = verify_upstream(g)
    assert checked.returncode == 1, checked.stdout
    assert f"seq {where} (screening {lost[:4]}" in checked.stderr and "missing upstream" in checked.stderr, checked.stderr


def test_an_outbox_entry_doubled_sends_the_record_once(gate):
    url, g = gate
    sql(g, "INSERT INTO outbox (seq, kind, record_id, created_at) SELECT (SELECT max(seq) FROM outbox) + 1, kind, "
           "record_id, created_at FROM outbox WHERE seq = ?", (outbox_seq(g, 1500),))
    sql(g, "INSERT INTO outbox (seq, kind, record_id, created_at) SELECT seq + 100000, kind, record_id, created_at "
           "FROM outbox WHERE seq = ?", (outbox_seq(g, 700),))
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


def test_two_outbox_entries_swapped_still_send_every_record_once(gate):
    url, g = gate
    a, b = outbox_seq(g, 100), outbox_seq(g, 2900)
    ra, rb = record_of(g, 100), record_of(g, 2900)
    sql(g, "UPDATE outbox SET record_id = CASE seq WHEN ? THEN ? ELSE ? END WHERE seq IN (?, ?)", (a, rb, ra, a, b))
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


def test_an_outbox_entry_pointed_at_another_record_leaves_its_own_named_missing(gate):
    url, g = gate
    lost = record_of(g, 1200)
    sql(g, "UPDATE outbox SET record_id = ? WHERE seq = ?", (record_of(g, 1100), outbox_seq(g, 1200)))
    assert sync(g).returncode == 0
    assert upstream_ids(url) == log_ids(g) - {lost}
    checked = verify_upstream(g)
    assert checked.returncode == 1 and f"seq 1200 (screening {lost[:4]}" in checked.stderr, checked.stderr


EDITS = {  # one column of each kind, of a screening in the middle of the backlog
    "decision": "decision = 'deny'",
    "temperature": "temperature_c = temperature_c + 0.1",
    "threshold": "threshold_c = 40.0",
    "entrant-null": "entrant_id = NULL",
    "entrant-other": "entrant_id = 'K999'",
    "operator": "operator = 'nobody'",
    "message": "message = message || ' '",
    "created-at": "created_at = created_at - 86400",
    "day": "day = '2020-01-01'",
    "session": "session = 'afternoon'",
    "station": "station_id = 'n2'",
    "follows": "follows = id",
    "reasons": "reasons = '[]'",
    "row-hash": "row_hash = prev_hash",
    "id": "id = 'aaaaaaaa-0000-4000-8000-000000000000'",
}


def test_screenings_edited_in_every_column_kind_are_quarantined_and_never_sent(gate):
    """One screening edited per column kind, spread over the backlog (its first, middle and last batches alike):
    one sync quarantines exactly those, sends the rest, and `gate verify` names the edits."""
    url, g = gate
    edited = set()
    for n, how in enumerate(sorted(EDITS)):
        seq = 2 + n * (ROWS // len(EDITS))
        record = record_of(g, seq)
        sql(g, f"UPDATE screenings SET {EDITS[how]} WHERE seq = ?", (seq,))
        if how == "id":  # its outbox entry follows it, as a careful pupil would make it
            sql(g, "UPDATE outbox SET record_id = 'aaaaaaaa-0000-4000-8000-000000000000' WHERE record_id = ?",
                (record,))
            record = "aaaaaaaa-0000-4000-8000-000000000000"
        edited.add(record)
    # The row after the one whose row_hash was edited links to the hash the station wrote, which is no longer in the
    # file: its place in the chain cannot be proved either (storage.sync_links), so it is held back with them.
    cut = record_of(g, 2 + sorted(EDITS).index("row-hash") * (ROWS // len(EDITS)) + 1)
    done = sync(g)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, done.stdout + done.stderr
    assert f"quarantined {len(EDITS) + 1}," in done.stdout, done.stdout
    assert upstream_ids(url) == log_ids(g) - edited - {cut}
    assert run_gate("verify", "--config", g.cfg).returncode == 1


@pytest.mark.parametrize("column", ["source = 'gun-9'", "mask_state = 'no'", "entrant_key = 'k999'"])
def test_a_derived_column_edited_is_not_what_goes_up_and_verify_names_it(gate, column):
    """source, mask_state and entrant_key are the station's own index of its readings, mask and id: the upstream
    has no such column, so the record goes up as the station wrote it; `gate verify` names the edit."""
    url, g = gate
    sql(g, f"UPDATE screenings SET {column} WHERE seq = 1500")
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)
    assert sql_as(url, "SELECT mask FROM screenings WHERE id = %s", (record_of(g, 1500),))[0][0].count('"yes"') == 1
    checked = run_gate("verify", "--config", g.cfg)
    assert checked.returncode == 1 and "row 1500" in checked.stdout + checked.stderr, checked.stdout + checked.stderr


def test_a_hand_made_copy_under_a_new_id_is_quarantined_and_never_sent(gate):
    url, g = gate
    new = "bbbbbbbb-0000-4000-8000-000000000000"
    cols = [r[1] for r in sql(g, "PRAGMA table_info(screenings)") if r[1] not in ("seq", "id")]
    sql(g, f"INSERT INTO screenings (seq, id, {', '.join(cols)}) SELECT (SELECT max(seq) FROM screenings) + 1, ?, "
           f"{', '.join(cols)} FROM screenings WHERE seq = 1500", (new,))
    sql(g, "INSERT INTO outbox (seq, kind, record_id, created_at) SELECT max(seq) + 1, 'screening', ?, 0 FROM outbox",
        (new,))
    done = sync(g)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, done.stdout + done.stderr
    assert upstream_ids(url) == log_ids(g) - {new}


def test_the_checkpoint_moved_back_resends_harmlessly(gate):
    url, g = gate
    assert sync(g).returncode == 0
    sql(g, "UPDATE sync_state SET last_seq = 0")
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


def test_the_checkpoint_moved_forward_is_named_by_sync_verify(gate):
    url, g = gate
    sql(g, "UPDATE sync_state SET last_seq = ?", (outbox_seq(g, 2000),))
    assert sync(g).returncode == 0
    checked = verify_upstream(g)
    assert checked.returncode == 1 and "missing upstream" in checked.stderr, checked.stdout + checked.stderr
    assert f"seq 2 (screening {record_of(g, 2)[:4]}" in checked.stderr, checked.stderr


def test_two_syncs_at_once_on_one_log_send_each_record_once(gate):
    url, g = gate
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "gate.cli", "sync", "--once", "--config", str(g.cfg)]
    both = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    for p in both:
        out, err = p.communicate(timeout=180)
        assert "Traceback" not in err, err
        assert p.returncode in (0, 1), (out, err)
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


def test_kill_9_as_its_rows_reach_the_upstream_then_sync_again(gate):
    """kill -9 the moment the backlog's rows are seen upstream (committed there; the checkpoint perhaps not yet
    written): the next sync re-sends what the checkpoint does not cover, each record once."""
    url, g = gate
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    syncing = subprocess.Popen([sys.executable, "-m", "gate.cli", "sync", "--once", "--config", str(g.cfg)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: len(upstream_ids(url)) > 1 or syncing.poll() is not None, 120)
    finally:
        syncing.kill()
        syncing.communicate()
    done = sync(g)
    assert done.returncode == 0, done.stderr
    all_sent_each_once(url, g)


def test_kill_9_inside_the_upstream_transaction_then_sync_again(gate):
    """The owner holds the gate's registry row, so the sync's upstream transaction waits inside, its rows sent but
    not committed: kill -9 it there; nothing of it stays upstream and the next sync sends each record once."""
    url, g = gate
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with psycopg.connect(url) as owner:
        owner.execute("SELECT * FROM stations FOR UPDATE")
        syncing = subprocess.Popen([sys.executable, "-m", "gate.cli", "sync", "--once", "--config", str(g.cfg)],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            waits = lambda: owner_sql(url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "  # noqa: E731
                                           "AND datname = current_database()")[0][0]
            assert wait_until(waits, 120), "the sync never waited on the registry row"
        finally:
            syncing.kill()
            syncing.communicate()
        owner.rollback()
    assert len(upstream_ids(url)) == 1
    done = sync(g)
    assert done.returncode == 0, done.stderr
    all_sent_each_once(url, g)


def test_outbox_entries_reordered_send_every_record_once(gate):
    """The outbox's own numbers swapped (the queue's order changed, each entry still naming its record)."""
    url, g = gate
    a, b = outbox_seq(g, 10), outbox_seq(g, 2990)
    sql(g, "UPDATE outbox SET seq = -1 WHERE seq = ?", (a,))
    sql(g, "UPDATE outbox SET seq = ? WHERE seq = ?", (a, b))
    sql(g, "UPDATE outbox SET seq = ? WHERE seq = -1", (b,))
    assert sync(g).returncode == 0
    all_sent_each_once(url, g)


def test_the_whole_queue_emptied_is_named_by_sync_verify(gate):
    url, g = gate
    sql(g, "DELETE FROM outbox WHERE seq > (SELECT last_seq FROM sync_state)")
    assert sync(g).returncode == 0
    assert len(upstream_ids(url)) == 1
    checked = verify_upstream(g)
    assert checked.returncode == 1 and "missing upstream" in checked.stderr, checked.stdout + checked.stderr
    assert f"seq 2 (screening {record_of(g, 2)[:4]}" in checked.stderr, checked.stderr


def test_syncs_while_the_gate_screens_send_each_record_once(gate):
    """The gate screens on (another process) while syncs run one after another over the backlog."""
    url, g = gate
    code = ("import sys; from pathlib import Path; from tests.functional.attacks.bureau_roles_setup import Gate, DAY, at;"
            "g = Gate(Path(sys.argv[1]), Path(sys.argv[2]));"
            "[g.screen_at(at(DAY, 10, 0, i), f'C{i}') for i in range(40)]")
    screening = subprocess.Popen([sys.executable, "-c", code, str(g.cfg), str(g.db)], cwd=ROOT,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT)))
    while screening.poll() is None:
        assert sync(g).returncode == 0
    assert screening.returncode == 0
    assert sync(g).returncode == 0
    assert len(log_ids(g)) == ROWS + 41
    all_sent_each_once(url, g)


@pytest.mark.parametrize("edit", ["record_id = 'nothing-here'", "kind = 'nonsense'"])
def test_an_outbox_entry_that_names_nothing_is_not_counted_as_sent(gate, edit):
    """a17s: an outbox entry pointed at no record, or of no kind, sends nothing, and `gate sync` used to count it as
    sent ("sent 41" when 40 went up): what it says is what went up."""
    url, g = gate
    before = len(upstream_ids(url))
    sql(g, f"UPDATE outbox SET {edit} WHERE seq = (SELECT seq FROM outbox WHERE kind = 'screening' "
           "ORDER BY seq DESC LIMIT 1 OFFSET 10)")
    queued = sql(g, "SELECT count(*) FROM outbox o WHERE o.seq > (SELECT max(last_seq) FROM sync_state)")[0][0]
    done = sync(g)
    went = len(upstream_ids(url)) - before
    assert went == ROWS - 1 and f"sent {queued - 1}," in done.stdout, (went, queued, done.stdout)
