"""Calibration records in the station's log, queued for sync; lock and unlock are audit events."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.log import ScreeningLog
from storage.tables.records import CALIBRATIONS
from storage.seals import sealed_write

if TYPE_CHECKING:
    from domain import CalibrationRecord


def save(log: ScreeningLog, record: CalibrationRecord, station_id: str) -> None:
    """Keep the record, queue it for sync and audit it (with the lock or unlock it causes) in one transaction."""
    with log.unit("calibration record") as u, sealed_write(u.conn, log.key, "calibrations"):
        u.conn.execute(CALIBRATIONS.insert().values(
            id=record.id, station_id=station_id, sensor=record.sensor, kind=record.kind, at=record.at,
            due=record.due, result=record.result, operator=record.operator, content=record.to_json()))
        u.queue("calibration", record.id)
        u.audit(station_id, record.operator, f"calibration-{record.kind}",
                {"id": record.id, "sensor": record.sensor, "result": record.result, "note": record.note,
                 "residuals": record.residuals})
        if record.kind == "daily-check" and record.result == "fail":
            u.audit(station_id, record.operator, "sensor-locked", {"sensor": record.sensor, "why": record.note})
        if record.kind == "full" and record.result == "pass":
            u.audit(station_id, record.operator, "sensor-unlocked", {"sensor": record.sensor, "calibration": record.id})


def _record(content: str) -> CalibrationRecord:
    from domain import CalibrationRecord  # the record classes load when a record is read, not for a typed reading

    return CalibrationRecord.from_json(content)


def records(log: ScreeningLog, sensor: str | None = None, limit: int = 100) -> list[CalibrationRecord]:
    q = select(CALIBRATIONS.c.content).order_by(CALIBRATIONS.c.at.desc()).limit(limit)
    if sensor:
        q = q.where(CALIBRATIONS.c.sensor == sensor)
    with log.read("calibration records") as conn:
        return [_record(c) for c in conn.execute(q).scalars()]


def get(log: ScreeningLog, record_id: str) -> CalibrationRecord | None:
    with log.read("calibration records") as conn:
        c = conn.execute(select(CALIBRATIONS.c.content).where(CALIBRATIONS.c.id == record_id)).scalar()
    return _record(c) if c else None


def latest(log: ScreeningLog, sensor: str) -> tuple[CalibrationRecord | None, CalibrationRecord | None]:
    """The latest passing full calibration and the latest daily check of a sensor."""
    with log.read("calibration records") as conn:
        full = conn.execute(select(CALIBRATIONS.c.content).where(
            CALIBRATIONS.c.sensor == sensor, CALIBRATIONS.c.kind == "full", CALIBRATIONS.c.result == "pass")
            .order_by(CALIBRATIONS.c.at.desc()).limit(1)).scalar()
        check = conn.execute(select(CALIBRATIONS.c.content).where(
            CALIBRATIONS.c.sensor == sensor, CALIBRATIONS.c.kind == "daily-check")
            .order_by(CALIBRATIONS.c.at.desc()).limit(1)).scalar()
    return (_record(full) if full else None,
            _record(check) if check else None)
