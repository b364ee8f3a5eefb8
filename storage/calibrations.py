"""Calibration records in the station's log, queued for sync; lock and unlock are audit events."""
from __future__ import annotations

import time

from sqlalchemy import select

from domain import CalibrationRecord
from storage import audit
from storage.log import LogError, ScreeningLog, _why
from storage.models import CalibrationRow, OutboxRow

CALIBRATIONS = CalibrationRow.__table__
OUTBOX = OutboxRow.__table__


def save(log: ScreeningLog, record: CalibrationRecord, station_id: str) -> None:
    try:
        with log.engine.begin() as conn:
            conn.execute(CALIBRATIONS.insert().values(
                id=record.id, station_id=station_id, sensor=record.sensor, kind=record.kind, at=record.at,
                due=record.due, result=record.result, operator=record.operator, content=record.to_json()))
            conn.execute(OUTBOX.insert().values(kind="calibration", record_id=record.id, created_at=time.time()))
            audit.record(log, station_id, record.operator, f"calibration-{record.kind}",
                         {"id": record.id, "sensor": record.sensor, "result": record.result, "note": record.note,
                          "residuals": record.residuals}, conn=conn)
            if record.kind == "daily-check" and record.result == "fail":
                audit.record(log, station_id, record.operator, "sensor-locked",
                             {"sensor": record.sensor, "why": record.note}, conn=conn)
            if record.kind == "full" and record.result == "pass":
                audit.record(log, station_id, record.operator, "sensor-unlocked",
                             {"sensor": record.sensor, "calibration": record.id}, conn=conn)
    except Exception as exc:  # noqa: BLE001
        raise LogError(f"calibration record not saved: {_why(exc)}") from exc


def records(log: ScreeningLog, sensor: str | None = None, limit: int = 100) -> list[CalibrationRecord]:
    q = select(CALIBRATIONS.c.content).order_by(CALIBRATIONS.c.at.desc()).limit(limit)
    if sensor:
        q = q.where(CALIBRATIONS.c.sensor == sensor)
    with log.engine.connect() as conn:
        return [CalibrationRecord.from_json(c) for c in conn.execute(q).scalars()]


def get(log: ScreeningLog, record_id: str) -> CalibrationRecord | None:
    with log.engine.connect() as conn:
        c = conn.execute(select(CALIBRATIONS.c.content).where(CALIBRATIONS.c.id == record_id)).scalar()
    return CalibrationRecord.from_json(c) if c else None


def latest(log: ScreeningLog, sensor: str) -> tuple[CalibrationRecord | None, CalibrationRecord | None]:
    """The latest passing full calibration and the latest daily check of a sensor."""
    with log.engine.connect() as conn:
        full = conn.execute(select(CALIBRATIONS.c.content).where(
            CALIBRATIONS.c.sensor == sensor, CALIBRATIONS.c.kind == "full", CALIBRATIONS.c.result == "pass")
            .order_by(CALIBRATIONS.c.at.desc()).limit(1)).scalar()
        check = conn.execute(select(CALIBRATIONS.c.content).where(
            CALIBRATIONS.c.sensor == sensor, CALIBRATIONS.c.kind == "daily-check")
            .order_by(CALIBRATIONS.c.at.desc()).limit(1)).scalar()
    return (CalibrationRecord.from_json(full) if full else None,
            CalibrationRecord.from_json(check) if check else None)
