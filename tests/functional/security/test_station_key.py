"""Secrets out of the log: the station key file, its refusals, and the move of an old log's secret into it."""
import json
import os
import shutil
import sqlite3
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.errors import StorageError
from storage.keys import StationKey, StationKeyError, key_path_for, load, load_or_create
from storage.log import ScreeningLog
from tests.functional.security.conftest import legacy_log


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_log_gets_its_key_file_0600_beside_it_and_the_log_holds_no_secret(tmp_path):
    db = tmp_path / "gate.db"
    with ScreeningLog(db) as log:
        key = log.key
    path = key_path_for(db)
    assert path == tmp_path / "gate.db.key" and mode(path) == 0o600
    assert load(path).fingerprint == key.fingerprint and len(key.fingerprint) == 16
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "station_secret" not in tables
    raw = db.read_bytes()
    for secret in (key.master, key.pseudonym_key, key.chain_key, key.pin_pepper):
        assert secret.hex().encode() not in raw and secret not in raw
    assert key.fingerprint.encode() in raw  # only the public fingerprint, to refuse another log's key


def test_keys_for_each_purpose_differ_and_repr_never_shows_a_secret(tmp_path):
    key = load_or_create(tmp_path / "k")
    derived = {key.chain_key, key.seal_key, key.pin_pepper, key.export_key, key.master, key.pseudonym_key}
    assert len(derived) == 6
    assert key.master.hex() not in repr(key) and key.pseudonym_key.hex() not in repr(key)
    assert key.signature_ok(b"manifest", key.sign(b"manifest")) and not key.signature_ok(b"manifest!", key.sign(b"m"))
    # the fingerprint is no part of any key
    assert all(key.fingerprint not in k.hex() for k in derived)


def test_copying_the_log_without_its_key_is_refused_never_a_new_key(tmp_path, gate):
    db = tmp_path / "gate.db"
    assert gate("screen", "--db", db, "--entrant", "P1", "--temp", "36.6")[0] == 0
    copy = tmp_path / "elsewhere" / "gate.db"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    for argv in (("verify", "--db", copy), ("screen", "--db", copy, "--entrant", "P1", "--temp", "36.6"),
                 ("audit", "list", "--db", copy)):
        code, out, err = gate(*argv)
        assert code == 3, err
        assert "the station key for this log is missing" in err and "restore it from backup" in err
        assert "Traceback" not in err
    assert not key_path_for(copy).exists()  # no silent new key


def test_another_logs_key_is_refused_naming_both_fingerprints(tmp_path, gate):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    ScreeningLog(a).close()
    ScreeningLog(b).close()
    shutil.copy(key_path_for(b), key_path_for(a))
    code, _, err = gate("verify", "--db", a)
    assert code == 3 and "is not the key of a.db" in err and load(key_path_for(b)).fingerprint in err
    with pytest.raises(StorageError, match="is not the key"):
        ScreeningLog(a)


def test_a_damaged_key_file_is_refused(tmp_path):
    db = tmp_path / "gate.db"
    ScreeningLog(db).close()
    path = key_path_for(db)
    content = json.loads(path.read_text())
    content["master"] = "00" * 32  # another key under the old fingerprint
    path.write_text(json.dumps(content))
    with pytest.raises(StationKeyError, match="damaged"):
        ScreeningLog(db)
    path.write_text("not json")
    with pytest.raises(StationKeyError, match="damaged.*restore it from backup"):
        ScreeningLog(db)


def test_the_key_file_place_comes_from_the_config(tmp_path, gate):
    db, key = tmp_path / "data" / "gate.db", tmp_path / "keys" / "station.key"
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[station]\nid = "north"\ndb = "{db}"\nkey_file = "{key}"\n')
    assert gate("screen", "--config", cfg, "--entrant", "P1", "--temp", "36.6")[0] == 0
    assert key.exists() and not key_path_for(db).exists() and mode(key) == 0o600 and mode(key.parent) == 0o700
    assert gate("verify", "--config", cfg)[0] == 0
    assert gate("verify", "--db", db)[0] == 3  # without the config the key beside the log is missing


def test_an_old_logs_secret_moves_to_the_key_file_so_pseudonyms_stay(tmp_path):
    db = tmp_path / "old.db"
    legacy_log(db, secret="cd" * 32)
    with ScreeningLog(db) as log:
        assert log.key.pseudonym_key == bytes.fromhex("cd" * 32)
    key = load(key_path_for(db))
    assert key.pseudonym_key == bytes.fromhex("cd" * 32) and not key.upgrade_pending
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "station_secret" not in tables and "seals" in tables
    with ScreeningLog(db) as again:  # the second opening reads the same key
        assert again.key.fingerprint == key.fingerprint


def test_an_old_log_opened_read_only_is_refused_and_nothing_is_created(tmp_path, gate):
    db = tmp_path / "old.db"
    legacy_log(db)
    with pytest.raises(StorageError, match="older version of the station.*open it for writing once"):
        ScreeningLog(db, read_only=True)
    code, _, err = gate("verify", "--db", db)
    assert code == 3 and "older version" in err
    assert not key_path_for(db).exists()


def test_a_log_rolled_back_to_before_keys_is_refused(tmp_path):
    """Somebody replaces the keyed log with an old-format one (or rewinds its schema) to escape the keyed chains."""
    db = tmp_path / "gate.db"
    ScreeningLog(db).close()
    db.unlink()
    legacy_log(db)
    for read_only in (False, True):
        with pytest.raises(StationKeyError, match="rolled back or replaced"):
            ScreeningLog(db, read_only=read_only)


def test_two_creations_at_once_end_with_one_key(tmp_path):
    path = tmp_path / "k"
    first = load_or_create(path)
    assert load_or_create(path).fingerprint == first.fingerprint
    with pytest.raises(FileExistsError):
        StationKey.new(path=path).save(exclusive=True)
    assert load(path).fingerprint == first.fingerprint


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=5000))
def test_any_bytes_in_a_key_file_are_a_key_or_one_refusal_and_keep_their_mode(tmp_path, raw):
    path = tmp_path / "fuzz.key"
    path.write_bytes(raw)
    path.chmod(0o644)
    with pytest.raises(StationKeyError):
        load(path)
    assert mode(path) == 0o644  # a refused file is left as it was


def test_a_link_to_a_real_key_is_refused_and_the_key_left_as_it_was(tmp_path):
    key = StationKey.new().save(tmp_path / "real.key")
    (tmp_path / "link.key").symlink_to(key.path)
    with pytest.raises(StationKeyError, match="symbolic link"):
        load(tmp_path / "link.key")
    assert load(key.path).fingerprint == key.fingerprint
