"""One hash chain for every chained table (screenings, audit events): append, head, verify, purge.

Each row stores ``digest(previous row's hash + "\\n" + its canonical content)``. The digest is a parameter: an
HMAC-SHA256 under the station key's chain key for a log (storage.keys), plain SHA-256 only for a log from before key
files read without its key. After a purge the table's anchor keeps the last purged row's hash, and the chain goes on
from it. With a ``seal`` (storage.seals.ChainSeal) the chain's row count and head are MAC'd too, so rows deleted from
its end are reported by ``verify``.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence

from sqlalchemy import Connection, Table, func, select

from storage.tables.log import CHAIN_ANCHORS as ANCHORS

if TYPE_CHECKING:
    from storage.seals import ChainSeal
    from storage.verify_result import VerifyResult

GENESIS = "0" * 64

Digest = Callable[[bytes], str]
"""Message bytes -> hex digest (64 characters, as the hash columns hold)."""


def sha256(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


def canonical(content: dict) -> str:
    """One byte-exact text per content: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def link(prev_hash: str, content: dict, digest: Digest = sha256) -> str:
    return digest((prev_hash + "\n" + canonical(content)).encode("utf-8"))


class Chain:
    """The hash chain over one table with ``seq``, ``id``, ``prev_hash`` and ``row_hash`` columns.

    ``content(row)`` gives what is hashed for a stored row; ``check(row, content)`` may name a further problem
    (columns derived from the hashed content that disagree with it). Every method runs on the caller's connection,
    inside the caller's transaction: an append commits with whatever else the unit of work writes.
    """

    def __init__(self, name: str, table: Table, content: Callable[[Mapping], dict], *, digest: Digest = sha256,
                 check: Callable[[Mapping, dict], str | None] | None = None, what: str = "row",
                 seal: "ChainSeal | None" = None):
        self.name = name
        self.seal = seal
        self.table = table
        self.content = content
        self.digest = digest
        self.check = check
        self.what = what
        # The newest row's hash; with no rows left after a purge, the anchor that keeps the last purged one.
        self.head_sql = (f"SELECT coalesce((SELECT row_hash FROM {table.name} ORDER BY seq DESC LIMIT 1), "
                          f"(SELECT last_purged_hash FROM {ANCHORS.name} WHERE chain = ?))")
        self._insert_sql: dict[tuple[str, ...], str] = {}
        self._last_seq_sql = f"SELECT max(seq) FROM {table.name}"
        self._count = select(func.count()).select_from(table)
        self._batch = select(table).order_by(table.c.seq)

    def link(self, prev_hash: str, content: dict) -> str:
        return link(prev_hash, content, self.digest)

    # -- writing -------------------------------------------------------------------------------------------------
    def head_hash(self, conn: Connection) -> str:
        return conn.exec_driver_sql(self.head_sql, (self.name,)).scalar() or GENESIS

    def append(self, conn: Connection, values: dict, content: dict) -> str:
        """Insert one row (``values`` as stored, ``content`` as hashed) linked to the head; returns its hash.

        The caller's transaction must hold the write lock (a unit of work does), so the head cannot move between
        reading it and inserting after it.
        """
        prev = self.head_hash(conn)
        row_hash = self.link(prev, content)
        params = {**values, "prev_hash": prev, "row_hash": row_hash}
        if "seq" not in params and conn.exec_driver_sql(self._last_seq_sql).scalar() is None:
            # Every row purged: SQLite would number the next one 1 again. A seq names one row for good (the
            # upstream refuses a seq it already holds), so the chain goes on from its anchor's.
            after = conn.execute(select(ANCHORS.c.last_purged_seq).where(ANCHORS.c.chain == self.name)).scalar()
            if after:
                params["seq"] = after + 1
        key = tuple(params)
        sql = self._insert_sql.get(key)
        if sql is None:
            # Plain SQL made once from the column names: Core's per-statement work would cost more than the fsync.
            sql = self._insert_sql[key] = "INSERT INTO {} ({}) VALUES ({})".format(
                self.table.name, ", ".join(f'"{c}"' for c in key), ", ".join(f":{c}" for c in key))
        conn.exec_driver_sql(sql, params)
        if self.seal is not None:
            self.seal.appended(conn, self.name, prev, row_hash)
        return row_hash

    def purge_through(self, conn: Connection, seq: int, row_hash: str, now: float | None = None) -> int:
        """Delete every row up to ``seq`` (whose hash is ``row_hash``) and anchor the rest on it; rows deleted."""
        head = self.head_hash(conn)
        n = conn.execute(self.table.delete().where(self.table.c.seq <= seq)).rowcount
        conn.execute(ANCHORS.delete().where(ANCHORS.c.chain == self.name))
        conn.execute(ANCHORS.insert().values(chain=self.name, last_purged_seq=seq, last_purged_hash=row_hash,
                                             at=time.time() if now is None else now))
        if self.seal is not None:
            self.seal.purged(conn, self.name, n, head if head != GENESIS else row_hash)
        return n

    # -- reading -------------------------------------------------------------------------------------------------
    def anchor(self, conn: Connection) -> str:
        return conn.execute(select(ANCHORS.c.last_purged_hash).where(ANCHORS.c.chain == self.name)).scalar() \
            or GENESIS

    def head(self, conn: Connection) -> tuple[str, int]:
        """The chain's head (the anchor when every row was purged) and its number of rows; no verification."""
        return self.head_hash(conn), conn.execute(self._count).scalar_one()

    def verify(self, conn: Connection, *, batch: int = 5000,
               progress: Callable[[int], None] | None = None) -> VerifyResult:
        """Recompute the chain from the anchor (or the start); the first row that does not match is named.

        Reads in batches inside the caller's one read transaction, so it checks one snapshot however long it takes;
        ``progress(rows checked)`` is called before each batch, inside that transaction.
        """
        # loaded when needed: gate screen's start-up (bench/cli_startup.py)
        from storage.verify_result import VerifyResult

        prev, n = self.anchor(conn), 0
        for row, problem in self._walk(conn, batch, progress):
            n += 1
            if problem:
                return VerifyResult(False, n, prev, row["seq"], row["id"], problem)
            prev = row["row_hash"]
        if self.seal is not None:
            problem = self.seal.problem(conn, self.name, n, prev)
            if problem:
                return VerifyResult(False, n, prev, None, None, problem)
        return VerifyResult(True, n, prev)

    def spot_check(self, conn: Connection, rows: Sequence[Mapping]) -> tuple[Mapping | None, str] | None:
        """Whether ``rows`` (a few of this chain's rows: one person's) can be trusted without walking the whole chain:
        None when they can, else (the row, or None for the chain as a whole; what is wrong).

        Cheap (a few indexed reads and one count): the chain's end is the one its seal records (no row removed from
        the newest end), the sequence numbers have no gap and the oldest row sits on the anchor; each row's own hash recomputes from its content and
        its stored link (with this chain's digest: keyed, nobody without the key can make a changed row match), its
        derived columns agree, and the rows on either side link to it (a row changed and re-hashed breaks the link of
        the next one). What is not read here is only checked by a full ``verify``.
        """
        seq = self.table.c.seq
        first = conn.execute(select(func.min(seq))).scalar()
        count = conn.execute(self._count).scalar_one()
        if self.seal is not None:  # rows removed from the end: the keyed seal records the chain's rows and head
            problem = self.seal.problem(conn, self.name, count, self.head_hash(conn))
            if problem:
                return None, f"the end of the {self.name} chain: {problem}"
        if first is not None:
            last = conn.execute(select(func.max(seq))).scalar()
            if last - first + 1 != count:
                return None, (f"{last - first + 1 - count} {self.what}(s) between numbers {first} and {last} were "
                              "removed")
            if conn.execute(select(self.table.c.prev_hash).where(seq == first)).scalar() != self.anchor(conn):
                return None, f"the oldest {self.what} does not follow the last one purged (older ones were removed)"
        wanted = sorted({n for r in rows for n in (r["seq"] - 1, r["seq"] + 1)})
        around: dict[int, tuple[str, str]] = {}
        for i in range(0, len(wanted), 500):
            around.update((n, (p, h)) for n, p, h in conn.execute(
                select(seq, self.table.c.prev_hash, self.table.c.row_hash).where(seq.in_(wanted[i:i + 500]))))
        for row in rows:
            problem = self._problem(row, row["prev_hash"])
            if problem:
                return row, problem
            before, after = around.get(row["seq"] - 1), around.get(row["seq"] + 1)
            if before is not None and before[1] != row["prev_hash"]:
                return row, f"its link to the previous {self.what} is broken (a {self.what} was changed or removed)"
            if after is not None and after[0] != row["row_hash"]:
                return row, f"the next {self.what} does not link to it (it was changed)"
        return None

    def holds(self, row: Mapping) -> bool:
        """Whether this one row's hash recomputes from its content and stored link (a row edited by hand does not):
        lists built on the log (who was seen) leave such a row out rather than believe it."""
        return self._problem(row, row["prev_hash"]) is None

    def intact(self, conn: Connection) -> Iterator[Mapping]:
        """The rows, oldest first, up to the first one whose link does not hold: a row slipped into the file by
        hand, or anything after a changed one, is never trusted."""
        for row, problem in self._walk(conn, 5000, None):
            if problem:
                return
            yield row

    def _walk(self, conn: Connection, batch: int,
              progress: Callable[[int], None] | None) -> Iterator[tuple[Mapping, str | None]]:
        prev, n, last = self.anchor(conn), 0, 0
        while True:
            if progress:
                progress(n)
            rows = conn.execute(self._batch.where(self.table.c.seq > last).limit(batch)).mappings().all()
            if not rows:
                return
            for row in rows:
                n += 1
                problem = self._problem(row, prev)
                yield row, problem
                if problem:
                    return
                prev = row["row_hash"]
            last = rows[-1]["seq"]

    def _problem(self, row: Mapping, prev: str) -> str | None:
        if row["prev_hash"] != prev:
            article = "an" if self.what[:1] in "aeiou" else "a"
            return f"its link to the previous {self.what} is broken ({article} {self.what} was removed or reordered)"
        try:
            content = self.content(row)
            expected = self.link(prev, content)
            extra = self.check(row, content) if self.check else None
        except (ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError) as exc:
            return f"its content is unreadable: {exc}"  # RecursionError: JSON nested past Python's stack
        if expected != row["row_hash"]:
            return f"its content does not match its hash (the {self.what} was changed)"
        return extra
