"""An old log (plain SHA-256 chains, secret inside) is upgraded by a migration that verifies the old chains first and
re-chains them under the station key; a chain that does not verify is never re-keyed."""
import sqlite3

import pytest

from storage import audit
from storage.errors import StorageError
from storage.keys import key_path_for, load
from storage.log import ScreeningLog
from tests.functional.security.conftest import legacy_log, legacy_rows, sql


def test_an_old_log_is_re_chained_under_the_key_and_its_old_heads_are_audited(tmp_path, gate):
    db = tmp_path / "old.db"
    legacy_log(db)
    ids = legacy_rows(db, 5)
    old_head = sqlite3.connect(db).execute("SELECT row_hash FROM screenings ORDER BY seq DESC").fetchone()[0]
    with ScreeningLog(db) as log:
        result = log.verify()
        assert result.ok and result.rows == 5 and result.head != old_head
        assert [s.id for s in reversed(log.recent(5))] == ids  # the rows themselves are untouched
        event = next(e for e in audit.events(log) if e["action"] == "chains-keyed")
        assert event["detail"]["chains"]["screenings"] == {"rows": 5, "sha256_head": old_head,
                                                           "hmac_head": result.head}
        assert event["detail"]["key"] == log.key.fingerprint
    assert load(key_path_for(db)).keyed_chains
    code, out, _ = gate("verify", "--db", db)
    assert code == 0 and "ok: 5 screenings" in out and "HMAC-SHA256" in out


def test_an_old_log_whose_chain_does_not_verify_is_not_re_keyed(tmp_path, gate):
    db = tmp_path / "old.db"
    legacy_log(db)
    legacy_rows(db, 4)
    sql(db, "UPDATE screenings SET decision = 'deny' WHERE seq = 2")
    with pytest.raises(StorageError, match="does not verify at row 2.*not re-keyed"):
        ScreeningLog(db)
    code, _, err = gate("screen", "--db", db, "--temp", "36.6")
    assert code == 3 and "the screenings chain of this log does not verify at row 2" in err
    assert "restore the log from a backup" in err.lower()
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0008"
    assert con.execute("SELECT count(*) FROM screenings").fetchone()[0] == 4
    con.close()
    assert load(key_path_for(db)).upgrade_pending  # the key waits, with the old secret, for a good log
    code, _, err = gate("verify", "--db", db)  # read-only cannot upgrade it either: it says so
    assert code == 3 and "older version" in err


def test_a_log_with_chains_unkeyed_after_the_key_says_keyed_is_refused(tmp_path):
    db = tmp_path / "gate.db"
    ScreeningLog(db).close()
    sql(db, "DELETE FROM seals WHERE name LIKE 'chain:%'")  # to pass plain SHA-256 chains off as old ones
    for read_only in (True, False):
        with pytest.raises(StorageError, match="not keyed while its station key says they were"):
            ScreeningLog(db, read_only=read_only)
