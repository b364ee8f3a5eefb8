"""Upward sync against a real PostgreSQL server that the suite starts itself (skipped, with the reason, only where
no PostgreSQL server binaries exist)."""
import json
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from drivers.base import Reading
from gate.config import Config
from domain import MaskResult, MaskState
from gate.station import Station
from storage import audit, reports
from storage.log import ScreeningLog
from storage.sync import Sync, SyncError
from storage.upstream import normalise_url
from tests.support import fill_log, run_gate, wait_until
from tests.pg import drain_and_compare, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


@pytest.fixture
def upstream_url(pg):
    return pg.create_db("up")


def fill(log: ScreeningLog, station_id: str, n: int, temp: float = 36.5) -> list[str]:
    st = Station(Config(station_id=station_id), log)
    # Sensor readings: manual ones would add a manual-entry audit event each, and these tests count records.
    return [st.screen([Reading(object_c=temp, body_c=temp, source="gun-1", ambient_c=21.0)],
                      MaskResult(MaskState.YES)).id for _ in range(n)]


def upstream_ids(url: str, table: str = "screenings") -> list[str]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text(f"select id from {table}"))]
    engine.dispose()
    return ids


def test_sync_sends_everything_once_and_is_idempotent(tmp_path, upstream_url):
    with ScreeningLog(tmp_path / "a.db") as log:
        ids = fill(log, "north", 120)
        audit.record(log, "north", "li", "export", {"rows": 1})
        reports.store(log, reports.daily(log, "2026-11-28", "north"))
        sync = Sync(log, upstream_url, batch_size=50)
        result = sync.once()
        # 120 screenings, a daily report and two audit events: the export and the policy stored at the first screening
        assert (result.sent, result.quarantined, result.pending) == (123, 0, 0) and result.batches == 3
        assert sorted(upstream_ids(upstream_url)) == sorted(ids)
        assert len(upstream_ids(upstream_url, "daily_reports")) == 1 and len(upstream_ids(upstream_url,
                                                                                          "audit_events")) == 2
        # Forget the checkpoint: everything is sent again, and the upstream still holds each record once.
        with log.engine.begin() as conn:
            conn.exec_driver_sql("update sync_state set last_seq = 0")
        assert sync.once().sent == 123
        assert sorted(upstream_ids(upstream_url)) == sorted(ids)
        report = sync.verify()
        assert report["ok"] and report["stations"]["north"]["local"]["count"] == 120
        assert sync.status()["pending"] == 0 and sync.status()["last_error"] is None
        sync.close()


def test_three_stations_sync_through_a_crash_of_the_server(tmp_path, pg, upstream_url):
    for i in range(3):  # a backlog of 3,000 chained screenings each, written in one go (tests/support.py)
        fill_log(tmp_path / f"s{i}.db", 3000, station_id=f"station-{i}")
    logs = [ScreeningLog(tmp_path / f"s{i}.db") for i in range(3)]
    stop = threading.Event()
    errors: list[str] = []
    syncs = [Sync(log, upstream_url, batch_size=40, connect_timeout=2) for log in logs]
    threads = [threading.Thread(target=s.watch, args=(stop,),
                                kwargs={"interval_s": 0.05, "backoff_s": (0.05, 0.5), "on_error": errors.append})
               for s in syncs]
    for th in threads:
        th.start()
    writers_done = threading.Event()
    rounds = [0]

    def keep_screening():  # the stations keep screening while the upstream is down
        while not writers_done.is_set():
            for i, log in enumerate(logs):
                fill(log, f"station-{i}", 5)
            rounds[0] += 1
            time.sleep(0.05)  # a gate's pace, not a wait for a result

    writer = threading.Thread(target=keep_screening)
    writer.start()
    assert wait_until(lambda: rounds[0] >= 3)
    assert all(s.pending() > 0 for s in syncs)  # still sending when the server dies (9,000 rows in batches of 40)
    pg.stop("immediate")  # mid-batch: the stations are sending right now
    before = rounds[0]
    assert wait_until(lambda: rounds[0] >= before + 10)  # they go on screening while it is down
    pg.start()
    pg.wait_ready()
    before = rounds[0]
    assert wait_until(lambda: rounds[0] >= before + 5)
    writers_done.set()
    writer.join()
    assert drain_and_compare(syncs, threads, stop, logs, upstream_url) > 9000
    assert errors, "the server crash should have been noticed"


def test_a_refused_record_is_quarantined_and_the_rest_go_on(tmp_path, upstream_url):
    with ScreeningLog(tmp_path / "q.db") as log:
        good = fill(log, "q", 5)
        bad = fill(log, "q", 1, temp=44.0)
        good += fill(log, "q", 5)
        sync = Sync(log, upstream_url)
        sync.engine()  # creates the schema
        engine = create_engine(normalise_url(upstream_url))
        with engine.begin() as conn:  # the district refuses implausible temperatures
            conn.execute(text("alter table screenings add constraint plausible check (temperature_c < 43)"))
        engine.dispose()
        result = sync.once()
        assert (result.sent, result.quarantined, result.pending) == (10 + 1, 1, 0)  # + the policy's audit event
        assert sorted(upstream_ids(upstream_url)) == sorted(good)
        status = sync.status()
        assert status["quarantined"] == 1
        with log.engine.connect() as conn:
            row = conn.exec_driver_sql("select record_id, error from quarantine").one()
        assert row[0] == bad[0] and "plausible" in row[1]
        sync.close()


def test_unreachable_upstream_is_one_line_and_a_non_zero_exit(tmp_path, db_path):
    with ScreeningLog(db_path) as log:
        fill(log, "x", 3)
    out = run_gate("sync", "--once", "--upstream", "postgresql://postgres@127.0.0.1:1/nowhere", "--db", db_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "unreachable" in out.stderr
    status = run_gate("sync", "status", "--json", "--upstream", "postgresql://postgres@127.0.0.1:1/nowhere",
                      "--db", db_path)
    d = json.loads(status.stdout)
    assert d["pending"] == 3 + 1 and "unreachable" in d["last_error"]  # + the policy's audit event


def test_cli_sync_and_verify_into_postgres_and_into_an_sqlite_file(tmp_path, db_path, upstream_url):
    with ScreeningLog(db_path) as log:
        fill(log, "cli", 7)
    for url in (upstream_url, f"sqlite:///{tmp_path / 'district.db'}"):
        out = run_gate("sync", "--once", "--upstream", url, "--db", db_path, "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["sent"] == 7 + 1  # + the policy's audit event
        ver = run_gate("sync", "verify", "--upstream", url, "--db", db_path, "--json")
        assert ver.returncode == 0 and json.loads(ver.stdout)["ok"]


def test_sync_error_type_for_bad_urls(tmp_path):
    with ScreeningLog(tmp_path / "u.db") as log:
        with pytest.raises(SyncError, match="not usable|not supported"):
            Sync(log, "nonsense://x").engine()
