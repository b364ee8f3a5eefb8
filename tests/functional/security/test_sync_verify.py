"""Issue 14, `gate sync verify` against a real PostgreSQL: a fever changed to an admit upstream and a fake row are
reported with their seq; after a legitimate purge the report is ok (no permanent false alarm); rows not yet sent
are pending, not differences; what the upstream keeps of a purged range is still checked."""
import json
import time

import pytest

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage.export import purge_older_than
from storage.log import ScreeningLog, row_content
from storage.retention import UpstreamCheck
from storage.sync import Sync
from storage.sync_verify import SyncVerifier
from tests.pg import unavailable_reason
from tests.functional.security.cli import run_gate
from tests.support import north_of_s7, upstream_sql

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
# A row nobody screened, slipped in after the last one, copied from a real one
FAKE = ("insert into screenings (school_id, id, station_id, seq, created_at, day, entrant_id, operator, follows, "
        "decision, reasons, message, threshold_c, temperature_c, mask, readings, prev_hash, row_hash) "
        "select school_id, gen_random_uuid()::text, station_id, 31, created_at, day, entrant_id, operator, follows, "
        "{decision}, reasons, message, threshold_c, temperature_c, mask, readings, prev_hash, row_hash "
        "from screenings where seq = 30")


@pytest.fixture
def station(tmp_path, pg):
    """A log of 30 screenings (every fifth one a fever sent to retest), synced to a new upstream database."""
    url = pg.create_db("verify")
    db, cfg = north_of_s7(tmp_path, url)
    with ScreeningLog(db) as log:
        st = Station(Config(station_id="north"), log)
        for i in range(30):
            t = 38.6 if i % 5 == 2 else 36.5
            st.screen([Reading(object_c=t, body_c=t, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))
        sync = Sync(log, url, school_id="s-7")
        assert sync.once().pending == 0
        sync.close()
    return db, cfg, url


upstream = upstream_sql


def verify(capsys, monkeypatch, db, cfg, *extra):
    return run_gate(capsys, monkeypatch, "sync", "verify", "--db", db, "--config", cfg, *extra)


def test_a_fever_changed_to_an_admit_upstream_and_a_fake_row_are_named(station, capsys, monkeypatch):
    db, cfg, url = station
    code, out, _ = verify(capsys, monkeypatch, db, cfg)
    assert code == 0 and "30 rows compared" in out and out.strip().splitlines()[-1].startswith("ok:")
    # the district copy is edited: the fever at seq 3 becomes an admit (its hash left as it was) ...
    upstream(url, "update screenings set decision = 'admit', reasons = '[\"normal\"]' where seq = 3")
    # ... and a row nobody screened is slipped in after the last one
    upstream(url, FAKE.format(decision="decision"))
    code, out, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 1
    assert "DIFFERS: station north, seq 3" in err and "decision retest here, admit upstream" in err
    assert "1 more row(s) differ" in err and "2 differ" in out
    code, out, _ = verify(capsys, monkeypatch, db, cfg, "--json")
    report = json.loads(out)
    assert not report["ok"] and report["stations"]["north"]["first"]["seq"] == 3
    assert report["stations"]["north"]["differences"] == 2


def test_the_fake_row_alone_is_named_as_not_in_the_log(station, capsys, monkeypatch):
    db, cfg, url = station
    upstream(url, FAKE.format(decision="'admit'"))
    code, _, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 1 and "seq 31" in err and "not a row of this log" in err


def test_a_row_deleted_upstream_is_named(station, capsys, monkeypatch):
    db, cfg, url = station
    upstream(url, "delete from screenings where seq = 17")
    code, _, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 1 and "seq 17" in err and "missing upstream" in err


def test_rows_not_yet_sent_are_pending_not_differences(station, capsys, monkeypatch):
    db, cfg, _ = station
    with ScreeningLog(db) as log:
        Station(Config(station_id="north"), log).screen(
            [Reading(object_c=36.4, body_c=36.4, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))
    code, out, _ = verify(capsys, monkeypatch, db, cfg)
    assert code == 0 and "1 pending" in out


def age_and_purge(db, url, days=40):
    """Every screening ``days`` into the past (chain re-linked, re-sent as the upstream's copy), then purged here."""
    with ScreeningLog(db) as log:
        chain = log.screening_chain
        with log.engine.begin() as conn:
            conn.exec_driver_sql("update screenings set created_at = created_at - ?", (days * 86400,))
            prev = chain.anchor(conn)
            for row in conn.exec_driver_sql("select * from screenings order by seq").mappings().all():
                h = chain.link(prev, row_content(row))
                conn.exec_driver_sql("update screenings set prev_hash=?, row_hash=? where seq=?",
                                     (prev, h, row["seq"]))
                prev = h
            conn.exec_driver_sql("update sync_state set last_seq = 0")
        upstream(url, "delete from screenings")
        upstream(url, "update stations set last_seq = 0")  # the district forgets them too: they come again
        sync = Sync(log, url, school_id="s-7")
        sync.once()
        result = purge_older_than(log, 30, station_id="north", actor="wu", upstream=UpstreamCheck(sync))
        sync.close()
    return result


def test_after_a_legitimate_purge_verify_is_ok_and_still_checks_what_upstream_keeps(station, capsys, monkeypatch):
    db, cfg, url = station
    assert age_and_purge(db, url)["rows"] == 30
    code, out, _ = verify(capsys, monkeypatch, db, cfg)
    assert code == 0, out
    assert "purged here up to seq 30; the upstream keeps 30 of those rows" in out and "anchor matches" in out
    # a row removed from what the upstream keeps of the purged range breaks its chain there
    upstream(url, "delete from screenings where seq = 12")
    code, _, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 1 and "seq 13" in err and "no longer link" in err


def test_a_fever_changed_upstream_in_a_purged_range_is_found_by_deep(station, capsys, monkeypatch):
    db, cfg, url = station
    age_and_purge(db, url)
    upstream(url, "update screenings set decision = 'admit' where seq = 8")
    code, out, _ = verify(capsys, monkeypatch, db, cfg)
    assert code == 0 and "each row's hash recomputed" not in out  # the quick check trusts stored hashes ...
    code, _, err = verify(capsys, monkeypatch, db, cfg, "--deep")  # ... the deep one recomputes them
    assert code == 1 and "seq 8" in err and "does not match its own hash" in err


def test_ranges_are_opened_only_where_they_differ(station, pg):
    db, _, url = station
    upstream(url, "update screenings set temperature_c = 36.5 where seq = 23")
    with ScreeningLog(db) as log:
        sync = Sync(log, url, school_id="s-7")
        report = SyncVerifier(log, sync.engine(), sync.shown_url, sync.identity, size=7,
                              school_id="s-7").verify({"north"})
        sync.close()
    north = report.stations["north"]
    assert north["ranges"] == 5 and north["differing_ranges"] == 1
    assert north["first"]["seq"] == 23 and north["first"]["detail"] == "changed upstream: temperature_c"


def test_an_audit_event_deleted_or_rewritten_upstream_is_named(station, capsys, monkeypatch):
    db, cfg, url = station
    first = upstream(url, "select min(seq) from audit_events")[0][0]
    upstream(url, "update audit_events set actor = 'nobody' where seq = :s", s=first)
    code, _, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 1 and f"DIFFERS: station north, audit event seq {first}" in err and "actor" in err
    upstream(url, "delete from audit_events where seq = :s", s=first)
    code, out, err = verify(capsys, monkeypatch, db, cfg, "--json")
    report = json.loads(out)
    assert code == 1 and report["audit"]["north"]["first"]["kind"] == "missing-upstream"
    assert report["stations"]["north"]["first"] is None  # the screenings still match


def test_what_is_written_after_a_purge_of_everything_is_still_sent(station, capsys, monkeypatch):
    db, cfg, url = station
    age_and_purge(db, url)
    with ScreeningLog(db) as log:
        Station(Config(station_id="north"), log).screen(
            [Reading(object_c=36.4, body_c=36.4, source="gun-1", ambient_c=21.0)], MaskResult(MaskState.YES))
    code, _, err = run_gate(capsys, monkeypatch, "sync", "--once", "--db", db, "--config", cfg)
    assert code == 0, err
    assert upstream(url, "select count(*) from audit_events where action = 'purge'")[0][0] == 1
    assert upstream(url, "select count(*) from screenings where seq = 31")[0][0] == 1
    code, out, err = verify(capsys, monkeypatch, db, cfg)
    assert code == 0 and "0 pending" in out, err
