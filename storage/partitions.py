"""Day partitions of the upstream's screenings (PostgreSQL declarative range partitioning).

One partition per day, ``screenings_pYYYYMMDD``, covering ``[day, day + 1)``; ``screenings_default`` catches a day
nobody created yet (a station whose clock is years off never makes a sync fail). Only the database's owner makes a
day: `gate upstream maintain` creates the coming days ahead and detaches the days past retention, and an owner's
sync creates a missing day it is about to send. A station's role cannot (upstream migration u0017 dropped the
function that made days for it): its rows of a day not made yet wait in the default partition, nothing lost, until
maintain files them, so no station role can hold a day's making open. A day's rows already in the default partition
are moved into the day's new partition in the same transaction, so creating a day late never fails.

A detached partition is an ordinary table again: kept, out of every query, to be archived (pg_dump -t) and dropped by
the database's owner. Nothing here deletes data.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from storage.upstream_locks import MAKE_DAY_WAIT_S, holders, is_lock_timeout  # (the wait, then the default one)

PARENT = "screenings"
DEFAULT = "screenings_default"
_NAME = re.compile(r"^screenings_p(\d{8})$")
# One partition maker at a time: SHARE UPDATE EXCLUSIVE on screenings, a lock a station role cannot take (it needs
# UPDATE, DELETE or TRUNCATE on the table), where an advisory lock's number any role may take and hold.
_ONE_MAKER = text(f"LOCK TABLE {PARENT} IN SHARE UPDATE EXCLUSIVE MODE")


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


def detached(conn: Connection) -> dict[dt.date, str]:
    """The day tables that exist but are not attached (detached by retention, or by a maintain run to repair)."""
    rows = conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE 'screenings!_p%' ESCAPE '!' "
                             "AND relkind = 'r' AND NOT relispartition "
                             "AND relnamespace = 'public'::regnamespace")).scalars()
    return {d: n for n in rows if (d := day_of(n)) is not None}


def create(conn: Connection, day: dt.date, reattach: bool = False) -> bool:
    """Make ``day``'s partition in the caller's transaction (moving its rows out of the default one); False when it
    already existed, or when its table was detached and ``reattach`` is not given (its rows wait in the default
    partition: a day past retention is not brought back by a late row)."""
    conn.execute(_ONE_MAKER)
    if day in attached(conn):
        return False
    name, lo, hi = name_of(day), day.isoformat(), (day + dt.timedelta(days=1)).isoformat()
    if day not in detached(conn):
        # Made alone, then attached: ATTACH takes SHARE UPDATE EXCLUSIVE on screenings (the syncs' inserts and the
        # bureau's reads go on), where CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE, holding up every school.
        conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    elif not reattach:
        return False
    # The default partition may hold rows of this day (attaching would fail its check): they move first; a row a
    # detached day holds already is the same row, sent again.
    conn.execute(text(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE day >= :lo AND day < :hi RETURNING *) "
                      f"INSERT INTO {name} SELECT * FROM moved ON CONFLICT DO NOTHING"), {"lo": lo, "hi": hi})
    conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    _closed(conn, name)
    return True


def _closed(conn: Connection, name: str) -> None:
    """Row-level security on with no policy: the day is read through ``screenings`` (whose policy keeps each station
    role to its school, upstream migration u0010), never directly by anyone but the owner."""
    conn.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))


def ensure(engine: Engine, days: set[dt.date], known: set[dt.date], wait_s: float = MAKE_DAY_WAIT_S
           ) -> list[dt.date]:
    """Create the partitions of ``days`` not in ``known`` (a cache the caller keeps), waiting at most ``wait_s`` for
    a lock. Returns the days left without a partition: a role that may not create tables (a station's), a day
    another session holds the default partition of (a pupil's open transaction: the sync must not wait behind it),
    or a day detached by retention. Their rows wait in the default partition, nothing lost, until `gate upstream
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
                conn.execute(text(f"SET LOCAL lock_timeout = {max(1, int(wait_s * 1000))}"))
                if not create(conn, day) and day not in attached(conn):
                    left.append(day)  # detached by retention: its late rows wait in the default partition
            known.add(day)
        except Exception as exc:  # noqa: BLE001 - a missing privilege or a held lock; anything else surfaces on send
            if not _denied(exc) and not is_lock_timeout(exc):
                raise
            left.append(day)
            known.add(day)  # asked once a round: the answer stands until maintain runs
    return left


def _denied(exc: Exception) -> bool:
    return any(words in str(exc) for words in ("permission denied", "must be owner"))


BACK, AHEAD = 400, 31  # the days maintain files out of the default partition (a forged far-off day makes no table)


@dataclass
class Maintenance:
    created: list[str] = field(default_factory=list)
    reattached: list[str] = field(default_factory=list)  # detached tables of days kept, attached again
    detached: list[str] = field(default_factory=list)
    moved_from_default: int = 0
    partitions: int = 0
    left_in_default: dict = field(default_factory=dict)  # rows, days, first, last: days outside the window
    skipped: list[str] = field(default_factory=list)  # "make screenings_p…" / "detach screenings_p…": a lock held
    held_by: str = ""  # who held it (storage.upstream_locks.holders), for the one line
    held: str = ""  # the table held: the default partition (every later step skipped), or a day's own


def maintain(engine: Engine, today: dt.date, ahead_days: int = 14, keep_days: int | None = None,
             real_today: dt.date | None = None) -> Maintenance:
    """Create ``today`` .. ``today + ahead_days``, and every day still sitting in the default partition from
    ``BACK`` days before the real today to ``AHEAD`` after (rows of a day further off, a station's clock years
    wrong or a forged row, stay where they are, named: one table each would fill the catalogue); attach again the
    detached tables of the days kept; detach the days older than ``keep_days`` (None: keep every day), counted
    from the earlier of ``today`` and the real today, so no day inside retention is ever detached."""
    real = real_today or today
    lo, hi = real - dt.timedelta(days=BACK), real + dt.timedelta(days=AHEAD)
    out = Maintenance()
    with engine.connect() as conn:
        stray = conn.execute(text(f"SELECT day, count(*) FROM {DEFAULT} GROUP BY day ORDER BY 1")).all()
        back = set(detached(conn))
    near = [d for d, _n in stray if lo <= d <= hi]
    far = [(d, n) for d, n in stray if not lo <= d <= hi]
    if far:
        out.left_in_default = {"rows": sum(n for _d, n in far), "days": len(far), "first": far[0][0].isoformat(),
                               "last": far[-1][0].isoformat()}
    kept_from = min(today, real) - dt.timedelta(days=keep_days) if keep_days is not None else today
    wanted = {today + dt.timedelta(days=i) for i in range(ahead_days + 1)} | set(near)
    for day in sorted(wanted):
        again = day in back and kept_from <= day <= max(hi, today + dt.timedelta(days=ahead_days))
        if _step(engine, out, f"make {name_of(day)}", lambda conn: create(conn, day, reattach=again)):
            (out.reattached if again else out.created).append(name_of(day))
    made = set(out.created) | set(out.reattached)
    out.moved_from_default = sum(n for d, n in stray if name_of(d) in made)  # a made day takes all its rows
    if keep_days is not None:
        cutoff = min(today, real) - dt.timedelta(days=keep_days)
        with engine.connect() as conn:
            old = [name for day, name in sorted(attached(conn).items()) if day < cutoff]
        for name in old:
            if _step(engine, out, f"detach {name}", lambda conn: _detach(conn, name)):
                out.detached.append(name)
    with engine.connect() as conn:
        out.partitions = len(attached(conn))
    return out


def _detach(conn: Connection, name: str) -> bool:
    conn.execute(_ONE_MAKER)
    conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
    return True


def _step(engine: Engine, out: Maintenance, what: str, work) -> bool:  # noqa: ANN001 - work(conn) -> bool
    """One day made or detached in its own transaction. A lock another session holds past the wait (a pupil's
    transaction left open) skips that step only, named in ``out.skipped``; the next run does it. When the held table
    is the default partition or ``screenings`` itself, every later step would wait for the same lock (each ATTACH and
    DETACH takes the default partition), so they are skipped at once."""
    if out.held in (PARENT, DEFAULT):
        out.skipped.append(what)
        return False
    try:
        with engine.begin() as conn:
            return bool(work(conn))
    except Exception as exc:  # noqa: BLE001 - only a lock timeout is skipped; anything else surfaces
        if not is_lock_timeout(exc):
            raise
    out.skipped.append(what)
    name = what.split()[-1]
    for table in (DEFAULT, PARENT, name):
        if who := holders(engine, [table]):
            out.held, out.held_by = table, who
            break
    return False
