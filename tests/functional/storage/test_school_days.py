"""The per-school daily rollup the bureau reads at province scale (upstream migration u0012, a statement trigger on
screenings) always equals counting the screenings themselves, on a real PostgreSQL: after a sync, after the same
batch sent again (nothing counted twice), after rows written straight into the table (a fever, a no-mask refusal,
a retest), and after maintenance moved a day's rows out of the default partition."""
import datetime as dt
import sqlite3

import pytest
from sqlalchemy import text

from storage import bureau, partitions
from storage import upstream as up
from storage.log import ScreeningLog
from storage.sync import Sync
from tests.pg import unavailable_reason
from tests.support import fill_log

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
COUNTED = """SELECT school_id, day, sum(CASE WHEN follows IS NULL THEN 1 ELSE 0 END),
                    sum(CASE WHEN reasons LIKE '%"fever-confirmed"%' THEN 1 ELSE 0 END),
                    sum(CASE WHEN decision = 'deny' AND reasons LIKE '%"no-mask"%' THEN 1 ELSE 0 END)
             FROM screenings GROUP BY school_id, day"""
ROW = """INSERT INTO screenings (school_id, id, station_id, seq, created_at, day, entrant_id, operator, follows,
         decision, reasons, message, threshold_c, temperature_c, mask, readings, prev_hash, row_hash, session)
         VALUES (:school, :id, 'g9', :seq, 0, :day, 'P1', 'duty', :follows, :decision, :reasons, 'm', 37.3, 38.6,
                 '{}', '[]', 'p', 'h', NULL)"""


def rollup_equals_counting(engine) -> dict:
    with engine.connect() as conn:
        counted = {(r[0], r[1]): tuple(int(x) for x in r[2:]) for r in conn.execute(text(COUNTED))}
        rolled = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(text(
            "SELECT school_id, day, screened, confirmed_fevers, no_mask_refusals FROM school_days"))}
    assert rolled == counted
    return rolled


def test_the_rollup_is_what_counting_the_screenings_gives(pg, tmp_path):
    url = pg.create_db("school_days")
    fill_log(tmp_path / "g1.db", 250, station_id="g1")
    log = ScreeningLog(tmp_path / "g1.db")
    sync = Sync(log, url, batch_size=100)
    assert sync.once().sent == 250
    engine = up.make_upstream_engine(url)
    first = rollup_equals_counting(engine)
    assert sum(v[0] for v in first.values()) > 0
    with sqlite3.connect(tmp_path / "g1.db") as conn:  # the checkpoint forgotten: every batch sent again
        conn.execute("UPDATE sync_state SET last_seq = 0")
    assert sync.once().quarantined == 0
    assert rollup_equals_counting(engine) == first  # a re-sent row adds nothing
    sync.close()
    log.close()
    # rows written straight in: a confirmed fever, its retest, a no-mask refusal, on a day with no partition yet
    later = dt.date(2027, 3, 2)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schools (school_id, name, created_at) VALUES ('g9', 'School 9', 0)"))
        for seq, (follows, decision, reasons) in enumerate([(None, "deny", '["fever-confirmed"]'),
                                                            ("x1", "deny", '["fever-confirmed"]'),
                                                            (None, "deny", '["no-mask"]')], start=1):
            conn.execute(text(ROW), {"school": "g9", "id": f"x{seq}", "seq": seq, "day": later,
                                     "follows": follows, "decision": decision, "reasons": reasons})
    assert rollup_equals_counting(engine)[("g9", later)] == (2, 2, 1)
    partitions.maintain(engine, later, ahead_days=0)  # the day's rows leave the default partition: not recounted
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM screenings_default")).scalar() == 0
    assert rollup_equals_counting(engine)[("g9", later)] == (2, 2, 1)
    # and the bureau's figures for that day come from the rollup
    shown = {s.school_id: s for s in bureau.schools_on(engine, later, 0.0)}
    assert (shown["g9"].screened, shown["g9"].confirmed_fevers, shown["g9"].no_mask_refusals) == (2, 2, 1)
    engine.dispose()
