"""A sync batch into PostgreSQL at the speed of the database: ``COPY`` into a staging table, one ``INSERT ... SELECT
... ON CONFLICT DO NOTHING`` into the real one, in the caller's transaction.

- First, the common case: a batch of records all new (each screening's seq above its station's highest received)
  is COPYed straight into the table under a savepoint; if it meets any unique key (it was sent before), it rolls
  back to the savepoint and takes the staging path below. Idempotence holds either way. A role under row-level
  security (no COPY into the table) sends such a batch through the staging table and one plain ``INSERT ... SELECT``
  under the same savepoint: a unique key met rolls back to it as well.

- The staging table is a temporary copy of the target's columns, emptied at each commit (``ON COMMIT DELETE ROWS``),
  one per connection: stations syncing at once never see each other's rows.
- The conflict target is the record's key (school, [day,] id): re-sending a record is harmless, while any other
  unique key it breaks (``(station_id, seq)`` within a day) fails the batch, and the caller retries row by row to
  quarantine just the refused record.
- A screening the upstream does not hold yet, whose ``(station, seq)`` another record already has upstream on any
  day, is a second chain under one id (a rebuilt log): taken out of the batch and returned, to be quarantined (see
  storage.stations). Only seqs not above the station's highest one received are looked up across days, so a
  normal batch (all new, all above) costs no lookup; a lost row sent again is accepted.
- The registry's ``last_seq`` and ``last_sync_at`` move in the same transaction.
"""
from __future__ import annotations

from operator import itemgetter

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from storage.upstream_schema import TABLES, key_columns

_REUSED_SEQ = ("refused: seq {seq} of station {station} was already received upstream for another record (a second "
               "chain under this station id: a rebuilt log, or a copy of the station key)")


def _stage(kind: str) -> str:
    return f"gate_stage_{TABLES[kind].name}"


def insert(conn: Connection, kind: str, items: list, now: float) -> list[tuple[object, str]]:
    """Send ``items`` (each ``(outbox key, row tuple in the table's column order)``); returns the items refused by
    the seq rule with their reason. Database refusals raise (DBAPIError) and roll the whole transaction back."""
    try:
        return _insert(conn, kind, items, now)
    except psycopg.Error as exc:  # the raw driver's error, in SQLAlchemy's family like every other upstream error
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from None


def _seq_span(items: list, school_at: int, station_at: int, seq_at: int | None) -> dict[tuple, tuple[int, int]]:
    """{(school, station): (lowest seq, highest seq)} of a batch (0, 0 for records without a seq). A batch is
    nearly always one station's: then a column's min and max, in C."""
    rows = list(map(itemgetter(1), items))
    stations = list(zip(map(itemgetter(school_at), rows), map(itemgetter(station_at), rows)))
    seqs = list(map(itemgetter(seq_at), rows)) if seq_at is not None else [0] * len(rows)
    if len(set(stations)) == 1:
        return {stations[0]: (min(seqs), max(seqs))}
    span: dict[tuple, tuple[int, int]] = {}
    for station, seq in zip(stations, seqs):
        low, high = span.get(station, (seq, seq))
        span[station] = (min(low, seq), max(high, seq))
    return span


def _straight(cur, kind: str, names: list[str], items: list, now: float) -> bool:
    """The common case, at raw COPY speed: every record new (screenings: every seq above its station's highest
    received), COPYed straight into the table under a savepoint. Any unique key met (a record sent before) rolls
    back to the savepoint and returns False: the staging path then sorts out what is new. True when sent. Under
    row-level security (no COPY into the table) the new records go through the staging table and one plain
    ``INSERT ... SELECT`` under the same savepoint, without ``ON CONFLICT`` (a fifth of that statement's work)."""
    table = TABLES[kind]
    seq_at = names.index("seq") if kind == "screening" else None
    span = _seq_span(items, names.index("school_id"), names.index("station_id"), seq_at)
    raw = cur.connection
    with raw.pipeline():  # the checks and the savepoint in one round trip to the server, not four
        # a role under row-level security (a station kept to its school, u0010) may not COPY into the table
        policed = raw.execute("SELECT row_security_active(CAST(%s AS regclass))", (table.name,))
        highest = raw.execute("SELECT st.school_id, st.station_id, st.last_seq FROM stations st JOIN "
                              "unnest(%s::text[], %s::text[]) AS p(school_id, station_id) "
                              "USING (school_id, station_id)", ([s for s, _ in span], [t for _, t in span])
                              ) if seq_at is not None else None
        raw.execute("SAVEPOINT gate_straight")
    policed = policed.fetchone()[0]  # then the staging table's INSERT ... SELECT goes through the policy
    if highest is not None:
        for school, station, last_seq in highest.fetchall():
            if span[(school, station)][0] <= last_seq:
                return False  # a re-send, or a seq to look up across days: the careful path
    try:
        if policed:
            _stage_rows(cur, kind, names, items)
            cols = ", ".join(names)
            cur.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {_stage(kind)}")
        else:
            with cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for _key, row in items:
                    copy.write_row(row)
    except (psycopg.errors.UniqueViolation, psycopg.errors.FeatureNotSupported):
        # FeatureNotSupported: no COPY into a table under row-level security (a policy made after the check above)
        cur.execute("ROLLBACK TO SAVEPOINT gate_straight")
        return False
    with raw.pipeline():
        raw.execute("RELEASE SAVEPOINT gate_straight")
        for (school, station), (_low, top) in span.items():
            raw.execute("UPDATE stations SET last_sync_at = %s, last_seq = GREATEST(last_seq, %s) "
                        "WHERE school_id = %s AND station_id = %s", (now, top, school, station))
    return True


def _stage_rows(cur, kind: str, names: list[str], items: list) -> None:
    """The batch COPYed into this connection's staging table (made on first use; emptied at each commit)."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_stage(kind)} (LIKE {TABLES[kind].name} INCLUDING DEFAULTS) "
                "ON COMMIT DELETE ROWS")
    with cur.copy(f"COPY {_stage(kind)} ({', '.join(names)}) FROM STDIN") as copy:
        for _key, row in items:
            copy.write_row(row)


def _insert(conn: Connection, kind: str, items: list, now: float) -> list[tuple[object, str]]:
    table = TABLES[kind]
    names = [c.name for c in table.columns]
    cols = ", ".join(names)
    stage = _stage(kind)
    raw = conn.connection.driver_connection
    refused: list[tuple[object, str]] = []
    with raw.cursor() as cur:
        if _straight(cur, kind, names, items, now):
            return refused
        _stage_rows(cur, kind, names, items)
        if kind == "screening":
            cur.execute(f"""DELETE FROM {stage} s USING stations st
                            WHERE st.school_id = s.school_id AND st.station_id = s.station_id AND s.seq <= st.last_seq
                              AND NOT EXISTS (SELECT 1 FROM screenings u WHERE u.school_id = s.school_id
                                              AND u.day = s.day AND u.id = s.id)
                              AND EXISTS (SELECT 1 FROM screenings u WHERE u.school_id = s.school_id
                                          AND u.station_id = s.station_id AND u.seq = s.seq AND u.id <> s.id)
                            RETURNING s.id, s.station_id, s.seq""")
            gone = {r[0]: _REUSED_SEQ.format(seq=r[2], station=r[1]) for r in cur.fetchall()}
            if gone:
                at = names.index("id")
                refused = [(item, gone[item[1][at]]) for item in items if item[1][at] in gone]
        target = ", ".join(key_columns(table))
        cur.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({target}) DO NOTHING")
        high = "GREATEST(st.last_seq, m.high)" if kind == "screening" else "st.last_seq"
        cur.execute(f"""UPDATE stations st SET last_sync_at = %s, last_seq = {high}
                        FROM (SELECT school_id, station_id, {'max(seq)' if kind == 'screening' else '0'} AS high
                              FROM {stage} GROUP BY school_id, station_id) m
                        WHERE st.school_id = m.school_id AND st.station_id = m.station_id""", (now,))
    return refused
