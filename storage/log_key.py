"""Which station key opens a log, and the refusals when it is not there.

- A new log gets a new key file (or the key file already at its place: a log deleted and made again keeps its key and
  so its fingerprint upstream).
- A log made before key files gets one on its first writable open: the pseudonymisation secret it kept in its
  ``station_secret`` table moves into the key file (pseudonyms stay the same), marked "upgrade pending" until the
  migrations that drop the secret and re-key the chains have committed.
- A keyed log without its key file is refused ("restore it from backup"): never a silent new key. A key file that
  is not this log's (another fingerprint) is refused too.
- A log that claims to predate keys while its key file says the upgrade was done was rolled back or replaced in the
  file: refused.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text

from storage.keys import StationKey, StationKeyError, load, load_or_create

SEALS = "seals"
KEY_ROW = "station-key"


def has_table(conn: Connection, name: str) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).first() \
        is not None


def _old_secret(conn: Connection) -> bytes | None:
    if not has_table(conn, "station_secret"):
        return None
    value = conn.execute(text("SELECT value FROM station_secret WHERE name = 'pseudonym'")).scalar()
    return bytes.fromhex(value) if value else None


def open_key(engine: Engine, db: Path, key_path: Path, read_only: bool) -> StationKey | None:
    """The key for the log at ``db`` (see the module); None only for a log from before key files opened read-only
    without one (its chains are still plain SHA-256: nothing to key them with)."""
    with engine.connect() as conn:
        is_new = not has_table(conn, "alembic_version")
        keyed = has_table(conn, SEALS)
        secret = None if is_new or keyed else _old_secret(conn)
    if is_new:
        if read_only:
            raise StationKeyError(f"{db} is not a station log (no tables): give the right --db")
        return load_or_create(key_path)
    if keyed:
        return load(key_path)
    # A log from before key files.
    if key_path.exists():
        key = load(key_path)
        if not key.upgrade_pending:
            raise StationKeyError(
                f"{db} looks older than its station key {key_path.name} (no keyed chains, while the key says the log "
                "was upgraded): the log was rolled back or replaced by hand; restore it from backup")
        return key
    if read_only:
        return None
    return load_or_create(key_path, pseudonym_key=secret, upgrade_pending=True)


def check_binding(conn: Connection, key: StationKey, db: Path) -> None:
    """Refuse a key file that is not the one this log was made (or upgraded) with."""
    stored = conn.execute(text(f"SELECT digest FROM {SEALS} WHERE name = :n"), {"n": KEY_ROW}).scalar()
    if stored is None:
        raise StationKeyError(f"{db} has no record of its station key (removed from the file by hand): "
                              "restore the log from backup")
    if stored != key.fingerprint:
        raise StationKeyError(f"the station key {key.path} (fingerprint {key.fingerprint}) is not the key of {db.name} "
                              f"(made with {stored}): give its own key file ([station] key_file) or restore both "
                              "from the same backup")
