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


def chains_keyed(conn: Connection) -> bool:
    """The log's chains are HMACs (the upgrade that keyed them left their seals)."""
    return has_table(conn, SEALS) and conn.execute(
        text(f"SELECT 1 FROM {SEALS} WHERE name = 'chain:screenings'")).first() is not None


def open_key(engine: Engine, db: Path, key_path: Path, read_only: bool) -> tuple[StationKey | None, bool]:
    """The key for the log at ``db`` (see the module) and whether its chains are keyed already. The key is None only
    for a log from before key files opened read-only without one (plain SHA-256 chains: nothing to key them with)."""
    with engine.connect() as conn:
        is_new = not has_table(conn, "alembic_version")
        has_key = has_table(conn, SEALS)
        keyed = chains_keyed(conn)
        secret = None if is_new or has_key else _old_secret(conn)
    if is_new:
        if read_only:
            raise StationKeyError(f"{db} is not a station log (no tables): give the right --db")
        return load_or_create(key_path), False
    if has_key:
        key = load(key_path)
        if key.keyed_chains and not keyed:
            raise StationKeyError(
                f"the chains of {db} are not keyed while its station key says they were: the log was rolled back "
                "or its seals removed by hand; restore it from backup")
        return key, keyed
    # A log from before key files.
    if key_path.exists():
        key = load(key_path)
        if not key.upgrade_pending:
            raise StationKeyError(
                f"{db} looks older than its station key {key_path.name} (no keyed chains, while the key says the log "
                "was upgraded): the log was rolled back or replaced by hand; restore it from backup")
        return (None if read_only else key), False  # read-only: its chains are still plain SHA-256
    if read_only:
        return None, False
    return load_or_create(key_path, pseudonym_key=secret, upgrade_pending=True), False


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
