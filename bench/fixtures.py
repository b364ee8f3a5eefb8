"""Fill a station log fast for benchmarks: many screenings in one transaction, with a correct hash chain."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from drivers.base import Reading
from domain import Decision, MaskResult, MaskState, Screening
from storage import chain
from storage.log import DERIVED_COLUMNS, HASHED_COLUMNS, ScreeningLog, screening_content, screening_values


def fill(path: Path, n: int, station_id: str = "bench") -> None:
    ScreeningLog(path).close()  # schema
    con = sqlite3.connect(path)
    cols = (*HASHED_COLUMNS, *DERIVED_COLUMNS, "prev_hash", "row_hash")
    sql = f"INSERT INTO screenings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    prev = chain.GENESIS
    t0 = time.time() - n
    rows, outbox = [], []
    for i in range(n):
        v = 36.0 + (i % 15) / 10
        r = Reading(object_c=v, body_c=v, ambient_c=21.5, source="gun-1", ts=t0 + i)
        decision = Decision.ADMIT if v < 37.3 else Decision.RETEST
        s = Screening(station_id, (r,), MaskResult(MaskState.YES, 0.97, "camera/svm"), decision,
                      ("normal",) if decision is Decision.ADMIT else ("fever-suspected",), "ok", 37.3,
                      entrant_id=f"S{i % 2000:05d}", operator="duty", created_at=t0 + i)
        content = screening_content(s)
        values = screening_values(s)
        h = chain.link(prev, content)
        rows.append([values[c] for c in (*HASHED_COLUMNS, *DERIVED_COLUMNS)] + [prev, h])
        outbox.append(("screening", s.id, t0 + i))
        prev = h
    con.executemany(sql, rows)
    con.executemany("INSERT INTO outbox (kind, record_id, created_at) VALUES (?, ?, ?)", outbox)
    con.commit()
    con.close()
