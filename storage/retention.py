"""What a purge may delete from one hash chain, and why the rest is kept.

The rule: a chain is purged from its start only, and only rows past retention that the configured upstream confirmed:
sent under the checkpoint recorded with the upstream's identity (storage.upstream.identity), never quarantined, and
found upstream with the same hash. A trial run against another URL, or a new database at the same URL, has another
identity and confirms nothing. With no upstream configured, age alone decides (a station that keeps its own data),
but a record some upstream refused is still never purged.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Date, String, and_, any_, bindparam, func, not_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from storage import upstream as up
from storage.log import ScreeningLog
from storage.tables.log import OUTBOX
from storage.tables.sync import QUARANTINE, SYNC_STATE as STATE
from storage.sync import SyncError, _one_line

UPSTREAM_CHAINS = {"screening": up.screenings, "audit": up.audit_events}
CHUNK = 5000


class UpstreamCheck:
    """The configured upstream, asked what it holds; built on a storage.sync.Sync (raises its SyncError)."""

    def __init__(self, sync):
        self.sync = sync
        self.shown_url = sync.shown_url

    def checkpoint(self, conn) -> int:
        """The last outbox entry this upstream database (by identity, under any spelling of its URL) confirmed."""
        self.sync.engine()  # reads the identity; a replaced database has none of our checkpoints
        return conn.execute(select(func.max(STATE.c.last_seq))
                            .where(STATE.c.identity == self.sync.identity)).scalar() or 0

    def held(self, kind: str, rows) -> int:
        """How many of ``rows`` (in chain order), from the first, the upstream holds with the same hash."""
        table = UPSTREAM_CHAINS[kind]
        engine = self.sync.engine()
        ids = [r.id for r in rows]
        # The school (and for screenings the day) narrow the look-up to the key's index and the days' partitions:
        # an id alone is not a key upstream, where every key starts with the school.
        schools = sorted({self.sync.school_id or r.station_id for r in rows})
        days = sorted({r.day for r in rows}) if kind == "screening" else []
        if engine.dialect.name == "postgresql":  # one array parameter each, not thousands of binds
            wanted = and_(table.c.school_id == any_(bindparam("schools", value=schools, type_=ARRAY(String))),
                          table.c.id == any_(bindparam("ids", value=ids, type_=ARRAY(String))))
            if days:
                wanted = and_(wanted, table.c.day == any_(bindparam(
                    "days", value=[dt.date.fromisoformat(d) for d in days], type_=ARRAY(Date))))
        else:
            wanted = and_(table.c.school_id.in_(schools), table.c.id.in_(ids))
        try:
            with engine.connect() as conn:
                found = dict(conn.execute(select(table.c.id, table.c.row_hash).where(wanted)).all())
        except DBAPIError as exc:
            raise SyncError(f"upstream {self.shown_url} unreachable: {_one_line(exc)}") from None
        for i, r in enumerate(rows):
            if found.get(r.id) != r.row_hash:
                return i
        return len(rows)


@dataclass
class Plan:
    """The prefix to delete (rows up to ``last_seq``) and the rows past retention kept, by reason."""

    old: int = 0
    rows: int = 0
    last_seq: int | None = None
    last_hash: str | None = None
    kept: dict[str, int] = field(default_factory=dict)  # not-confirmed, quarantined, not-upstream, behind


def plan(log: ScreeningLog, *, table, kind: str, time_column, cutoff: float, upstream: UpstreamCheck | None) -> Plan:
    """Decide what to purge without holding the write lock (the upstream is asked over the network)."""
    old_q = time_column < cutoff
    refused = select(QUARANTINE.c.record_id).where(QUARANTINE.c.kind == kind)
    with log.read("what to purge") as conn:
        ok = and_(old_q, table.c.id.not_in(refused))
        checkpoint = None
        if upstream is not None:
            checkpoint = upstream.checkpoint(conn)
            sent = select(OUTBOX.c.record_id).where(OUTBOX.c.kind == kind, OUTBOX.c.seq <= checkpoint)
            ok = and_(ok, table.c.id.in_(sent))

        def count(*where) -> int:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

        result = Plan(old=count(old_q))
        quarantined = count(old_q, table.c.id.in_(refused))
        not_sent = count(old_q, table.c.id.not_in(refused), not_(ok)) if upstream is not None else 0
        blocker = conn.execute(select(func.min(table.c.seq)).where(not_(ok))).scalar()
    missing, after = 0, 0
    while True:
        with log.read("what to purge") as conn:
            where = [table.c.seq > after] + ([table.c.seq < blocker] if blocker is not None else [])
            extra = [table.c.day] if kind == "screening" else []
            chunk = conn.execute(select(table.c.seq, table.c.id, table.c.row_hash, table.c.station_id, *extra)
                                 .where(*where)
                                 .order_by(table.c.seq).limit(CHUNK)).all()
        if not chunk:
            break
        held = upstream.held(kind, chunk) if upstream is not None else len(chunk)
        if held:
            result.rows += held
            result.last_seq, result.last_hash = chunk[held - 1].seq, chunk[held - 1].row_hash
        if held < len(chunk):
            missing = 1  # the first row the upstream does not hold as we do; the rest wait behind it
            break
        after = chunk[-1].seq
    behind = result.old - result.rows - quarantined - not_sent - missing
    result.kept = {k: v for k, v in (("not-confirmed", not_sent), ("quarantined", quarantined),
                                     ("not-upstream", missing), ("behind", behind)) if v > 0}
    return result


def describe(plan_: Plan, what: str, upstream_url: str | None) -> list[str]:
    """One line per reason for keeping rows past retention, each saying what to do."""
    where = f"upstream {upstream_url}" if upstream_url else "an upstream"
    texts = {
        "not-confirmed": f"not yet confirmed by {where}: run gate sync first",
        "quarantined": "the upstream refused (quarantined): see gate sync status; they are never purged",
        "not-upstream": f"sent but not found on {where} with the same content: run gate sync verify",
        "behind": "behind those in the chain (a chain is purged from its start only)",
        "fever-not-cleared": "from a confirmed fever not yet cleared on: the person stays refused until a clearance "
                             "is recorded (gate clearance list, gate clearance add)",
    }
    one = what[:-1] if what.endswith("s") else what  # "1 screening", "2 screenings"
    return [f"kept {n:,} {what if n != 1 else one} {texts[reason]}" for reason, n in plan_.kept.items()]
