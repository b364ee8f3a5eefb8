"""Purge deletes only what the configured upstream confirmed: its identity, its checkpoint, what it holds; records it
refused are never purged; a record that would not fit upstream is refused here. Against a real PostgreSQL."""
import time

import msgspec
import pytest
from sqlalchemy import create_engine, text

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage.export import purge_older_than
from storage.log import ScreeningLog
from storage.retention import UpstreamCheck, describe
from storage.sync import Sync, SyncError
from storage.upstream import normalise_url
from tests.pg import unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
LATER = 40 * 86400  # purge as if 40 days had passed: the rows are then past a 30-day retention


@pytest.fixture
def url(pg):
    return pg.create_db("district")


@pytest.fixture
def log(tmp_path):
    with ScreeningLog(tmp_path / "gate.db") as log:
        yield log


def fill(log, n: int, temp: float = 36.5, station_id: str = "north", legacy: bool = False) -> list[str]:
    # legacy: a config from before ids were checked, which the schema would refuse today
    if legacy:
        cfg = Config()
        msgspec.structs.force_setattr(cfg, "station_id", station_id)  # as an old config file left it, unchecked
    else:
        cfg = Config(station_id=station_id)
    st = Station(cfg, log)
    return [st.screen([Reading(object_c=temp, body_c=temp, source="gun-1", ambient_c=21.0)],
                      MaskResult(MaskState.YES)).id for _ in range(n)]


def purge(log, url: str | None) -> dict:
    sync = Sync(log, url) if url else None
    try:
        return purge_older_than(log, 30, station_id="north", actor="wu", now=time.time() + LATER,
                                upstream=UpstreamCheck(sync) if sync else None)
    finally:
        if sync:
            sync.close()


def sync_once(log, url: str):
    sync = Sync(log, url)
    try:
        return sync.once()
    finally:
        sync.close()


def upstream_sql(url: str, sql: str):
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        rows = conn.execute(text(sql)).all() if sql.lstrip().lower().startswith("select") else conn.execute(text(sql))
    engine.dispose()
    return rows


def test_no_sync_ever_run_purges_nothing_and_says_why(log, url):
    ids = fill(log, 5)
    result = purge(log, url)
    assert result["rows"] == 0 and log.ids() == set(ids)
    assert result["kept"] == {"not-confirmed": 5}
    (line,) = describe_lines(result, url)
    assert line.startswith("kept 5 screenings not yet confirmed by upstream postgresql") and "gate sync" in line


def describe_lines(result: dict, url: str) -> list[str]:
    from storage.retention import Plan

    return describe(Plan(kept=result["kept"]), "screenings", url)


def test_after_a_sync_purge_deletes_what_the_upstream_holds_and_the_chain_still_verifies(log, url):
    fill(log, 5)
    assert sync_once(log, url).sent == 5 + 1  # and the audit event of the policy stored at the first screening
    later = fill(log, 2)
    result = purge(log, url)
    assert result["rows"] == 5 and log.ids() == set(later) and log.verify().ok
    assert result["kept"] == {"not-confirmed": 2}


def test_a_trial_sync_to_another_upstream_confirms_nothing(log, pg, url):
    ids = fill(log, 4)
    trial = pg.create_db("trial")
    assert sync_once(log, trial).sent == 4 + 1  # and the initial policy's audit event
    result = purge(log, url)
    assert result["rows"] == 0 and log.ids() == set(ids) and result["kept"] == {"not-confirmed": 4}


def test_a_replaced_database_at_the_same_url_confirms_nothing_until_everything_is_sent_again(log, pg, url):
    ids = fill(log, 6)
    assert sync_once(log, url).sent == 6 + 1  # and the initial policy's audit event
    name = url.rsplit("/", 1)[1]
    upstream_sql(pg.url(), "select 1")  # the server is up
    engine = create_engine(normalise_url(pg.url()), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # the district IT replaces the database: same name, same URL, empty
        conn.execute(text(f"drop database {name}"))
        conn.execute(text(f"create database {name}"))
    engine.dispose()
    result = purge(log, url)
    assert result["rows"] == 0 and log.ids() == set(ids) and result["kept"] == {"not-confirmed": 6}
    again = sync_once(log, url)  # a new identity: the old checkpoint is void, everything goes again
    # and the purge's and the initial policy's audit events
    assert again.sent == 6 + 2 and len(upstream_sql(url, "select id from screenings")) == 6
    assert purge(log, url)["rows"] == 6 and log.count() == 0 and log.verify().ok


def test_rows_missing_or_changed_upstream_are_kept(log, url):
    ids = fill(log, 6)
    sync_once(log, url)
    # Someone deletes the third row upstream (or restores an older backup with the same identity).
    upstream_sql(url, f"delete from screenings where id = '{ids[2]}'")
    result = purge(log, url)
    assert result["rows"] == 2 and log.ids() == set(ids[2:])
    assert result["kept"] == {"not-upstream": 1, "behind": 3}
    # A fever changed into an admit upstream (with a recomputed hash): that row does not count as held either.
    upstream_sql(url, f"update screenings set decision = 'admit', row_hash = 'x' where id = '{ids[4]}'")
    with log.engine.begin() as conn:  # re-send from the start: the missing row goes up again
        conn.exec_driver_sql("update sync_state set last_seq = 0")
    sync_once(log, url)
    again = purge(log, url)
    assert again["rows"] == 2 and log.ids() == set(ids[4:]) and again["kept"] == {"not-upstream": 1, "behind": 1}


def test_quarantined_records_are_never_purged(log, url):
    sync = Sync(log, url)
    sync.engine()
    upstream_sql(url, "alter table screenings add constraint plausible check (temperature_c < 43)")
    good = fill(log, 3)
    bad = fill(log, 1, temp=44.0)
    after = fill(log, 2)
    result = sync.once()
    sync.close()
    assert (result.sent, result.quarantined) == (5 + 1, 1) and "plausible" in result.errors[0]  # + the policy event
    purged = purge(log, url)
    assert purged["rows"] == 3 and log.ids() == set(bad + after) and log.verify().ok
    assert purged["kept"] == {"quarantined": 1, "behind": 2}
    # Without an upstream in the config, age decides, but a refused record still stays.
    alone = purge(log, None)
    assert alone["rows"] == 0 and alone["kept"] == {"quarantined": 1, "behind": 2} and bad[0] in log.ids()
    assert not set(good) & log.ids()


def test_an_unreachable_upstream_purges_nothing(log, url):
    ids = fill(log, 3)
    sync_once(log, url)
    with pytest.raises(SyncError, match="unreachable"):
        purge(log, "postgresql://postgres@127.0.0.1:1/nowhere")
    assert log.ids() == set(ids)


def test_without_an_upstream_purge_goes_by_age(log):
    fill(log, 3)
    result = purge(log, None)
    assert result["rows"] == 3 and result["upstream"] is None and log.count() == 0


def test_a_checkpoint_from_before_identities_confirms_nothing(log, url):
    ids = fill(log, 3)
    sync_once(log, url)
    with log.engine.begin() as conn:  # a log migrated from before: its checkpoint has no identity
        conn.exec_driver_sql("update sync_state set identity = NULL")
    assert purge(log, url)["rows"] == 0 and log.ids() == set(ids)
    assert sync_once(log, url).sent == 3 + 2  # adopted: sent again (and the policy's and the purge's audit events)
    assert len(upstream_sql(url, "select id from screenings")) == 3
    assert purge(log, url)["rows"] == 3


def test_the_identity_is_made_once_and_survives_reconnects(log, url):
    a, b = Sync(log, url), Sync(log, url)
    try:
        a.engine()
        b.engine()
        assert a.identity == b.identity and len(a.identity) == 36
        upstream_sql(url, "delete from gate_upstream_identity")  # someone deletes it: a new one, a new database
        c = Sync(log, url)
        c.engine()
        assert c.identity != a.identity
        c.close()
    finally:
        a.close()
        b.close()


def test_a_record_that_would_not_fit_upstream_is_refused_here_and_never_sent(log, url):
    fill(log, 2, station_id="x" * 70, legacy=True)  # a station id from before ids were checked at the config
    fill(log, 1, station_id="north")
    result = sync_once(log, url)
    # The two screenings and the audit event of the policy stored under that station id are refused here.
    assert (result.sent, result.quarantined) == (1, 3)
    assert "refused here, not sent: station_id is 70 characters long" in result.errors[0]
    assert [r[0] for r in upstream_sql(url, "select station_id from screenings")] == ["north"]
    with log.engine.connect() as conn:
        errors = [r[0] for r in conn.exec_driver_sql("select error from quarantine")]
    assert len(errors) == 3 and all("at most 64" in e for e in errors)


def test_an_entrant_id_with_a_terminal_escape_is_refused_here_and_never_sent(log, url):
    (forged,) = fill(log, 1)
    chain = log.screening_chain
    with log.engine.begin() as conn:  # a log written before the checks: the id is in the row its hash was made of
        row = dict(conn.exec_driver_sql("select * from screenings where id = ?", (forged,)).mappings().one())
        row["entrant_id"] = "\x1b[2KP42"
        conn.exec_driver_sql("update screenings set entrant_id = ?, row_hash = ? where id = ?",
                             (row["entrant_id"], chain.link(row["prev_hash"], chain.content(row)), forged))
    result = sync_once(log, url)
    assert result.quarantined == 1 and "entrant_id contains control or invisible characters" in result.errors[0]
    assert "\x1b" not in result.errors[0] and upstream_sql(url, "select id from screenings") == []
    assert purge(log, url)["kept"] == {"quarantined": 1} and forged in log.ids()


def test_an_entrant_id_edited_into_a_terminal_escape_in_the_file_is_refused_as_an_edit(log, url):
    (forged,) = fill(log, 1)
    with log.engine.begin() as conn:  # someone editing the file: the hash no longer matches, that is said first
        conn.exec_driver_sql("update screenings set entrant_id = ? where id = ?", ("\x1b[2KP42", forged))
    result = sync_once(log, url)
    assert result.quarantined == 1 and "changed outside the station" in result.errors[0]
    assert "\x1b" not in result.errors[0] and upstream_sql(url, "select id from screenings") == []
    assert purge(log, url)["kept"] == {"quarantined": 1} and forged in log.ids()
