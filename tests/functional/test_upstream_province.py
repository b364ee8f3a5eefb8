"""The upstream built for a province, against a real PostgreSQL: an old upstream (u0004) migrated in place into day
partitions with schools and stations; partitions made ahead, late and detached; one id, one station; a rebuilt log
under one id refused; the same schema on SQLite."""
import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from domain import MaskResult, MaskState
from drivers.base import Reading
from gate.config import Config
from gate.station import Station
from storage import partitions
from storage import upstream as up
from storage.log import ScreeningLog
from storage.sync import Sync, SyncError
from tests.pg import unavailable_reason
from tests.support import upstream_sql

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
OLD_ROW = ("'{id}', '{station}', {seq}, 1795900000.0, '{day}', 'P{seq}', 'li', NULL, 'admit', '[]', 'ok', 37.3, 36.5, "
           "'{{}}', '[]', 'prev', 'hash{seq}'")


@pytest.fixture
def url(pg):
    return pg.create_db("province")


def engine_of(url: str):
    return create_engine(up.normalise_url(url))


sql = upstream_sql


def upgrade_to(engine, revision: str) -> None:
    from alembic import command

    cfg = up._alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def fill(log, station_id: str, n: int) -> list[str]:
    st = Station(Config(station_id=station_id), log)
    return [st.screen([Reading(object_c=36.5, body_c=36.5, source="gun-1", ambient_c=21.0)],
                      MaskResult(MaskState.YES)).id for _ in range(n)]


def test_an_old_upstream_is_migrated_in_place_into_day_partitions_and_its_station_ids_are_claimed(tmp_path, url):
    engine = engine_of(url)
    upgrade_to(engine, "u0004")
    with engine.begin() as conn:  # what a station of the last release left upstream: two days, two stations
        for i, (station, day) in enumerate([("north", "2026-11-27"), ("north", "2026-11-28"), ("south", "2026-11-28")]):
            conn.execute(text("INSERT INTO screenings VALUES (" + OLD_ROW.format(id=f"old-{i}", station=station,
                                                                                 seq=i + 101, day=day) + ")"))
        conn.execute(text("INSERT INTO audit_events VALUES ('a1', 'north', 1, 1.0, 'li', 'export', '{}', 'p', 'h')"))
    up.upgrade(engine)
    engine.dispose()
    rows = sql(url, "SELECT tableoid::regclass::text, school_id, id FROM screenings ORDER BY id")
    assert rows == [("screenings_p20261127", "north", "old-0"), ("screenings_p20261128", "north", "old-1"),
                    ("screenings_p20261128", "south", "old-2")]
    assert sql(url, "SELECT school_id, station_id, fingerprint, last_seq FROM stations ORDER BY 1") == [
        ("north", "north", None, 102), ("south", "south", None, 103)]
    assert sql(url, "SELECT school_id FROM audit_events") == [("north",)]
    # Every primary key starts with the school: what Citus needs to distribute the tables by school unchanged.
    keys = sql(url, """SELECT c.relname, array_agg(a.attname ORDER BY k.ord)::text FROM pg_constraint p
                       JOIN pg_class c ON c.oid = p.conrelid
                       CROSS JOIN unnest(p.conkey) WITH ORDINALITY k(att, ord)
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att
                       WHERE p.contype = 'p' AND c.relname IN ('screenings', 'stations', 'daily_reports',
                             'audit_events', 'calibrations', 'clearances') GROUP BY c.relname""")
    assert all(cols.startswith("{school_id") for _name, cols in keys) and len(keys) == 6
    # The station that was "north" comes back (no school in its config: its own school) and claims its id; its new
    # rows reuse no sequence number held upstream (its old rows were purged from its log long ago).
    with ScreeningLog(tmp_path / "north.db") as log:
        fill(log, "north", 2)
        sync = Sync(log, url)
        assert sync.once().quarantined == 0
        sync.close()
    claimed = sql(url, "SELECT fingerprint, last_seq FROM stations WHERE station_id = 'north'")
    assert claimed[0][0] is not None and claimed[0][1] == 102


def test_a_second_station_under_the_same_id_is_refused_and_sends_nothing(tmp_path, url):
    with ScreeningLog(tmp_path / "a.db") as first, ScreeningLog(tmp_path / "b.db") as second:
        fill(first, "gate-1", 3)
        fill(second, "gate-1", 2)  # both left at the default id
        one = Sync(first, url)
        assert one.once().sent == 4  # three screenings and the stored policy's audit event
        two = Sync(second, url)
        with pytest.raises(SyncError, match="station id 'gate-1' of school 'gate-1' is already registered upstream "
                                            "by another station"):
            two.once()
        assert two.pending() == 3  # nothing sent, nothing advanced
        assert one.once().sent == 0 and one.pending() == 0  # the registered station goes on
        one.close()
        two.close()
    assert sql(url, "SELECT count(*) FROM screenings") == [(3,)]


def test_a_rebuilt_log_under_a_registered_key_cannot_reuse_its_sequence_numbers(tmp_path, url):
    # The same key (a copied key file) and a fresh log: seq 1, 2 again, for other records, on another day.
    with ScreeningLog(tmp_path / "a.db") as first, ScreeningLog(tmp_path / "b.db") as rebuilt:
        fill(first, "north", 2)
        Sync(first, url, fingerprint="k" * 64).once()
        sql(url, "UPDATE screenings SET day = day - 1")  # the first chain's rows were a day earlier
        fill(rebuilt, "north", 2)
        result = Sync(rebuilt, url, fingerprint="k" * 64).once()
    assert result.quarantined == 2 and "seq 1 of station north was already received upstream" in result.errors[0]
    assert sql(url, "SELECT count(*) FROM screenings") == [(2,)]


def test_day_partitions_are_made_ahead_made_late_and_detached_by_retention(tmp_path, url):
    engine = engine_of(url)
    up.upgrade(engine)
    today = dt.date(2026, 11, 28)
    done = partitions.maintain(engine, today, ahead_days=2)
    assert done.created == ["screenings_p20261128", "screenings_p20261129", "screenings_p20261130"]
    # A row for a day nobody made lands in the default partition, then gets its own; a row of a day years off (a
    # station's clock, or a forged row) stays there, named: maintain makes the days 400 back to 31 ahead, no other
    # (attack a16 H7: 2,000 forged days made 2,000 tables).
    for key, day in (("x", "2026-12-20"), ("y", "2031-01-01")):
        sql(url, "INSERT INTO screenings VALUES ('s', " + OLD_ROW.format(id=key, station="s", seq=ord(key), day=day)
            + ")")
    again = partitions.maintain(engine, today, ahead_days=2, keep_days=0)
    assert again.created == ["screenings_p20261220"] and again.moved_from_default == 1
    assert again.left_in_default == {"rows": 1, "days": 1, "first": "2031-01-01", "last": "2031-01-01"}
    assert sql(url, "SELECT tableoid::regclass::text FROM screenings ORDER BY 1") == [("screenings_default",),
                                                                                   ("screenings_p20261220",)]
    # keep_days=0 with today 2026-11-28: nothing older than today existed, so nothing was detached; now age them.
    later = partitions.maintain(engine, dt.date(2026, 12, 1), ahead_days=0, keep_days=1)
    assert later.detached == ["screenings_p20261128", "screenings_p20261129"]
    # A query for one day reads that day's partition only (pruning).
    plan = "\n".join(r[0] for r in sql(url, "EXPLAIN SELECT count(*) FROM screenings WHERE day = '2026-12-20'"))
    assert "screenings_p20261220" in plan and "screenings_p20261130" not in plan and "default" not in plan
    engine.dispose()


def test_the_same_schema_on_an_sqlite_upstream_keeps_one_id_one_station(tmp_path):
    url = f"sqlite:///{tmp_path / 'school.db'}"
    with ScreeningLog(tmp_path / "a.db") as first, ScreeningLog(tmp_path / "b.db") as second:
        fill(first, "gate-1", 2)
        fill(second, "gate-1", 1)
        assert Sync(first, url, school_id="s-1").once().sent == 3
        with pytest.raises(SyncError, match="'gate-1' of school 's-1'"):
            Sync(second, url, school_id="s-1").once()
        assert Sync(second, url, school_id="s-2").once().sent == 2  # another school may have its own gate-1
    assert sql(url, "SELECT school_id, count(*) FROM screenings GROUP BY 1 ORDER BY 1") == [("s-1", 2), ("s-2", 1)]


def test_from_the_command_line_the_second_gate_1_is_refused_naming_the_id_and_maintain_makes_days(tmp_path, url,
                                                                                                   capsys):
    from gate.cli import main

    for name in ("a", "b"):
        with ScreeningLog(tmp_path / f"{name}.db") as log:
            fill(log, "gate-1", 1)
    assert main(["sync", "--once", "--db", str(tmp_path / "a.db"), "--upstream", url]) == 0
    capsys.readouterr()
    code = main(["sync", "--once", "--db", str(tmp_path / "b.db"), "--upstream", url])
    err = capsys.readouterr().err
    assert code == 1 and "station id 'gate-1'" in err and "already registered upstream by another station" in err
    assert main(["upstream", "maintain", "--upstream", url, "--today", "2026-11-28", "--ahead", "0", "--json"]) == 0
    # the sync made its own day's partition already (today, by the clock): the day before is made now
    assert '"created": ["screenings_p20261128"' in capsys.readouterr().out
    assert main(["upstream", "school", "add", "S-1", "--name", "红旗小学", "--stations", "2", "--upstream", url]) == 0
    assert main(["upstream", "school", "list", "--upstream", url, "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"school_id": "S-1", "name": "红旗小学", "expected_stations": 2' in listed


def test_purge_asks_the_upstream_by_school_and_day_and_deletes_what_it_holds(tmp_path, url):
    import time as clock

    from storage.export import purge_older_than
    from storage.retention import UpstreamCheck

    def purge(school: str) -> dict:
        check = Sync(log, url, school_id=school)
        try:
            return purge_older_than(log, 30, station_id="north", actor="wu", now=clock.time() + 40 * 86400,
                                    upstream=UpstreamCheck(check))
        finally:
            check.close()

    with ScreeningLog(tmp_path / "a.db") as log:
        ids = fill(log, "north", 4)
        sync = Sync(log, url, school_id="S-1")
        assert sync.once().quarantined == 0
        sync.close()
        assert sql(url, "SELECT DISTINCT school_id FROM screenings") == [("S-1",)]
        # asked as another school, the upstream holds none of these rows: nothing is deleted
        assert purge("S-2")["rows"] == 0 and set(ids) <= log.ids()
        result = purge("S-1")
        assert result["rows"] == 4 and not (set(ids) & log.ids())
