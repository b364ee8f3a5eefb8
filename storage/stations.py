"""One id, one station: the upstream's registry of schools and stations.

On its first sync a station registers ``(school_id, station_id)`` with its key's fingerprint; later syncs under the
same id with another fingerprint are refused, naming the id, before any row is sent. An id registered without a
fingerprint (rows sent before the registry existed, upstream migration u0006) is claimed by the first station that
syncs under it.

Why ``(station_id, seq)`` stays unique although screenings are partitioned by day (a partitioned table's unique keys
must include the day): within a day the upstream enforces it (``uq_up_screenings_station_seq``). Across days, two
rows with one ``(station, seq)`` would need two writers of one chain: the registry lets only the station holding the
registered key send under its id, and that station's log gives each seq once (its primary key). A log rebuilt from
scratch under the same key (seq starting at 1 again) is the remaining way; the registry keeps each station's highest
seq received, and a new record whose seq is not above it and which another record already holds upstream is refused
(storage.copy_sync), so that is caught too.
"""
from __future__ import annotations

import time

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.errors import UpstreamFailure
from storage.upstream_schema import schools, stations

class StationClash(UpstreamFailure):
    """Another station already holds this id upstream."""


def _insert(conn: Connection, table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def register(conn: Connection, school_id: str, station_id: str, fingerprint: str, school_name: str | None = None,
             now: float | None = None) -> None:
    """Make sure ``station_id`` of ``school_id`` is this station's (by key fingerprint); raise StationClash if not."""
    now = time.time() if now is None else now
    _one_school(conn, school_id, station_id, fingerprint)
    conn.execute(_insert(conn, schools).values(school_id=school_id, name=school_name or "", created_at=now)
                 .on_conflict_do_nothing())
    conn.execute(_insert(conn, stations).values(school_id=school_id, station_id=station_id, fingerprint=fingerprint,
                                                registered_at=now, last_seq=0)
                 .on_conflict_do_nothing())
    held = conn.execute(select(stations.c.fingerprint).where(stations.c.school_id == school_id,
                                                             stations.c.station_id == station_id)).scalar()
    if held is None:  # registered before fingerprints: the first station to come back claims it
        conn.execute(update(stations).where(stations.c.school_id == school_id, stations.c.station_id == station_id,
                                            stations.c.fingerprint.is_(None)).values(fingerprint=fingerprint))
        held = conn.execute(select(stations.c.fingerprint).where(stations.c.school_id == school_id,
                                                                 stations.c.station_id == station_id)).scalar()
    if held != fingerprint:
        raise StationClash(
            f"station id {station_id!r} of school {school_id!r} is already registered upstream by another station "
            f"(key {held[:16]}…; this station's key is {fingerprint[:16]}…): nothing was sent. "
            f"Give this station its "
            f"own id ([station] id in its config), or, if it replaces that station, restore that station's key file")
    if school_name and conn.execute(select(schools.c.name).where(schools.c.school_id == school_id)).scalar() == "":
        # only then: a station's role may not update (a school declared by the bureau keeps the bureau's name)
        conn.execute(update(schools).where(schools.c.school_id == school_id).values(name=school_name))


def _one_school(conn: Connection, school_id: str, station_id: str, fingerprint: str) -> None:
    """A key registered under another school is that school's station (a gate.toml copied from the wrong gate):
    refused before anything is sent, or the gate's records would split across two schools. A station that named
    no school was its own school (school id = station id) and may join its real one."""
    other = conn.execute(select(stations.c.school_id, stations.c.station_id)
                         .where(stations.c.fingerprint == fingerprint, stations.c.school_id != school_id,
                                stations.c.school_id != stations.c.station_id)
                         .order_by(stations.c.registered_at).limit(1)).first()
    if other is not None:
        raise StationClash(
            f"this station's key (fingerprint {fingerprint[:16]}…) is registered upstream as station "
            f"{other.station_id!r} of school {other.school_id!r}, not of school {school_id!r}: nothing was sent. "
            f"Restore that station's config ([school] id = \"{other.school_id}\"), or give this station its own key "
            f"(a new log) to join {school_id!r} as {station_id!r}")


def high_seq(conn: Connection, school_id: str, station_id: str) -> int:
    return conn.execute(select(stations.c.last_seq).where(stations.c.school_id == school_id,
                                                          stations.c.station_id == station_id)).scalar() or 0


def _stamp(conn: Connection, now: float) -> dict:
    """On PostgreSQL the server stamps ``synced_at`` (upstream migration u0018's trigger; a station role may not
    write it); an SQLite upstream (one school's file, no roles) takes the sync's own time."""
    return {} if conn.dialect.name == "postgresql" else {"synced_at": now}


def note_sync(conn: Connection, school_id: str, station_id: str, last_seq: int | None, now: float) -> None:
    values = {"last_sync_at": now, **_stamp(conn, now)}
    if last_seq is not None:
        values["last_seq"] = func.greatest(stations.c.last_seq, last_seq) if conn.dialect.name == "postgresql" \
            else func.max(stations.c.last_seq, last_seq)
    conn.execute(update(stations).where(stations.c.school_id == school_id, stations.c.station_id == station_id)
                 .values(**values))



def up_to_date(conn: Connection, school_id: str, fingerprint: str, now: float) -> None:
    """The station with this key has sent everything it holds as of ``now`` (a sync with nothing new to send): its
    gates' ``last_sync_at`` moves to ``now`` (never back), so the school's other gates know it has reported."""
    conn.execute(update(stations).where(stations.c.school_id == school_id, stations.c.fingerprint == fingerprint,
                                        or_(stations.c.last_sync_at.is_(None), stations.c.last_sync_at < now))
                 .values(last_sync_at=now, **_stamp(conn, now)))
