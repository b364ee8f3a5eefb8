"""Whether the log may be believed about one person, checked cheaply before the gate decides on their history.

The fever memory reads a person's screenings; a pupil who deletes their fever rows from the SQLite file, or sets
them to 'admit', must not walk in. A full ``gate verify`` reads every row (seconds on a big log), too slow for every
screening, so before each screening with an id the station checks, in the read transaction it decides from:
- the person's own rows: each one's hash recomputes, their derived columns agree, and the rows on either side link to
  them (``Chain.spot_check``); with the station's keyed chains nobody without the key can make a changed row match;
- the chain has no gap and starts on its purge anchor (rows removed from the middle or the start), and ends where its
  keyed seal says (rows removed from the newest end; storage.seals);
- the newest screening queued for the upstream is still in the log (the newest end again, for a log read without
  its key, whose chain has no seal).
- the person's follow-up case events, spot-checked the same way on the case chain (``check_cases``): a close as
  sick leave with a fever edited or cut out of the file must not let the pupil in without a 复课证明.
Any failure raises ``LogEdited``: fail closed, nobody with an id is admitted until an auditor has run ``gate verify``.
Not seen here (only by ``gate verify``): a row of someone else changed, or a row that no longer names the person.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from sqlalchemy import Connection, or_, select

from domain.identifiers import id_key
from storage.cases import CASES, chain as case_chain
from storage.errors import LogEdited
from storage.log import ScreeningLog
from storage.tables.log import OUTBOX, SCREENINGS


def entrant_rows(conn: Connection, entrant_id: str) -> list[Mapping]:
    """Every screening row of this person, oldest first: under any spelling of the id (its key), and under this
    exact spelling too, so a row whose key column alone was edited is still read (and refused)."""
    return conn.execute(select(SCREENINGS)
                        .where(or_(SCREENINGS.c.entrant_key == id_key(entrant_id),
                                   SCREENINGS.c.entrant_id == entrant_id))
                        .order_by(SCREENINGS.c.seq)).mappings().all()


def check(log: ScreeningLog, conn: Connection, entrant_id: str, rows: Sequence[Mapping]) -> None:
    """Raise LogEdited (naming the row and what is wrong) unless ``rows`` and the chain around them hold."""
    found = log.screening_chain.spot_check(conn, rows)
    if found is not None:
        row, problem = found
        where = f"screening {row['seq']} ({row['id']}) " if row is not None else ""
        raise edited(entrant_id, where + problem)
    problem = newest_removed(conn)
    if problem:
        raise edited(entrant_id, problem)


def check_cases(log: ScreeningLog, conn: Connection, entrant_id: str, *spellings: str) -> None:
    """Raise LogEdited unless this person's case events (under each spelling given) and the case chain around them
    hold: a certificate case edited or removed by hand fails closed, like an edited screening."""
    names = {entrant_id, *spellings}
    rows = conn.execute(select(CASES).where(CASES.c.entrant_id.in_(names))
                        .order_by(CASES.c.seq)).mappings().all()
    found = case_chain(log).spot_check(conn, rows)
    if found is not None:
        row, problem = found
        where = f"follow-up case event {row['seq']} (case {row['case_id'][:8]}) " if row is not None else ""
        raise edited(entrant_id, where + problem)


def newest_removed(conn: Connection) -> str | None:
    """What is wrong when the newest screening queued for the upstream is gone from the log (a purge removes the
    queue entry with the row, so only an edit leaves one behind): the end of a chain, cut off, still verifies."""
    newest = conn.execute(select(OUTBOX.c.record_id).where(OUTBOX.c.kind == "screening")
                          .order_by(OUTBOX.c.seq.desc()).limit(1)).scalar()
    if newest is not None and conn.execute(select(SCREENINGS.c.seq).where(SCREENINGS.c.id == newest)).first() is None:
        return f"the newest screening {newest} was removed"
    return None


def edited(entrant_id: str, problem: str) -> LogEdited:
    return LogEdited(f"the log was edited outside the station — {problem}: run gate verify; an auditor must check "
                     f"before {entrant_id} is admitted")
