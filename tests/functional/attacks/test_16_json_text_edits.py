"""a16c's attack on the JSON columns of a screening (issue 16): an edit made in the SQLite file that keeps the value
Python parses (a \\u escape, spaces, a duplicate key whose last value is the original, a longer spelling of the same
number) used to recompute to the same hash, so `gate verify` said ok and `gate sync` sent the EDITED TEXT upstream,
where the rollups read it as text: a confirmed fever spelt `"\\u0066ever-confirmed"` vanished from the bureau and the
school's report, and the school's other gate admitted the pupil. Now a JSON text that is not one the station writes
for its value (storage.row_check.as_written) is an edit: `gate verify` names it, the sync quarantines it and holds
the pupil. Reordering an object's keys is the one such edit still believed (rows stored before the columns were
written canonically kept their keys in the order written, and a key order changes nothing any reader makes of it)."""
import json
import sqlite3

import pytest

from domain import MaskState
from tests.functional.attacks.bureau_roles_setup import DAY, at, backlog, make_gate
from tests.functional.attacks.test_16_bureau import owner_sql
from tests.pg import unavailable_reason
from tests.support import Clock, run_gate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))


def school_with_a_confirmed_fever(pg, tmp_path, name):
    url = pg.create_db(name, migrated=True)
    n1 = make_gate(tmp_path, "n1", "S-N", "北校", url)
    n2 = make_gate(tmp_path, "n2", "S-N", "北校", url)
    n1.screen_at(at(DAY, 7, 30), "P9", temp=38.5)           # retest
    fever = n1.screen_at(at(DAY, 7, 31), "P9", temp=38.6)   # deny, fever-confirmed
    n1.screen_at(at(DAY, 7, 32), "P5", mask=MaskState.NO)   # deny, no-mask
    with sqlite3.connect(n1.db) as db:
        rows = dict(db.execute("SELECT entrant_id || ':' || seq, reasons FROM screenings"))
    assert rows["P9:2"] == '["fever-confirmed"]' and rows["P5:3"] == '["normal","no-mask"]', rows
    return url, n1, n2, fever


def edit(gate, seq, column, text):
    with sqlite3.connect(gate.db) as db:
        db.execute(f"UPDATE screenings SET {column} = ? WHERE seq = ?", (text, seq))


# What a pupil at the unlocked gate PC types (sqlite3 gate.db), each keeping the value Python parses:
EDITS = [
    ("unicode-escape", 2, "reasons", r'["\u0066ever-confirmed"]'),
    ("whitespace", 2, "reasons", '[ "fever-confirmed" ]'),
    ("duplicate-key", 2, "readings", None),   # {"object_c":36.5, ... "object_c":38.5 ...}: last wins in Python
    ("long-float", 2, "readings", None),      # object_c 38.6 spelt 38.6000000000000000000001
]


def edited_text(gate, seq, column, how):
    with sqlite3.connect(gate.db) as db:
        (text,) = db.execute(f"SELECT {column} FROM screenings WHERE seq = ?", (seq,)).fetchone()
    new = _edited(text, how)
    assert new != text, how
    return new


def _edited(text, how):
    if how == "duplicate-key":
        return text.replace('[{"ambient_c"', '[{"object_c":36.5,"ambient_c"', 1)
    if how == "long-float":
        return text.replace('"object_c":38.6,', '"object_c":38.6000000000000000000001,', 1)
    raise AssertionError(how)


@pytest.mark.parametrize("how,seq,column,text", EDITS, ids=[e[0] for e in EDITS])
def test_a_json_column_edited_in_the_file_keeping_its_value_is_named_by_verify_and_quarantined(pg, tmp_path, how, seq,
                                                                                               column, text):
    url, n1, _, fever = school_with_a_confirmed_fever(pg, tmp_path, f"a16c_json_{how.replace('-', '_')}")
    edit(n1, seq, column, text if text is not None else edited_text(n1, seq, column, how))
    verified = run_gate("verify", "--config", n1.cfg)
    assert verified.returncode != 0 and f"{column} column's text was changed outside the station" in \
        verified.stdout + verified.stderr, verified
    done = run_gate("sync", "--once", "--config", n1.cfg)
    sent = owner_sql(url, f"SELECT {column} FROM screenings WHERE seq = :s AND station_id = 'n1'", s=seq)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, (done.stdout, done.stderr, sent)
    assert sent == [], f"the edited row went upstream as {sent}"


def test_a_fever_reason_spelt_with_a_unicode_escape_never_leaves_the_gate_and_the_other_gate_refuses_the_pupil(
        pg, tmp_path):
    # Was: bureau confirmed_fevers 0, gate school report zero_report true, gate n2 ADMITS P9. Now the edited rows
    # never leave n1 (quarantined; P9 held: n2 refuses him), and nobody upstream calls the day a zero report.
    url, n1, n2, _ = school_with_a_confirmed_fever(pg, tmp_path, "a16c_json_fever")
    edit(n1, 2, "reasons", r'["\u0066ever-confirmed"]')
    edit(n1, 3, "reasons", r'["normal","no-mas\u006b"]')
    verified = run_gate("verify", "--config", n1.cfg)
    assert verified.returncode != 0 and \
        "reasons column's text was changed outside the station" in verified.stdout + verified.stderr, verified
    sent = run_gate("sync", "--once", "--config", n1.cfg)
    assert sent.returncode == 1 and "changed outside the station" in sent.stderr, sent
    n2.screen_at(at(DAY, 7, 40), "P1")
    assert run_gate("sync", "--once", "--config", n2.cfg).returncode == 0
    bureau = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json",
                                 clock=Clock(at(DAY, 16, 0))).stdout)
    school = json.loads(run_gate("school", "report", "--upstream", url, "--school", "S-N", "--date",
                                 DAY.isoformat(), "--json", clock=Clock(at(DAY, 16, 0))).stdout)
    at_n2 = run_gate("screen", "--config", n2.cfg, "--temp", "36.5", "--entrant", "P9", "--operator", "li",
                     "--mask", "yes", "--json", clock=Clock(at(DAY, 8, 0)))
    decision = json.loads(at_n2.stdout.strip().splitlines()[-1])["decision"]
    assert decision == "deny", at_n2.stdout  # P9, confirmed with fever at n1 and never cleared
    assert owner_sql(url, "SELECT count(*) FROM screenings WHERE station_id = 'n1' AND seq IN (2, 3)") == [(0,)]
    assert bureau[0]["zero_report"] is not True and school["zero_report"] is not True, (bureau, school)


def test_an_objects_keys_reordered_in_the_file_change_nothing_any_reader_makes_of_it(pg, tmp_path):
    """The one value-keeping edit still believed: rows stored before the station wrote its JSON columns canonically
    kept their keys in the order written, so a key order cannot tell an edit from such a row. What every reader makes
    of the row upstream (the mask's state, the bureau's figures) is the row's own."""
    url, n1, n2, _ = school_with_a_confirmed_fever(pg, tmp_path, "a16c_json_key_order")
    with sqlite3.connect(n1.db) as db:
        (before,) = db.execute("SELECT mask FROM screenings WHERE seq = 3").fetchone()
    after = json.dumps(dict(reversed(list(json.loads(before).items()))), separators=(",", ":"), ensure_ascii=False)
    assert after != before
    edit(n1, 3, "mask", after)
    assert run_gate("sync", "--once", "--config", n1.cfg).returncode == 0
    (sent,) = owner_sql(url, "SELECT mask FROM screenings WHERE station_id = 'n1' AND seq = 3")
    assert json.loads(sent[0]) == json.loads(before) and json.loads(sent[0])["state"] == "no"
    bureau = json.loads(run_gate("bureau", "daily", "--upstream", url, "--date", DAY.isoformat(), "--json",
                                 clock=Clock(at(DAY, 16, 0))).stdout)
    assert bureau[0]["confirmed_fevers"] == 1 and bureau[0]["no_mask_refusals"] == 1


@pytest.mark.parametrize("how", ["escape", "trailing-space"])
def test_in_a_backlog_checked_by_the_helpers_a_json_text_edit_is_quarantined_too(pg, tmp_path, how):
    # 3,000 rows, row 2500's readings edited keeping its parsed value: checked by the helper processes, quarantined
    # like any edit (exit 1, not upstream).
    url = pg.create_db(f"a16c_hb_{how.replace('-', '_')}", migrated=True)
    n1 = backlog(make_gate(tmp_path, "n1", "S-N", "北校", url), 3000)
    with sqlite3.connect(n1.db) as db:
        (text,) = db.execute("SELECT readings FROM screenings WHERE seq = 2500").fetchone()
        new = text.replace('"manual"', '"m\\u0061nual"', 1) if how == "escape" else text + " "
        assert new != text
        db.execute("UPDATE screenings SET readings = ? WHERE seq = 2500", (new,))
    done = run_gate("sync", "--once", "--config", n1.cfg)
    assert done.returncode == 1 and "changed outside the station" in done.stderr, (done.stdout, done.stderr)
    assert owner_sql(url, "SELECT count(*) FROM screenings WHERE seq = 2500") == [(0,)]
