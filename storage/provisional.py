"""The one rule of a provisional school day (临时), for the bureau's row (`storage.bureau`) and the school's own report
(`gate school report`) alike: the school's figures are not all in, so the day is no zero report yet.

A school day is provisional while
- a registered gate has not synced since a check of the day ended (its screenings of that check may not be here);
- the bureau expects more gates than have registered;
- once a gate has sent its daily report: a registered gate has sent none, or a gate's report says it waits for
  another gate.

Pure: the caller reads the registry and the reports; ``now`` is a parameter.
"""
from __future__ import annotations

import math
import time
from typing import Iterable

from domain.sessions import DEFAULT_SESSIONS, EVENING

# A gate stamps its last sync by its own clock, which may run a few minutes ahead of the reader's (the bureau's, the
# school report's, another gate's). A stamp further ahead of the reader's "now" than this cannot be a real sync (a
# forged registry row, a clock far wrong): not believed, so the day stays provisional, the safe direction.
CLOCK_SKEW_S = 600.0


def checks_ended(day: str, now: float, sent: Iterable[str] = (), session: str | None = None) -> list[float]:
    """When the checks of ``day`` that had ended by ``now`` ended (of ``session`` only, when given). The checks are
    the usual ones (晨检, 午检), and 晚检 when a gate of the school has sent it (``sent``: session names)."""
    usual = [s for s in (*DEFAULT_SESSIONS, EVENING) if s is not EVENING or EVENING.name in set(sent)]
    return [s.end_on(day) for s in usual if session in (None, s.name) and s.end_on(day) <= now]


def not_synced_since(gates: dict[str, float | None], expected: int | None, day: str, now: float,
                     sent: Iterable[str] = (), session: str | None = None) -> dict | None:
    """The gates whose figures are not all in: registered gates that have not synced since the last check of
    ``day`` (or ``session``) that had ended by ``now``, and how many the bureau expects that never registered; None
    when every gate has synced since (or no check has ended yet). A last sync stamped after ``now`` (beyond
    ``CLOCK_SKEW_S``) is not believed (a gate's clock far ahead, or its registry row written by hand): that gate has
    not synced since."""
    ends = checks_ended(day, now, sent, session)
    if not ends:
        return None
    since = max(ends)
    late = sorted(g for g, at in gates.items() if not synced_since(at, since, now))
    unregistered = max(0, (expected or 0) - len(gates))
    if not late and not unregistered:
        return None
    return {"gates": late, "unregistered": unregistered,
            "since": time.strftime("%Y-%m-%d %H:%M", time.localtime(since))}


def synced_since(at: float | None, since: float, now: float) -> bool:
    """The gate's last sync is believed and after ``since``: not NaN nor infinite (written by hand into the registry),
    nor later than the reader's ``now`` by more than a clock's skew (``CLOCK_SKEW_S``)."""
    return at is not None and math.isfinite(at) and since <= at <= now + CLOCK_SKEW_S


def half_school(reports: dict[str, dict], gates: Iterable[str], expected: int | None) -> dict | None:
    """The reports' part of the rule: once a gate of the school has sent its daily report, the day is provisional
    while a registered gate has sent none, the bureau expects more gates than have registered, or a gate's report
    says it waits for another gate. ``reports``: gate -> ``storage.bureau.report_figures``. None when it is not
    provisional; else who it waits for."""
    if not reports:
        return None  # nothing reported: "not reported" (late after the cutoff), not half a report
    gates = set(gates) | set(reports)
    waits = {"not_reported": sorted(gates - set(reports)), "unregistered": max(0, (expected or 0) - len(gates)),
             "said_provisional": sorted(g for g, r in reports.items() if r["provisional"])}
    return waits if waits["not_reported"] or waits["unregistered"] or waits["said_provisional"] else None


def school_waits(reports: dict[str, dict], gates: dict[str, float | None], expected: int | None, day: str,
                 now: float, sent: Iterable[str] = (), session: str | None = None) -> dict | None:
    """The whole rule: what the school's day waits for (``gates`` not synced since ``since``, ``unregistered``,
    ``not_reported``, ``said_provisional``), or None when its figures are all in. ``gates``: each registered gate
    -> its last sync (None: never)."""
    synced = not_synced_since(gates, expected, day, now, sent, session)
    half = half_school(reports, gates, expected)
    if synced is None and half is None:
        return None
    out = {"gates": [], "unregistered": 0, "since": None, "not_reported": [], "said_provisional": [],
           **(synced or {})}
    if half:
        out["unregistered"] = max(out["unregistered"], half["unregistered"])
        out["not_reported"], out["said_provisional"] = half["not_reported"], half["said_provisional"]
    return out
