"""How long the upstream's users wait for a table another session holds, and who holds it.

One station role's transaction left open (a read, an insert) holds a lock on ``screenings`` for as
long as the pupil likes; a sync, an export or `gate upstream maintain` waiting behind it would wait with no end, and
the syncs would queue behind maintain's own request. Every upstream connection of theirs carries PostgreSQL's
``lock_timeout``: after it, the statement fails (SQLSTATE 55P03), the transaction is rolled back (nothing confirmed,
so nothing lost) and the command says in one line who holds the table and what to do.
"""
from __future__ import annotations

import time

from sqlalchemy import Engine, text

# The defaults; each is a setting: [upstream] lock_wait_s / make_day_wait_s in a station's config, --lock-wait on
# the bureau's and maintain's commands (they have no config).
SYNC_WAIT_S = 10.0  # a sync round, the bureau's reads and export: the next round tries again
MAINTAIN_WAIT_S = 5.0  # maintain's requests for ACCESS EXCLUSIVE: every sync queues behind one while it waits
MAKE_DAY_WAIT_S = 2.0  # an owner's sync making a day: then its rows go to the default partition, for maintain
WAIT_RANGE_S = (0.5, 600.0)  # below, a busy moment fails a sync for nothing; above, one session stalls the rest

# Who holds a table (or an advisory lock) the caller waits for: the role, its state and since when its transaction
# is open (the owner decides from these whether to end it); ``seen``: whether this role may see that state at all. ``:like``: the tables' names; ``:key``: an advisory lock.
_HELD = text("""
SELECT DISTINCT a.pid, coalesce(a.usename, '?') AS who, a.state,
       extract(epoch FROM a.xact_start) AS since, extract(epoch FROM clock_timestamp() - a.xact_start) AS open_s,
       coalesce(pg_has_role(a.usesysid, 'USAGE') OR pg_has_role('pg_read_all_stats', 'USAGE'), false) AS seen,
       quote_ident(current_user) AS me, (SELECT pg_has_role(datdba, 'USAGE') FROM pg_database
                            WHERE datname = current_database()) AS owner
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN pg_class c ON c.oid = l.relation
WHERE l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database
                                                                WHERE datname = current_database())
  AND (c.relname LIKE ANY (:like) OR (l.locktype = 'advisory' AND l.objid = :key))
ORDER BY a.pid LIMIT 3
""")


def option(wait_s: float | None) -> dict:
    """The connect arguments that bound every lock wait of a PostgreSQL connection to ``wait_s`` seconds."""
    return {} if wait_s is None else {"options": f"-c lock_timeout={max(1, int(wait_s * 1000))}"}


def is_lock_timeout(exc: BaseException) -> bool:
    """The statement gave up waiting for a lock (PostgreSQL lock_not_available, 55P03)."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "55P03" or "lock timeout" in str(orig)


def holders(engine: Engine, like: tuple | list = ("screenings%",), key: int = -1) -> str:
    """Who holds the tables named ``like`` (LIKE patterns) or the advisory lock ``key`` now, as the role's eyes
    may see it: "pid 123, role gate_north, idle in transaction since 2026-11-30 07:58:02 (open 300 s)"; "" when
    nobody is visible (the holder let go meanwhile)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(_HELD, {"like": list(like), "key": key}).all()
    except Exception:  # noqa: BLE001 - naming the holder is a courtesy; the refusal stands without it
        return ""
    once = {r.pid: r for r in reversed(rows)}  # a session holding two of the tables is one holder
    return "; ".join(_one(once[pid]) for pid in sorted(once))


def _one(r) -> str:  # noqa: ANN001 - a row of _HELD
    if not r.seen:  # PostgreSQL shows another role's session state only to a role with pg_read_all_stats
        # the hint for the database's owner, as the README sets it up; never "grant more" to a station's role
        return f"pid {r.pid}, role {r.who}" + (
            f" (state not visible to this role: GRANT pg_read_all_stats TO {r.me})" if r.owner else "")
    said = f"pid {r.pid}, role {r.who}" + (f", {r.state}" if r.state else "")
    if r.since is not None:  # a transaction open (none: a session's advisory lock outside one)
        said += f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(float(r.since)))} " \
                f"(open {float(r.open_s):.0f} s)"
    return said


# The tables another session holds so that a read waits: a SELECT's ACCESS SHARE conflicts with ACCESS EXCLUSIVE only
# (LOCK TABLE, ALTER, DROP, TRUNCATE, maintain's detaching). A partition is locked with its parent: the parent is named.
_TAKEN = text("""
SELECT DISTINCT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid() AND NOT c.relispartition
  AND c.relkind IN ('r', 'p') AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY 1 LIMIT 5
""")


def held_for_reads(engine: Engine) -> dict:
    """``busy``'s ``like`` and ``table`` for a read that waited: the tables held now, named; "a table it reads" when
    the holder let go meanwhile."""
    try:
        with engine.connect() as conn:
            names = list(conn.execute(_TAKEN).scalars())
    except Exception:  # noqa: BLE001 - naming the table is a courtesy; the refusal stands without it
        names = []
    if not names:
        return {"like": [], "table": "a table it reads"}
    shown = f"the upstream's {names[0]} table" if len(names) == 1 else \
        "the upstream's tables " + ", ".join(f"'{n}'" for n in names)
    return {"like": names, "table": shown}


def first_pid(who: str) -> str:
    """The first holder's pid of a ``holders`` answer ("" for none)."""
    return who.split(",")[0][4:] if who.startswith("pid ") else ""


def busy(engine: Engine, what: str, wait_s: float, then: str, like: tuple | list = ("screenings%",), key: int = -1,
         table: str = "the upstream's screenings table") -> str:
    """The one line: ``what`` waited ``wait_s`` s for ``table``, who holds it, and ``then`` (what to do)."""
    who = holders(engine, like, key)
    are = "are" if table.startswith("the upstream's tables ") else "is"
    held = f"held by another session ({who})" if who else "held by another session"
    ends = f"; or the database's owner ends it: SELECT pg_terminate_backend({first_pid(who)})" if who else ""
    return f"{what}: {table} {are} {held}, waited {wait_s:g} s: {then}{ends}"
