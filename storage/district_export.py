"""The district export for auditors (`gate bureau export`): every school's screenings of a range of days, from the
upstream, pseudonymised (no roster id leaves: each pupil is ``p-`` and 10 hex, as the bureau's screen shows them),
with the same manifest as a station export (SHA-256, keyed digest and row count per file, signed: storage.
export_manifest) under the bureau's own key file, and recorded upstream (``bureau_exports``: one row per school in
the export, so each school can see when its records left for an audit).

The bureau's key is a small file (0600) of 32 random bytes made on first use; `gate bureau export verify DIR --key
FILE` checks a folder against it.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import secrets
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, func, select

from domain.errors import UsageError
from storage import bureau
from storage import upstream as up
from storage.export import FORMATS, _string_cells, check_out, make_out, neutral
from storage.export_manifest import write_signed
from storage.private import private_dir, write_private

COLUMNS = ("school_id", "station_id", "seq", "day", "time", "session", "pupil", "decision", "reasons",
           "temperature_c", "threshold_c", "follows")


class DistrictExportError(UsageError):
    pass


def key_there(path: Path) -> bool:
    """Whether the bureau's key file is there; a path no key can be at (a name too long) is one line."""
    try:
        return path.exists()
    except OSError as exc:
        raise DistrictExportError(f"cannot use {path} as the bureau key: {exc.strerror or exc}; give --key a file "
                                  "in a folder you may write to") from None


def bureau_key(path: Path) -> bytes:
    """The bureau's signing key, made (0600) on first use."""
    if key_there(path):
        try:
            key = bytes.fromhex(path.read_text().strip())
        except (OSError, ValueError) as exc:
            raise DistrictExportError(f"the bureau key {path} is not a key file ({exc}): restore it from backup") \
                from None
        if len(key) != 32:
            raise DistrictExportError(f"the bureau key {path} is not a key file: restore it from backup")
        return key
    key = secrets.token_bytes(32)
    try:
        private_dir(path.parent)
        write_private(path, key.hex().encode() + b"\n")
    except OSError as exc:
        raise DistrictExportError(f"cannot make the bureau key {path}: {exc.strerror or exc}; give --key a file in "
                                  "a folder you may write to") from None
    return key


def _rows(engine: Engine, d0: dt.date, d1: dt.date, secret: str):
    sc = up.screenings
    day = (lambda d: d) if engine.dialect.name == "postgresql" else (lambda d: d.isoformat())
    query = (select(sc.c.school_id, sc.c.station_id, sc.c.seq, sc.c.day, sc.c.created_at, sc.c.session,
                    sc.c.entrant_id, sc.c.decision, sc.c.reasons, sc.c.temperature_c, sc.c.threshold_c, sc.c.follows)
             .where(sc.c.day >= day(d0), sc.c.day <= day(d1))
             .order_by(sc.c.school_id, sc.c.day, sc.c.station_id, sc.c.seq))
    with engine.connect() as conn:
        for r in conn.execution_options(stream_results=True, yield_per=5000).execute(query):
            reasons = ";".join(json.loads(r.reasons)) if r.reasons.startswith("[") else r.reasons
            yield (r.school_id, r.station_id, r.seq, str(r.day),
                   dt.datetime.fromtimestamp(r.created_at).astimezone().isoformat(timespec="seconds"),
                   r.session or "", bureau.pseudonym(secret, r.school_id, r.entrant_id) if r.entrant_id else "",
                   r.decision, reasons, r.temperature_c, r.threshold_c, r.follows or "")


def export(engine: Engine, *, date_from: str, date_to: str, fmt: str, out_dir: str | Path, key_path: Path,
           actor: str, now: float | None = None) -> dict:
    """The district's screenings from ``date_from`` to ``date_to`` into a new folder, pseudonymised, with its signed
    manifest, and recorded upstream; stamped ``now`` (the command's clock; the machine's when None)."""
    now = time.time() if now is None else now
    if fmt not in FORMATS:
        raise DistrictExportError(f"format {fmt!r}: choose csv, xlsx or jsonl")
    d0, d1 = dt.date.fromisoformat(date_from), dt.date.fromisoformat(date_to)
    if d0 > d1:
        raise DistrictExportError(f"--from {d0} is after --to {d1}: swap them")
    out = Path(out_dir)
    check_out(out)  # the station export's checks: one line, exit 2, for a place that cannot be a new folder
    key = bureau_key(key_path)
    make_out(out)
    with engine.connect() as conn:
        secret = conn.execute(select(up.identity_table.c.id)).scalar() or ""
    data = out / f"screenings.{fmt}"
    per_school: dict[str, int] = {}
    n = 0
    if fmt == "csv":
        with data.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for rec in _rows(engine, d0, d1, secret):
                w.writerow([neutral(v) if isinstance(v, str) else v for v in rec])
                per_school[rec[0]] = per_school.get(rec[0], 0) + 1
                n += 1
    elif fmt == "jsonl":
        with data.open("w", encoding="utf-8") as f:
            for rec in _rows(engine, d0, d1, secret):
                f.write(json.dumps(dict(zip(COLUMNS, rec)), ensure_ascii=False) + "\n")
                per_school[rec[0]] = per_school.get(rec[0], 0) + 1
                n += 1
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("screenings")
        ws.append(list(COLUMNS))
        for rec in _rows(engine, d0, d1, secret):
            ws.append(_string_cells(ws, rec))
            per_school[rec[0]] = per_school.get(rec[0], 0) + 1
            n += 1
        wb.save(data)
    export_id = str(uuid.uuid4())
    manifest = write_signed(data, n, fmt, actor, True, key, now, kind="gate-station district export", export_id=export_id,
                            upstream=up.safe_url(str(engine.url)),
                            range={"from": d0.isoformat(), "to": d1.isoformat()},
                            schools=dict(sorted(per_school.items())))
    record(engine, export_id, per_school, d0, d1, fmt, manifest["files"][data.name]["sha256"], actor, now)
    return manifest


def record(engine: Engine, export_id: str, per_school: dict[str, int], d0: dt.date, d1: dt.date, fmt: str,
           sha: str, actor: str, now: float) -> None:
    """One row per school in the export, in ``bureau_exports`` (the bureau's role may insert there only)."""
    table = up.bureau_exports
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ WRITE")  # the bureau's sessions are read-only otherwise
        conn.execute(table.insert(), [
            {"school_id": school, "export_id": export_id, "day_from": d0.isoformat(), "day_to": d1.isoformat(),
             "rows": rows, "format": fmt, "sha256": sha, "exported_by": actor, "at": now}
            for school, rows in sorted(per_school.items())] or [
            {"school_id": "", "export_id": export_id, "day_from": d0.isoformat(), "day_to": d1.isoformat(),
             "rows": 0, "format": fmt, "sha256": sha, "exported_by": actor, "at": now}])


def recorded(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count(func.distinct(up.bureau_exports.c.export_id)))).scalar_one()
