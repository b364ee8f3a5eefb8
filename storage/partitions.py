"""Day partitions of the upstream's screenings (PostgreSQL declarative range partitioning).

One partition per day, ``screenings_pYYYYMMDD``, covering ``[day, day + 1)``; ``screenings_default`` catches a day
nobody created yet (a station whose clock is years off never makes a sync fail). `gate upstream maintain` creates
the coming days ahead and detaches the days past retention; the sync creates a missing day it is about to send
(or, when its role may not create tables, has the owner's ``gate_make_day`` make it: upstream migration u0011). A
day's rows already in the default partition are moved into the day's new partition in the same transaction, so
creating a day late never fails.

A detached partition is an ordinary table again: kept, out of every query, to be archived (pg_dump -t) and dropped by
the database's owner. Nothing here deletes data.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

PARENT = "screenings"
DEFAULT = "screenings_default"
_NAME = re.compile(r"^screenings_p(\d{8})$")
_LOCK = 73174  # advisory lock: one partition creator at a time (stations and `maintain` may race)


def name_of(day: dt.date) -> str:
    return f"screenings_p{day:%Y%m%d}"


def day_of(name: str) -> dt.date | None:
    m = _NAME.match(name)
    return dt.datetime.strptime(m.group(1), "%Y%m%d").date() if m else None


def attached(conn: Connection) -> dict[dt.date, str]:
    """The day partitions attached now, by day."""
    rows = conn.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                             "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": PARENT}).scalars()
    return {d: n for n in rows if (d := day_of(n)) is not None}


def create(conn: Connection, day: dt.date) -> bool:
    """Make ``day``'s partition in the caller's transaction (moving its rows out of the default one); False when it
    already existed."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    if day in attached(conn):
        return False
    name, lo, hi = name_of(day), day.isoformat(), (day + dt.timedelta(days=1)).isoformat()
    held = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE day >= :lo AND day < :hi)"),
                        {"lo": lo, "hi": hi}).scalar()
    if not held:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
        _closed(conn, name)
        return True
    # The default partition holds rows of this day: attaching would fail its check, so move them first.
    conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(text(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE day >= :lo AND day < :hi RETURNING *) "
                      f"INSERT INTO {name} SELECT * FROM moved"), {"lo": lo, "hi": hi})
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    _closed(conn, name)
    return True


def _closed(conn: Connection, name: str) -> None:
    """Row-level security on with no policy: the day is read through ``screenings`` (whose policy keeps each station
    role to its school, upstream migration u0010), never directly by anyone but the owner."""
    conn.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))


def ensure(engine: Engine, days: set[dt.date], known: set[dt.date]) -> list[dt.date]:
    """Create the partitions of ``days`` not in ``known`` (a cache the caller keeps). A role that may not create
    tables has the owner's ``gate_make_day`` make them (upstream migration u0011, when granted EXECUTE). Returns the
    days left without a partition: their rows wait in the default partition, nothing lost, until `gate upstream
    maintain` moves them."""
    missing = days - known
    if not missing:
        return []
    with engine.connect() as conn:
        known |= set(attached(conn))
    left = []
    for day in sorted(missing - known):
        try:
            with engine.begin() as conn:
                create(conn, day)
            known.add(day)
        except Exception as exc:  # noqa: BLE001 - only a missing privilege is expected; anything else surfaces on send
            if not _denied(exc):
                raise
            if not _by_owner(engine, day):
                left.append(day)
            known.add(day)  # asked once a round: the answer stands until maintain runs
    return left


def _denied(exc: Exception, *more: str) -> bool:
    return any(words in str(exc) for words in ("permission denied", "must be owner", *more))


def _by_owner(engine: Engine, day: dt.date) -> bool:
    """The day made by the owner's function for a role that may not create tables; False when it may not be."""
    try:
        with engine.begin() as conn:
            return bool(conn.execute(text("SELECT gate_make_day(:d)"), {"d": day}).scalar())
    except Exception as exc:  # noqa: BLE001 - an upstream without the function, or a role without EXECUTE
        if not _denied(exc, "does not exist"):  # an upstream before u0011
            raise
        return False


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)
    moved_from_default: int = 0
    partitions: int = 0


def maintain(engine: Engine, today: dt.date, ahead_days: int = 14, keep_days: int | None = None) -> Maintenance:
    """Create ``today`` .. ``today + ahead_days``, and every day still sitting in the default partition; detach the
    days older than ``keep_days`` (None: keep every day)."""
    out = Maintenance()
    with engine.connect() as conn:
        stray = [r[0] for r in conn.execute(text(f"SELECT DISTINCT day FROM {DEFAULT} ORDER BY 1"))]
        out.moved_from_default = conn.execute(text(f"SELECT count(*) FROM {DEFAULT}")).scalar_one()
    wanted = [today + dt.timedelta(days=i) for i in range(ahead_days + 1)] + stray
    for day in sorted(set(wanted)):
        with engine.begin() as conn:
            if create(conn, day):
                out.created.append(name_of(day))
    if keep_days is not None:
        cutoff = today - dt.timedelta(days=keep_days)
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            for day, name in sorted(attached(conn).items()):
                if day < cutoff:
                    conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
                    out.detached.append(name)
    with engine.connect() as conn:
        out.partitions = len(attached(conn))
    return out
