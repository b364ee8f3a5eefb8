"""The batches a sync reads ahead are re-hashed in a helper process (storage.row_check) while the batch before goes
upstream: a screening edited in the SQLite file anywhere in a long backlog is held back, whether the helper checks
it, dies in the middle of the round, or stops answering; every other row goes up once. Real helper processes, a real
log and an SQLite upstream file (the check is the same for PostgreSQL: it runs before the upstream is touched)."""
import json
import os
import signal
import sqlite3

import pytest
from sqlalchemy import create_engine, text

from storage import chain, row_check, sync_batch, upstream_schema as up
from storage.log import ScreeningLog
from storage.row_check import HelperGone, RowCheckHelper
from storage.sync import Sync
from storage.sync_unverified import SPEC
from tests.support import fill_log, wait_until

ROWS, BATCH = 260, 40  # seven batches, each checked in the helpers


@pytest.fixture
def backlog(tmp_path, monkeypatch):
    monkeypatch.setattr(row_check, "FROM_ROWS", 1)  # batches of 40 checked in the helpers too (else: here)
    fill_log(tmp_path / "gate.db", ROWS, station_id="north")
    return tmp_path / "gate.db"


def edit(db, seqs: dict[int, str]) -> list[str]:
    """A pupil's edits in the file (seq -> SQL assignment), hashes left alone; the edited records' ids."""
    con = sqlite3.connect(db)
    with con:
        for seq, assignment in seqs.items():
            con.execute(f"update screenings set {assignment} where seq = ?", (seq,))
        ids = [con.execute("select id from screenings where seq = ?", (s,)).fetchone()[0] for s in seqs]
    con.close()
    return ids


def upstream_ids(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [r[0] for r in conn.execute(text("select id from screenings"))]
    engine.dispose()
    assert len(found) == len(set(found))  # each record once
    return set(found)


def sync_round(db, url: str, during=None):
    """One round of ``Sync.once`` in batches of BATCH; ``during(sync, result)`` after each batch; the helpers' pids."""
    pids = []
    with ScreeningLog(db) as log:
        sync = Sync(log, url, batch_size=BATCH)

        def progress(result):
            if sync._helper is not None:
                pids.extend(sync._helper.pids)
            if during:
                during(sync, result)

        result = sync.once(progress=progress)
        sync.close()
        every = log.ids()
    return result, every, pids


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_edits_anywhere_in_a_backlog_are_held_back_and_the_rest_goes_up_once(backlog, tmp_path):
    # seq 5: the first batch; 90, 200, 259: batches read ahead (all checked in the helpers)
    edited = edit(backlog, {5: "temperature_c = 35.0", 90: "decision = 'admit', reasons = '[\"normal\"]'",
                            200: "readings = '[]'", 259: "session = 'morning'"})
    url = f"sqlite:///{tmp_path / 'up.db'}"
    result, every, pids = sync_round(backlog, url)
    assert result.quarantined == 4 and result.batches >= 7
    assert all("changed outside the station" in e for e in result.errors)
    assert upstream_ids(url) == every - set(edited)
    assert pids and wait_until(lambda: all(map(gone, pids)))  # a helper checked, and it ended with the round
    again, _every, _pids = sync_round(backlog, url)  # idempotent: what was held back stays held, nothing twice
    assert (again.quarantined, again.pending) == (0, 0) and upstream_ids(url) == every - set(edited)
    with ScreeningLog(backlog) as log, log.engine.connect() as conn:
        held = {r[0] for r in conn.exec_driver_sql("select record_id from quarantine")}
    assert held == set(edited)


def test_a_helper_killed_in_the_middle_of_a_round_leaves_no_row_unchecked(backlog, tmp_path):
    edited = edit(backlog, {130: "temperature_c = 35.9", 250: "entrant_id = 'P42'"})
    killed = []

    def kill(sync, _result):
        if sync._helper is not None and sync._helper.pids and not killed:
            killed.append(sync._helper.pids[-1])
            os.kill(killed[0], signal.SIGKILL)

    url = f"sqlite:///{tmp_path / 'up.db'}"
    result, every, _pids = sync_round(backlog, url, during=kill)
    assert killed and result.quarantined == 2
    assert upstream_ids(url) == every - set(edited)


def test_a_helper_that_stops_answering_is_given_up_and_ended(backlog):
    names = ("school_id", *(str(c.name) for c in up.record_columns(up.TABLES["screening"])))
    con = sqlite3.connect(backlog)
    rows = [("north", *r) for r in con.execute(f"select {', '.join(names[1:])} from screenings order by seq")]
    con.close()
    with ScreeningLog(backlog) as log:
        helper = RowCheckHelper(log.key.chain_key, processes=2, from_rows=1)
    spec = (*SPEC["screening"], names)
    try:
        with pytest.raises(HelperGone, match="few rows"):  # a small batch is checked by the caller
            RowCheckHelper(None, from_rows=1000).misses(spec, rows[:10])
        assert helper.misses(spec, rows) == []  # the station's own rows: all match
        pids = helper.pids
        assert len(pids) == 2  # each checks half the batch
        helper.timeout_s = 0.5  # the first answer came in its own time (a loaded machine); now one helper is stopped
        os.kill(pids[1], signal.SIGSTOP)
        with pytest.raises(HelperGone, match="did not answer"):
            helper.misses(spec, rows)
        assert helper.broken and helper.pids == [] and wait_until(lambda: all(map(gone, pids)))
        with pytest.raises(HelperGone):  # never asked again in this round: the caller checks the rows itself
            helper.misses(spec, rows)
    finally:
        helper.close()


def test_the_station_writes_its_json_columns_canonically_so_its_rows_are_checked_spliced(backlog):
    """The fast way (storage.row_check: JSON columns spliced in as stored) holds for the station's own rows."""
    names = ("school_id", *(str(c.name) for c in up.record_columns(up.TABLES["screening"])))
    con = sqlite3.connect(backlog)
    rows = [("north", *r) for r in con.execute(f"select {', '.join(names[1:])} from screenings order by seq")]
    con.close()
    for row in rows:
        for name in SPEC["screening"][1]:
            assert chain.canonical(json.loads(row[names.index(name)])) == row[names.index(name)]
    with ScreeningLog(backlog) as log:
        digest = row_check.digest_for(log.key.chain_key)
    spliced = row_check.canonical_text(*SPEC["screening"], names, spliced=True)
    assert all(digest(spliced(row).encode("utf-8")) == row[names.index("row_hash")] for row in rows)


def test_parts_handed_to_the_helpers_as_they_are_read_leave_no_edit_unseen(backlog, tmp_path, monkeypatch):
    """Each batch of 40 read in parts of 16, 16 and 8, every part checked by the next helper while the rest is read:
    an edit in any part (first, middle, last; first and last batch) is held back, the rest goes up once."""
    monkeypatch.setattr(sync_batch, "PART", 16)
    edited = edit(backlog, {1: "temperature_c = 35.1", 20: "operator = 'x'", 39: "readings = '[]'",
                            90: "decision = 'admit'", 260: "mask = '{}'"})
    url = f"sqlite:///{tmp_path / 'up.db'}"
    result, every, pids = sync_round(backlog, url)
    assert result.quarantined == 5 and len(set(pids)) == 2  # both helpers had parts
    assert upstream_ids(url) == every - set(edited)
