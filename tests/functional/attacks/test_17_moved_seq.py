"""Attacker a17s (issue 16 sync), a hole now closed (storage.sync_links): a screening whose seq a pupil changed in the
SQLite file was sent upstream under the made-up seq, `gate sync` exit 0, nothing quarantined (the row hash does not
cover seq; only `gate verify`'s chain walk noticed, and not once the seq was moved back). Upstream's gate registry then says the gate's highest seq is the
made-up one, and every other gate of the school pulls this gate's fevers only after it: a fever confirmed later at
the north gate is never pulled by the south gate, which admits the pupil. Afterwards the pupil moves the seq back and
the north gate's `gate verify` is clean.

Shell (n1 and s1 two gates of one school, synced to one upstream):
    sqlite3 n1.db "UPDATE screenings SET seq = 100000 WHERE seq = 2"   # P1's confirmed fever
    gate sync --once --config n1.toml      # -> "sent 6, quarantined 0, pending 0", exit 0 (seq 100000 upstream)
    gate sync --once --config s1.toml      # pulls P1's fever (as seq 100000 of n1)
    sqlite3 n1.db "UPDATE screenings SET seq = 2 WHERE seq = 100000"   # gate verify at n1: ok
    (n1 confirms P2's fever at seq 4, syncs; s1 syncs)
    gate screen --entrant P2 ... at s1     # -> admit: P2's fever was never pulled (seq 4 < 100000)
Now: the sync refuses (quarantines, "changed outside the station") a record whose seq is not the one
its chain gives it (e.g. the seq covered by the row's keyed hash, or the batch checked against the chain's links),
so nothing is sent under a made-up number; P2 is refused at the south gate.
Each test below failed before the fix."""
import sqlite3

import pytest

from domain import Decision
from tests.functional.attacks.bureau_roles_setup import DAY, at, make_gate, north_fever
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def test_a_screening_moved_to_a_made_up_seq_is_not_sent_under_it(pg, tmp_path):
    url = pg.create_db("a17s_moved_seq", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P1", temp=38.5)
    n1.screen_at(at(DAY, 7, 31), "P1", temp=38.6)
    with sqlite3.connect(n1.db) as db:
        db.execute("UPDATE screenings SET seq = 100000 WHERE seq = 2")
    done = run_gate("sync", "--once", "--config", n1.cfg)
    # today: exit 0, "quarantined 0", and the upstream holds seq 100000
    assert owner_sql(url, "SELECT count(*) FROM screenings WHERE seq = 100000") == [(0,)]
    assert done.returncode == 1 and "changed outside the station" in done.stderr, done.stdout + done.stderr


def test_a_fever_sent_under_a_made_up_seq_does_not_hide_the_gates_later_fevers(pg, tmp_path):
    url, n1, s1 = north_fever(pg, tmp_path, "a17s_moved_seq_pull")
    with sqlite3.connect(n1.db) as db:
        db.execute("UPDATE screenings SET seq = 100000 WHERE seq = 2")
    run_gate("sync", "--once", "--config", n1.cfg)
    assert run_gate("sync", "--once", "--config", s1.cfg).returncode == 0
    with sqlite3.connect(n1.db) as db:  # put back: n1's own verify is clean again
        db.execute("UPDATE screenings SET seq = 2 WHERE seq = 100000")
    assert run_gate("verify", "--config", n1.cfg).returncode == 0
    n1.screen_at(at(DAY, 7, 40), "P2", temp=38.5)
    n1.screen_at(at(DAY, 7, 41), "P2", temp=38.6)  # P2's fever confirmed at the north gate
    run_gate("sync", "--once", "--config", n1.cfg)
    assert run_gate("sync", "--once", "--config", s1.cfg).returncode == 0
    # today: admit (P2's fever, seq 4 of n1, lies below the 100000 pulled before, so it is never pulled)
    assert s1.screen_at(at(DAY, 8, 0), "P2").decision is Decision.DENY


def test_two_screenings_swapped_in_the_file_are_not_sent_in_the_swapped_order(pg, tmp_path):
    """Same hole, reordered: `UPDATE screenings SET seq = ...` swapping seq 2 and 3 sends both under each other's
    number (exit 0, quarantined 0) and `gate sync verify` then says ok: the upstream's chain order is not the
    station's. Should: refused here as changed outside the station (gate verify already says "link broken")."""
    url = pg.create_db("a17s_swapped_seq", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    for minute in range(3):
        n1.screen_at(at(DAY, 7, 30 + minute), f"P{minute}")
    with sqlite3.connect(n1.db) as db:
        two, three = (db.execute("SELECT id FROM screenings WHERE seq = ?", (s,)).fetchone()[0] for s in (2, 3))
        db.executescript("UPDATE screenings SET seq = -2 WHERE seq = 2; UPDATE screenings SET seq = 2 WHERE seq = 3;"
                         "UPDATE screenings SET seq = 3 WHERE seq = -2;")
    assert run_gate("verify", "--config", n1.cfg).returncode == 1  # the station knows
    done = run_gate("sync", "--once", "--config", n1.cfg)
    sent = dict(owner_sql(url, "SELECT id, seq FROM screenings"))
    # today: done.returncode == 0 and sent == {..., two: 3, three: 2}
    assert sent.get(two) in (None, 2) and sent.get(three) in (None, 3), sent
    assert done.returncode == 1, done.stdout


def test_an_audit_event_moved_to_a_made_up_seq_is_not_sent_under_it(pg, tmp_path):
    """Same hole for the audit trail (its holds and lifts are what the other gates pull by number):
    `UPDATE audit_events SET seq = 100000 WHERE seq = 3` then `gate sync --once`: sent, exit 0, upstream holds audit
    event seq 100000 and `gate sync verify` says ok. Should: refused here as changed outside the station."""
    url = pg.create_db("a17s_moved_audit_seq", migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    for minute in range(3):
        n1.screen_at(at(DAY, 7, 30 + minute), f"P{minute}")
    with sqlite3.connect(n1.db) as db:
        db.execute("UPDATE audit_events SET seq = 100000 WHERE seq = 3")
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert owner_sql(url, "SELECT count(*) FROM audit_events WHERE seq = 100000") == [(0,)]  # today: 1
    assert done.returncode == 1, done.stdout
