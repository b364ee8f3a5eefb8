"""Seals: MACs under the station key over what the chains do not cover, and over the chains' ends.

- **Sealed tables** (users, roster, calibrations, the stored policy, approved visitors, daily reports, closed-out
  sessions): every row carries ``mac``, an HMAC of its
  columns (NULLs left out, so a column added later does not break old rows) under the seal key; the table's seal row
  holds its number of rows and a digest of all row MACs. A role changed in the file, a lockout cleared, a row slipped
  in or deleted: the row MAC or the table seal no longer match. Writes go through ``sealed_write``: the table is
  checked first (a tampered table is never re-sealed, so nothing is laundered), rows written get ``mac`` NULL and are
  MAC'd at the end, in the same transaction.
- **Chain seals** (screenings, audit, clearances): the number of rows and the head, MAC'd. Rows deleted from a
  chain's end leave a chain that links, but not the sealed head and count. A seal that no longer matches is never
  moved on by an append, so the mismatch stays for `gate verify` to report.

A seal row can be rolled back to an older one (with the rows it matched) by someone who kept a copy of the file: only
the heads sent upstream and in each daily report catch that (see README "Data protection").
"""
from __future__ import annotations

import hashlib
import importlib
import json
from contextlib import contextmanager
from typing import Iterator, Mapping

from sqlalchemy import Connection, Table, func, select

from storage.errors import StorageError
from storage.keys import StationKey
from storage.tables.log import SEALS

# The sealed tables, by name, and the group of storage.tables each lives in: a group is imported when one of its
# tables is first checked or written, so `gate screen` builds neither the roster's nor the reports' tables.
SEALED = {"users": "station", "entrants": "roster", "calibrations": "records", "station_policy": "station",
          "visitors": "roster", "daily_reports": "records", "session_closures": "cases"}
WHAT = {"users": "the users", "entrants": "the roster", "calibrations": "the calibration records",
        "station_policy": "the stored screening policy", "visitors": "the approved visitors",
        "daily_reports": "the daily reports", "session_closures": "the closed-out sessions"}
EMPTY = hashlib.sha256(b"").hexdigest()


def sealed_table(name: str) -> Table:
    """The sealed table ``name`` (a key of SEALED), its group of storage.tables imported on first use."""
    return getattr(importlib.import_module(f"storage.tables.{SEALED[name]}"), name.upper())


class SealBroken(StorageError):
    """A sealed table or chain end was changed outside the station; the message names it and what to do."""


def _canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_content(row: Mapping) -> dict:
    return {k: (int(v) if isinstance(v, bool) else v) for k, v in row.items() if k != "mac" and v is not None}


def row_mac(key: StationKey, table: str, row: Mapping) -> str:
    return key.seal(b"row\n" + table.encode() + b"\n" + _canonical(row_content(row)))


def seal_mac(key: StationKey, name: str, rows: int, digest: str) -> str:
    return key.seal(f"seal\n{name}\n{rows}\n{digest}".encode())


def _macs_digest(macs: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(macs)).encode()).hexdigest()


def _put(conn: Connection, key: StationKey, name: str, rows: int, digest: str, mac: str | None = None) -> None:
    mac = mac or seal_mac(key, name, rows, digest)
    if conn.execute(SEALS.update().where(SEALS.c.name == name).values(rows=rows, digest=digest, mac=mac)).rowcount:
        return
    conn.execute(SEALS.insert().values(name=name, rows=rows, digest=digest, mac=mac))


def _get(conn: Connection, name: str) -> Mapping | None:
    return conn.execute(select(SEALS).where(SEALS.c.name == name)).mappings().first()


# -- sealed tables ------------------------------------------------------------------------------------------------
# Tables whose rows keep their MAC in the seals table (``row:<table>:<key>``), not in a column of their own: a column
# added to them would break the positional INSERTs older tools and scripts use on them.
SIDE = {"visitors", "session_closures"}


def _side_name(name: str, row: Mapping) -> str:
    pk = [c.name for c in sealed_table(name).primary_key.columns]
    return f"row:{name}:" + json.dumps([row[c] for c in pk], ensure_ascii=False)


def _side_macs(conn: Connection, name: str) -> dict[str, str]:
    return dict(conn.execute(select(SEALS.c.name, SEALS.c.mac).where(SEALS.c.name.like(f"row:{name}:%"))).all())


def _mac_of(name: str, row: Mapping, side: dict[str, str] | None) -> str | None:
    return side.get(_side_name(name, row)) if name in SIDE and side is not None else row.get("mac")


def row_ok(key: StationKey, table: str, row: Mapping, side: dict[str, str] | None = None) -> bool:
    mac = _mac_of(table, row, side)
    return mac is not None and mac == row_mac(key, table, row)


def row_trusted(conn: Connection, key: StationKey | None, table: str, row: Mapping) -> bool:
    """The row was written by the station (its MAC under the station key matches)."""
    if key is None:
        return False
    side = _side_macs(conn, table) if table in SIDE else None
    return row_ok(key, table, row, side)


def trusted_rows(conn: Connection, key: StationKey | None, table: str) -> list[Mapping]:
    if key is None:
        return []
    side = _side_macs(conn, table) if table in SIDE else None
    return [r for r in conn.execute(select(sealed_table(table))).mappings() if row_ok(key, table, r, side)]


def _macs(conn: Connection, name: str) -> list[str]:
    if name in SIDE:
        return list(_side_macs(conn, name).values())
    return list(conn.execute(select(sealed_table(name).c.mac)).scalars())


def sealed_rows(conn: Connection, name: str) -> int | None:
    """How many rows the seal of the sealed table ``name`` records (None: no seal)."""
    seal = _get(conn, f"table:{name}")
    return None if seal is None else seal["rows"]


def table_problems(conn: Connection, key: StationKey, name: str, limit: int = 5) -> list[str]:
    """What in a sealed table does not match its MACs (empty: intact)."""
    table = sealed_table(name)
    pk = [c.name for c in table.primary_key.columns]
    side = _side_macs(conn, name) if name in SIDE else None
    problems, macs = [], []
    for row in conn.execute(select(table)).mappings():
        macs.append(_mac_of(name, row, side) or "")
        if not row_ok(key, name, row, side) and len(problems) < limit:
            which = row[pk[0]] if len(pk) == 1 else " ".join(str(row[c]) for c in pk)
            problems.append(f"{WHAT[name]}: row {which!r} was changed or added outside the station")
    seal = _get(conn, f"table:{name}")
    if seal is None:
        if macs:
            problems.append(f"{WHAT[name]}: its seal was removed")
        return problems
    if seal["mac"] != seal_mac(key, seal["name"], seal["rows"], seal["digest"]):
        problems.append(f"{WHAT[name]}: its seal was edited")
    elif seal["rows"] != len(macs):
        problems.append(f"{WHAT[name]}: {len(macs)} rows where the seal records {seal['rows']} "
                        f"(rows {'removed' if len(macs) < seal['rows'] else 'added'} outside the station)")
    elif seal["digest"] != _macs_digest(macs):
        problems.append(f"{WHAT[name]}: rows were replaced or removed outside the station")
    return problems


def add_side_row(conn: Connection, key: StationKey, name: str, row: Mapping) -> None:
    """MAC one row just written to a SIDE table and re-seal the table, leaving every other row as it is (a row
    slipped into the file stays without a MAC, for `gate verify` to name)."""
    _put(conn, key, _side_name(name, row), 0, "", mac=row_mac(key, name, row))
    macs = list(_side_macs(conn, name).values())
    _put(conn, key, f"table:{name}", len(macs), _macs_digest(macs))


def reseal_table(conn: Connection, key: StationKey, name: str, *, trust_all: bool = False) -> None:
    """MAC the rows written in this transaction (``mac`` NULL) and re-seal the table. ``trust_all`` MACs every row
    as it stands: only for the upgrade that first seals an old log."""
    table = sealed_table(name)
    pk = list(table.primary_key.columns)
    if name in SIDE:
        side = _side_macs(conn, name)
        keep = set()
        for row in conn.execute(select(table)).mappings().all():
            keep.add(_side_name(name, row))
            # sealed_write checked every row before the caller wrote, in this same write transaction: a row whose MAC
            # does not match now was written by the caller (a visitor approved again replaces its row in place)
            if trust_all or not row_ok(key, name, row, side):
                _put(conn, key, _side_name(name, row), 0, "", mac=row_mac(key, name, row))
        for gone in set(side) - keep:
            conn.execute(SEALS.delete().where(SEALS.c.name == gone))
    else:
        where = [] if trust_all else [table.c.mac.is_(None)]
        for row in conn.execute(select(table).where(*where)).mappings().all():
            conn.execute(table.update().where(*(c == row[c.name] for c in pk)).values(mac=row_mac(key, name, row)))
    macs = _macs(conn, name)
    _put(conn, key, f"table:{name}", len(macs), _macs_digest(macs))


@contextmanager
def sealed_write(conn: Connection, key: StationKey | None, name: str, *, replaces_all: bool = False
                 ) -> Iterator[None]:
    """Check the table, let the caller write (rows written with ``mac`` NULL), then MAC them and re-seal.

    A table changed outside the station refuses the write (SealBroken): re-sealing it would hide the change. Only a
    write that ``replaces_all`` of the table (the one-row policy an admin applies) may repair it: it MACs every row
    it leaves, and its audit event says who made it so.
    """
    if key is None:
        raise SealBroken(f"{WHAT[name]} cannot be changed in a log opened without its station key")
    problems = [] if replaces_all else table_problems(conn, key, name, limit=1)
    if problems:
        raise SealBroken(f"{problems[0]}: refused; `gate verify` lists what changed; restore the log from backup")
    yield
    reseal_table(conn, key, name, trust_all=replaces_all)


# -- chain seals --------------------------------------------------------------------------------------------------
_GET_SQL = "SELECT rows, digest, mac FROM seals WHERE name = ?"
_SET_SQL = "UPDATE seals SET rows = ?, digest = ?, mac = ? WHERE name = ?"


class ChainSeal:
    """The seal of one chain's end (its rows and head), moved on by appends and purges (storage.chain.Chain)."""

    def __init__(self, key: StationKey):
        self.key = key

    def appended(self, conn: Connection, chain: str, prev: str, head: str) -> None:
        # Plain SQL, as Chain.append does: on every screening, Core's per-statement work would cost more than this.
        name = f"chain:{chain}"
        found = conn.exec_driver_sql(_GET_SQL, (name,)).first()
        if found is None or not self._matches({"name": name, "rows": found[0], "digest": found[1],
                                               "mac": found[2]}, prev):
            return  # stale or tampered: left as it is, so `gate verify` still sees the mismatch
        rows = found[0] + 1
        conn.exec_driver_sql(_SET_SQL, (rows, head, seal_mac(self.key, name, rows, head), name))

    def purged(self, conn: Connection, chain: str, deleted: int, head: str) -> None:
        seal = _get(conn, f"chain:{chain}")
        if seal is None or not self._matches(seal, head):
            return
        _put(conn, self.key, seal["name"], seal["rows"] - deleted, head)

    def _matches(self, seal: Mapping, head: str) -> bool:
        return seal["digest"] == head and seal["mac"] == seal_mac(self.key, seal["name"], seal["rows"],
                                                                  seal["digest"])

    def reset(self, conn: Connection, chain: str, table: Table, head: str) -> None:
        """Seal the chain as it stands (a new log, the upgrade, a fixture that wrote rows by hand)."""
        rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
        _put(conn, self.key, f"chain:{chain}", rows, head)

    def problem(self, conn: Connection, chain: str, rows: int, head: str) -> str | None:
        """None when a chain that verified (``rows``, ending in ``head``) is the one its seal records."""
        seal = _get(conn, f"chain:{chain}")
        if seal is None:
            return "its seal was removed from the log"
        if seal["mac"] != seal_mac(self.key, seal["name"], seal["rows"], seal["digest"]):
            return "its seal was edited outside the station"
        if seal["digest"] == head and seal["rows"] == rows:
            return None
        if rows < seal["rows"]:
            return (f"rows were removed: the seal records {seal['rows']} rows ending in {seal['digest'][:16]}…, "
                    f"the log has {rows} ending in {head[:16]}…")
        return (f"it does not end where its seal says ({seal['rows']} rows ending in {seal['digest'][:16]}…; the "
                f"log has {rows} ending in {head[:16]}…): rows were removed from its end or replaced")


def chain_heads(conn: Connection) -> dict[str, dict]:
    """Each chain's sealed row count and head, for the daily report that goes upstream: a later report whose head
    is not a continuation of an earlier one shows rows cut from the log (which the file alone cannot show)."""
    rows = conn.execute(select(SEALS).where(SEALS.c.name.like("chain:%"))).mappings().all()
    return {r["name"].split(":", 1)[1]: {"rows": r["rows"], "head": r["digest"]} for r in rows}
