"""Promise 3: nothing unsynced (with the configured upstream) is purged."""
import sqlite3

from .conftest import faketime_prefix, one_clear_line


def _count(db):
    return sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0]


def test_sync_to_another_url_confirms_nothing(gate, tmp_path):
    db = tmp_path / "q.db"
    cfg = tmp_path / "q.toml"
    cfg.write_text(f'[station]\nid = "s1"\ndb = "{db}"\n[upstream]\nurl = "sqlite:///{tmp_path}/up.db"\n')
    old = faketime_prefix("-40d")
    assert gate("screen", "--config", str(cfg), "--temp", "36.6", "--mask", "yes", prefix=old).returncode == 0
    assert gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--config", str(cfg),
                stdin=b"318274\n").returncode == 0
    assert gate("users", "add", "aud", "--role", "auditor", "--user", "boss", "--pin-stdin", "--config", str(cfg),
                stdin=b"318274\n427351\n").returncode == 0
    r = gate("sync", "--config", str(cfg), "--upstream", f"sqlite:///{tmp_path}/other.db", "--once",
             "--user", "boss", "--pin-stdin", stdin=b"318274\n")
    assert r.returncode == 0, r.stderr
    r = gate("purge", "--config", str(cfg), "--older-than", "30", "--user", "aud", "--pin-stdin", stdin=b"427351\n")
    assert b"kept 1 screening" in r.stdout + r.stderr
    assert _count(db) == 1
    # an unreachable configured upstream purges nothing and exits 1
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[station]\nid = "s1"\ndb = "{db}"\n[upstream]\nurl = "postgresql://x@127.0.0.1:1/db"\n')
    r = gate("purge", "--config", str(bad), "--older-than", "30", "--user", "aud", "--pin-stdin", stdin=b"427351\n")
    assert r.returncode == 1
    one_clear_line(r)
    assert _count(db) == 1
