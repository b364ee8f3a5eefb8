"""One unit of work: a screening, its audit events and outbox entries commit together or not at all; every storage
failure is one StorageError the station handles."""
import hashlib
import hmac
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from gate.config import Config, SensorConfig
from gate.station import Station
from sim.camera import SimulatedMask
from storage import audit
from storage.errors import LogError, StorageError
from storage.log import ScreeningLog
from storage.export import purge_older_than
from storage.roster import import_roster
from tests.conftest import ROOT, env_with_root

ROSTER = "id,name,class,kind\nP1,Li Lei,3-2,pupil\n".encode()


def hand(v: float = 36.6) -> Reading:
    return Reading(object_c=v, body_c=v, source="manual", operator="wang", manual_reason="sensor-fault")


def sensor(v: float = 36.6) -> Reading:
    return Reading(object_c=v, body_c=v, source="gun-1", ambient_c=21.0)


def refuse_audit(db, action: str) -> None:
    """Someone (a pupil with the file, a broken disk) makes the audit insert fail for one kind of event."""
    raw = sqlite3.connect(db)
    raw.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON audit_events WHEN NEW.action = '{action}' "
                "BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
    raw.commit()
    raw.close()


def counts(db, since: tuple[int, int, int] = (0, 0, 0)) -> tuple[int, int, int]:
    """Rows in screenings, audit_events and outbox (beyond ``since``: a new station's policy is one audit event)."""
    raw = sqlite3.connect(db)
    try:
        return tuple(raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] - n
                     for t, n in zip(("screenings", "audit_events", "outbox"), since))
    finally:
        raw.close()


def test_a_manual_reading_and_its_audit_event_are_one_commit(db_path):
    with ScreeningLog(db_path) as log:
        st = Station(Config(mask_mode="off"), log)
        base = counts(db_path)  # the policy stored with the log, and its audit event
        s = st.screen([hand()], MaskResult(MaskState.YES), operator="wang")
        assert counts(db_path, base) == (1, 1, 2)  # the screening, its manual-entry event, both queued for sync
        assert audit.events(log, 1)[0]["detail"]["screening"] == s.id
        refuse_audit(db_path, "manual-entry")
        with pytest.raises(StorageError, match="not saved"):
            st.screen([hand(38.0)], MaskResult(MaskState.YES), operator="wang")
        # Nothing of the refused screening was kept: no decision without its audit trail.
        assert counts(db_path, base) == (1, 1, 2)
        assert log.verify().ok and audit.verify(log).ok


def test_a_mask_override_and_its_audit_event_are_one_commit(db_path):
    with ScreeningLog(db_path) as log:
        st = Station(Config(mask_mode="must-wear"), log)
        base = counts(db_path)  # the policy stored with the log, and its audit event
        first = st.screen([sensor()], MaskResult(MaskState.UNKNOWN))
        assert first.decision is Decision.RETEST
        refuse_audit(db_path, "override")
        with pytest.raises(StorageError, match="not saved"):
            st.confirm_mask(first, MaskState.YES, operator="wang")
        assert log.ids() == {first.id} and counts(db_path, base) == (1, 0, 1)
        raw = sqlite3.connect(db_path)
        raw.execute("DROP TRIGGER refuse")
        raw.commit()
        raw.close()
        second = st.confirm_mask(first, MaskState.YES, operator="wang")
        assert second.decision is Decision.ADMIT and second.follows == first.id
        event = audit.events(log, 1)[0]
        assert event["action"] == "override" and event["detail"]["screening"] == second.id
        assert counts(db_path, base) == (2, 1, 3)


def test_a_unit_that_fails_half_way_leaves_nothing_and_the_next_one_works(db_path):
    with ScreeningLog(db_path) as log:
        st = Station(Config(mask_mode="off"), log)
        base = counts(db_path)  # the policy stored with the log, and its audit event
        with pytest.raises(RuntimeError):
            with log.unit() as u:
                u.screening(st._decide([sensor()], MaskResult(), entrant_id=None, operator=None, follows=None))
                u.audit("north", "wang", "note", {})
                raise RuntimeError("the caller changed its mind")  # not a storage failure: passes through
        assert counts(db_path, base) == (0, 0, 0)
        st.screen([sensor()], MaskResult())
        assert counts(db_path, base) == (1, 0, 1) and log.verify().ok


def test_a_unit_inside_a_unit_joins_it(db_path):
    with ScreeningLog(db_path) as log:
        with pytest.raises(StorageError):
            with log.unit("the roster") as u:
                audit.record(log, "north", "wang", "note", {"n": 1})  # given the log: joins the open unit
                u.conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")
        assert counts(db_path) == (0, 0, 0)


def test_log_error_is_the_storage_error():
    assert LogError is StorageError


def test_a_damaged_log_is_a_storage_error_on_reads_too(db_path):
    with ScreeningLog(db_path) as log:
        Station(Config(), log).screen([sensor()], MaskResult())
        raw = sqlite3.connect(db_path)
        raw.execute("ALTER TABLE screenings RENAME TO gone")
        raw.commit()
        raw.close()
        with pytest.raises(StorageError, match="damaged"):
            log.count()
        with pytest.raises(StorageError, match="damaged"):
            log.verify()


def test_a_roster_check_that_fails_is_a_log_failure_and_station_run_goes_on(sim_factory, db_path):
    sim = sim_factory(scenario="normal-morning", seed=3, pace=3.0)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    with ScreeningLog(db_path) as log:
        import_roster(log, ROSTER, station_id="north", actor="admin")
        raw = sqlite3.connect(db_path)
        raw.execute("DROP TABLE visitors")  # an id not on the roster is looked up among visitors: that fails
        raw.commit()
        raw.close()
        station = Station(Config(sensors=(sc,)), log, mask_source=SimulatedMask(sim))
        stop = threading.Event()
        failures, screened = [], []

        def failed(f) -> None:
            failures.append(f)
            if len(failures) >= 2:
                stop.set()

        station.run(sc, stop, on_screening=screened.append, on_log_failure=failed, entrant=lambda: "X9")
        assert len(failures) >= 2 and not screened  # nobody admitted while the log cannot be read
        assert all("damaged" in f.error and f.reading.source == "gun-1" for f in failures)
        assert log.count() == 0


def test_head_is_the_purge_anchor_when_every_row_was_purged(db_path):
    with ScreeningLog(db_path) as log:
        st = Station(Config(), log)
        for _ in range(3):
            st.screen([sensor()], MaskResult())
        last_hash, rows = log.head()
        assert rows == 3 and last_hash == log.verify().head
        purge_older_than(log, 1, station_id="north", actor="auditor", now=time.time() + 3 * 86400)
        assert log.count() == 0
        assert log.head() == (last_hash, 0) and log.verify().head == last_hash
        s = st.screen([sensor()], MaskResult())
        raw = sqlite3.connect(db_path)
        assert raw.execute("SELECT prev_hash FROM screenings WHERE id = ?", (s.id,)).fetchone()[0] == last_hash
        raw.close()
        assert log.verify().ok


def test_the_chain_digest_is_a_parameter_so_a_keyed_chain_needs_its_key(db_path):
    def keyed(message: bytes) -> str:
        return hmac.new(b"station key", message, hashlib.sha256).hexdigest()

    with ScreeningLog(db_path, digest=keyed) as log:
        st = Station(Config(), log)
        st.screen([hand()], MaskResult(MaskState.YES))
        st.screen([sensor()], MaskResult(MaskState.YES))
        assert log.verify().ok and log.verify_audit().ok
    with ScreeningLog(db_path) as plain:  # without the key the same rows do not verify
        result = plain.verify()
        assert not result.ok and result.bad_seq == 1 and "changed" in result.detail
        assert not plain.verify_audit().ok


def test_two_processes_writing_at_once_never_fork_the_chain(tmp_path):
    db = tmp_path / "shared.db"
    ScreeningLog(db).close()
    writers = [subprocess.Popen([sys.executable, str(ROOT / "tests/helpers/writer.py"), str(db)],
                                stdout=subprocess.PIPE, text=True, env=env_with_root(), cwd=ROOT) for _ in range(2)]
    acknowledged = []
    try:
        for w in writers:
            for line in w.stdout:
                acknowledged.append(line.strip())
                if len(acknowledged) % 80 == 0:
                    break
    finally:
        for w in writers:
            w.send_signal(signal.SIGKILL)
            w.wait()
            acknowledged += [line.strip() for line in w.stdout if line.strip()]
    with ScreeningLog(db) as log:
        result = log.verify()
        assert result.ok and set(acknowledged) <= log.ids() and result.rows == log.count()
        assert log.verify_audit().ok  # each manual reading's audit event, from both processes, in one chain
