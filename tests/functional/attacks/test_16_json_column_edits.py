"""a16c (issue 16): the station stores its screenings' JSON columns canonically and the sync's re-hash splices them;
an edit of those columns in the SQLite file that changes what they say (NaN, Infinity, 1e400, a huge number, a
nested value, invalid JSON, one row's JSON swapped with another's) is quarantined at the gate, never sent, and
`gate verify` names it."""
import sqlite3

import pytest

from domain import MaskState
from tests.functional.attacks.bureau_roles_setup import DAY, at, backlog, make_gate
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def fever_day(pg, tmp_path, name):
    url = pg.create_db(name, migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P9", temp=38.5)
    n1.screen_at(at(DAY, 7, 31), "P9", temp=38.6)
    n1.screen_at(at(DAY, 7, 32), "P5", mask=MaskState.NO)
    return url, n1


def column(gate, seq, name):
    with sqlite3.connect(gate.db) as db:
        return db.execute(f"SELECT {name} FROM screenings WHERE seq = ?", (seq,)).fetchone()[0]


EDITS = {
    "nan": lambda g: ("readings", column(g, 2, "readings").replace('"ambient_c":null', '"ambient_c":NaN', 1)),
    "infinity": lambda g: ("readings", column(g, 2, "readings").replace('"object_c":38.6', '"body_c":-Infinity', 1)),
    "1e400": lambda g: ("readings", column(g, 2, "readings").replace('"object_c":38.6', '"body_c":1e400', 1)),
    "huge-int": lambda g: ("readings", column(g, 2, "readings").replace('"object_c":38.6', '"body_c":' + "9" * 5000, 1)),
    "nested": lambda g: ("reasons", '[["fever-confirmed"]]'),
    "object-for-list": lambda g: ("reasons", '{"fever-confirmed":true}'),
    "invalid": lambda g: ("reasons", '["fever-confirmed"'),
    "empty": lambda g: ("mask", ""),
    "null": lambda g: ("mask", "null"),
    "trailing-garbage": lambda g: ("reasons", '["fever-confirmed"] x'),
    "swapped-reasons": lambda g: ("reasons", column(g, 3, "reasons")),
    "swapped-readings": lambda g: ("readings", column(g, 1, "readings")),
    "lone-surrogate": lambda g: ("reasons", r'["fever-confirmed\ud800"]'),
    "nul-escape": lambda g: ("reasons", r'["fever-confirmed\u0000"]'),
}


@pytest.mark.parametrize("how", sorted(EDITS))
def test_a_json_column_edited_to_say_something_else_is_quarantined_never_sent(pg, tmp_path, how):
    url, n1 = fever_day(pg, tmp_path, f"a16c_je_{how.replace('-', '_')}")
    name, text = EDITS[how](n1)
    with sqlite3.connect(n1.db) as db:
        db.execute(f"UPDATE screenings SET {name} = ? WHERE seq = 2", (text,))
    checked = run_gate("verify", "--config", n1.cfg)
    assert checked.returncode == 1 and "Traceback" not in checked.stdout + checked.stderr, checked.stdout
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "changed outside the station" in done.stderr, done.stderr
    assert owner_sql(url, "SELECT seq FROM screenings WHERE station_id = 'n1' ORDER BY seq") == [(1,), (3,)]
    again = run_gate("sync", "--once", "--config", n1.cfg)  # a second round sends it no more than the first
    assert again.returncode in (0, 1) and "Traceback" not in again.stderr
    assert owner_sql(url, "SELECT seq FROM screenings WHERE station_id = 'n1' ORDER BY seq") == [(1,), (3,)]


@pytest.mark.parametrize("how", ["nan", "swapped"])
def test_in_a_backlog_checked_by_the_helpers_an_edited_json_column_is_quarantined_too(pg, tmp_path, how):
    url = pg.create_db(f"a16c_jb_{how}", migrated=True)
    n1 = backlog(make_gate(tmp_path, "n1", "S-N", "北校", url), 3000)
    edited = {"nan": column(n1, 2500, "readings").replace('"ambient_c":null', '"ambient_c":NaN', 1),
              "swapped": column(n1, 10, "readings")}[how]
    with sqlite3.connect(n1.db) as db:
        db.execute("UPDATE screenings SET readings = ? WHERE seq = 2500", (edited,))
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, done.stderr
    assert owner_sql(url, "SELECT count(*) FROM screenings WHERE seq = 2500") == [(0,)]
    assert owner_sql(url, "SELECT count(*) FROM screenings") == [(2999,)]
