"""Clearances in the log (storage/clearances.py, gate/clearance.py): stored chained and audited, synced upward, refused
when there is nothing to clear, and not fooled by rows written into the file by hand."""
import sqlite3
import time

import pytest
from sqlalchemy import create_engine, text

from domain import Decision, MaskResult, MaskState, Reading, Screening
from domain.errors import UsageError
from gate.clearance import clear, waiting
from storage import audit, clearances
from storage.clearances import ClearanceRefused
from storage.log import ScreeningLog
from storage.sync import Sync
from storage.upstream import normalise_url
from tests.pg import unavailable_reason

T0 = time.mktime((2026, 12, 1, 7, 42, 0, 0, 0, -1))


def store(log, decision, reasons, entrant="P42", at=T0, temp=38.5):
    s = Screening(station_id="gate-1", readings=(Reading(object_c=temp, source="gun-1", ts=at),),
                  mask=MaskResult(MaskState.YES), decision=decision, reasons=tuple(reasons), message="",
                  threshold_c=37.3, entrant_id=entrant, created_at=at)
    return log.append(s)


@pytest.fixture
def log(db_path):
    with ScreeningLog(db_path) as log:
        yield log


def fever(log, entrant="P42", at=T0):
    store(log, Decision.RETEST, ["fever-suspected"], entrant, at)
    return store(log, Decision.DENY, ["fever-confirmed"], entrant, at + 600)


def clear_p42(log, note="doctor's note, 2 Dec", now=T0 + 86400, entrant="P42"):
    return clear(log, station_id="gate-1", entrant_id=entrant, note=note, by="nurse", role="health", now=now)


def test_history_of_a_stranger_is_empty(log):
    h = clearances.history(log, "P42")
    assert h.latest is None and h.last_fever is None and h.clearances == ()


def test_history_names_the_latest_screening_and_the_latest_fever(log):
    f = fever(log)
    later = store(log, Decision.DENY, ["normal", "fever-not-cleared"], at=T0 + 900, temp=36.9)
    store(log, Decision.DENY, ["fever-confirmed"], entrant="P43", at=T0 + 950)  # someone else's fever
    h = clearances.history(log, "P42")
    assert h.latest.id == later.id and h.last_fever.id == f.id and h.clearances == ()


def test_a_clearance_is_stored_chained_audited_and_queued(log):
    f = fever(log)
    assert [s.id for s in waiting(log)] == [f.id]
    c = clear_p42(log)
    assert c.fever_screening_id == f.id and c.fever_at == f.created_at and c.at == T0 + 86400
    assert clearances.records(log) == [c] and clearances.history(log, "P42").clearances == (c,)
    assert waiting(log) == []
    event = audit.events(log, 1)[0]
    assert event["action"] == "fever-cleared" and event["actor"] == "nurse"
    assert event["detail"] == {"clearance": c.id, "entrant_id": "P42", "fever_screening": f.id, "role": "health",
                               "note": "doctor's note, 2 Dec"}
    with sqlite3.connect(log.path) as conn:
        assert conn.execute("select count(*) from outbox where kind='clearance' and record_id=?",
                            (c.id,)).fetchone() == (1,)
    assert clearances.verify(log).ok and audit.verify(log).ok


@pytest.mark.parametrize("entrant, note, error, says", [
    ("P42", "", UsageError, "note is empty"),
    ("P42", "x" * 501, UsageError, "at most 500"),
    ("P42", "ok\x1b[2J", UsageError, "control"),
    ("P 42", "note", UsageError, "space"),
    ("", "note", UsageError, "empty"),
    ("P24", "doctor's note", ClearanceRefused, "P24 has no confirmed fever"),  # a tired teacher's wrong number
])
def test_a_clearance_with_bad_input_or_nothing_to_clear_is_refused(log, entrant, note, error, says):
    fever(log)
    with pytest.raises(error, match=says):
        clear_p42(log, note=note, entrant=entrant)
    assert clearances.records(log) == []


def test_a_fever_is_cleared_once_and_a_later_fever_needs_its_own_clearance(log):
    fever(log)
    clear_p42(log)
    with pytest.raises(ClearanceRefused, match="no confirmed fever waiting"):
        clear_p42(log)
    second = fever(log, at=T0 + 2 * 86400)
    assert [s.id for s in waiting(log)] == [second.id]
    assert clear_p42(log, now=T0 + 3 * 86400).fever_screening_id == second.id


def test_storage_refuses_a_clearance_of_an_old_or_cleared_fever(log):
    first = fever(log)
    c = clear_p42(log)
    with pytest.raises(ClearanceRefused, match="cleared already"):
        clearances.add(log, c.__class__(**{**c.content(), "id": "other"}))
    fever(log, at=T0 + 2 * 86400)
    stale = c.__class__(**{**c.content(), "id": "stale", "fever_screening_id": first.id})
    with pytest.raises(ClearanceRefused, match="no confirmed fever"):
        clearances.add(log, stale)


def test_a_clearance_row_slipped_into_the_file_clears_nobody(log):
    f = fever(log)
    with sqlite3.connect(log.path) as conn:  # a pupil with the gate PC unlocked and an SQLite browser
        conn.execute("insert into clearances (id, station_id, entrant_id, fever_screening_id, fever_at, note, "
                     "cleared_by, role, at, prev_hash, row_hash) values ('fake', 'gate-1', 'P42', ?, ?, 'ok', "
                     "'nurse', 'health', ?, ?, ?)", (f.id, f.created_at, T0 + 1000, "0" * 64, "f" * 64))
    assert clearances.history(log, "P42").clearances == ()
    assert [s.id for s in waiting(log)] == [f.id]
    result = clearances.verify(log)
    assert not result.ok and result.bad_id == "fake"


def test_a_changed_clearance_stops_counting_from_that_row_on(log):
    fever(log, "P42")
    fever(log, "P43", at=T0 + 100)
    clear_p42(log)
    clear_p42(log, entrant="P43")
    with sqlite3.connect(log.path) as conn:
        conn.execute("update clearances set entrant_id = 'P44' where entrant_id = 'P42'")
    assert clearances.records(log) == []  # the first row broke: nothing after it is trusted either
    assert not clearances.verify(log).ok


def test_clearances_sync_upward_to_an_sqlite_upstream(log, tmp_path):
    fever(log)
    c = clear_p42(log)
    url = f"sqlite:///{tmp_path / 'district.db'}"
    sync = Sync(log, url)
    sync.once()
    sync.close()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select id, entrant_id, note from clearances")).all() == [
            (c.id, "P42", "doctor's note, 2 Dec")]
    engine.dispose()


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_clearances_sync_upward_to_postgresql(log, pg):
    url = pg.create_db("clearances")
    fever(log)
    c = clear_p42(log)
    sync = Sync(log, url)
    result = sync.once()
    sync.close()
    assert result.quarantined == 0 and result.pending == 0
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        row = conn.execute(text("select id, station_id, fever_screening_id, cleared_by, role, row_hash "
                                "from clearances")).one()
    engine.dispose()
    stored = clearances.verify(log)
    assert row == (c.id, "gate-1", c.fever_screening_id, "nurse", "health", stored.head)


def test_purge_keeps_a_fever_that_is_not_cleared_and_everything_after_it(log):
    from gate.config import Config
    from gate.station import Station
    from storage.export import purge_older_than
    from storage.retention import Plan, describe

    day = 86400
    store(log, Decision.ADMIT, ["normal"], entrant="P1", at=T0 - 60, temp=36.5)
    f = fever(log, at=T0)
    store(log, Decision.ADMIT, ["normal"], entrant="P1", at=T0 + 2 * day, temp=36.5)
    result = purge_older_than(log, 30, station_id="gate-1", actor="wu", now=T0 + 40 * day)
    assert result["rows"] == 2 and result["kept"] == {"fever-not-cleared": 2}  # the fever and what came after
    assert log.get(f.id) is not None and log.verify().ok
    assert "confirmed fever not yet cleared" in describe(Plan(kept=result["kept"]), "screenings", None)[0]
    station = Station(Config(), log, language="en", clock=lambda: T0 + 40 * day)
    refused = station.screen([Reading(object_c=36.6, source="manual", operator="li")], MaskResult(MaskState.YES),
                             entrant_id="P42")
    assert refused.decision is Decision.DENY and refused.message.startswith("Fever confirmed at 2026-12-01 07:52")
    clear_p42(log, now=T0 + 41 * day)
    result = purge_older_than(log, 30, station_id="gate-1", actor="wu", now=T0 + 41 * day)
    assert result["rows"] == 2 and log.get(f.id) is None and log.verify().ok  # the refusal of day 40 stays
