"""Exports for auditors: CSV (UTF-8 with BOM, for Excel on Chinese Windows), XLSX (openpyxl) or JSON lines, with a
``manifest.json`` signed with the station key (storage.export_manifest; checked by ``gate export verify DIR``).

No cell can become a formula: in CSV every text cell that starts with ``= + - @``, a tab or a carriage return (or
their full-width forms) gets a leading single quote (OWASP's advice on CSV injection); in XLSX every text cell is
written as a string, never a formula. JSON lines carry the values unchanged (not a spreadsheet format).

Pseudonymised by default: entrant ids become a keyed hash (HMAC-SHA256 with a per-station secret, so the same pupil
gets the same pseudonym in every export of this station and nobody without the secret can reverse it), and no names.
``identified`` adds the roster id, name and class.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from domain.errors import UsageError
from storage import audit, retention
from storage.chain import GENESIS, Chain
from storage.clearances import waiting
from storage.errors import StorageError, why
from storage.export_manifest import MANIFEST, verify_export, write_signed  # noqa: F401 (the API of exports)
from storage.log import ScreeningLog
from storage.tables.log import AUDIT_EVENTS as AUDIT, OUTBOX, SCREENINGS
from storage.private import create_private, private_dir
FORMATS = ("csv", "xlsx", "jsonl")
# A text cell starting with one of these is (the start of) a formula to Excel, LibreOffice or Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# machine name, zh-CN header, en header
COLUMNS = [
    ("id", "记录编号", "Record id"),
    ("time", "检测时间", "Time"),
    ("station_id", "测温点", "Station"),
    ("entrant", "人员", "Entrant"),
    ("decision", "结果", "Decision"),
    ("reasons", "原因", "Reasons"),
    ("temperature_c", "体温(°C)", "Temperature (°C)"),
    ("source", "来源", "Source"),
    ("mask", "口罩", "Mask"),
    ("operator", "操作人员", "Operator"),
    ("follows", "复测自", "Retest of"),
]
IDENTIFIED = [("name", "姓名", "Name"), ("group", "班级/部门", "Class / department")]

# SQLite does the per-row work in C (local time, reasons, the pseudonym from a temporary table filled once per
# distinct id, neutralising CSV cells); source and mask state are stored columns. Python only hands batches on.
_SELECT = """
SELECT {columns}
FROM screenings s {indexed} {joins}
WHERE s.day >= ? AND s.day <= ? ORDER BY s.seq
"""
# (SQL expression, is a text cell), in the order of COLUMNS and then IDENTIFIED
_CELLS = [("s.id", True), ("{local_time}", True), ("s.station_id", True), ("{entrant}", True), ("s.decision", True),
          ("""replace(replace(replace(s.reasons, '","', ';'), '["', ''), '"]', '')""", True),
          ("s.temperature_c", False), ("s.source", True), ("s.mask_state", True),
          ("coalesce(s.operator, '')", True), ("coalesce(s.follows, '')", True)]
_NAME_CELLS = [("coalesce(e.name, '')", True), ("""coalesce(e."group", '')""", True)]
_PSEUDONYMOUS = dict(entrant="coalesce(p.pseudonym, '')",
                     joins="LEFT JOIN temp.pseudonyms p ON p.entrant_id = s.entrant_id")
_IDENTIFIED = dict(entrant="coalesce(s.entrant_id, '')", joins="LEFT JOIN entrants e ON e.roster_id = s.entrant_id")
_STARTS_SQL = ", ".join(f"char({ord(c)})" for c in FORMULA_STARTS)


def neutral(text: str) -> str:
    """What a CSV cell holding ``text`` says: a formula-like start gets a leading single quote."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _neutral_sql(expr: str) -> str:
    """``neutral`` in SQL."""
    return f"(CASE WHEN substr({expr}, 1, 1) IN ({_STARTS_SQL}) THEN '''' || {expr} ELSE {expr} END)"


def _query(identified: bool, most_of_the_log: bool, utc_offset_s: int | None, csv_cells: bool) -> str:
    # A range that covers most of the log reads faster in sequence order than through the day index plus a sort.
    # With one UTC offset over the whole range (no daylight saving, as in China) local time is a fixed shift,
    # cheaper than SQLite's per-row 'localtime'.
    local_time = ("strftime('%Y-%m-%dT%H:%M:%S', s.created_at, 'unixepoch', 'localtime')" if utc_offset_s is None
                  else f"strftime('%Y-%m-%dT%H:%M:%S', s.created_at + {int(utc_offset_s)}, 'unixepoch')")
    parts = _IDENTIFIED if identified else _PSEUDONYMOUS
    cells = [(expr.replace("{local_time}", local_time).replace("{entrant}", parts["entrant"]), text)
             for expr, text in _CELLS + (_NAME_CELLS if identified else [])]
    columns = ", ".join(_neutral_sql(expr) if text and csv_cells else expr for expr, text in cells)
    return _SELECT.format(columns=columns, indexed="NOT INDEXED" if most_of_the_log else "", joins=parts["joins"])


def _single_offset(con: sqlite3.Connection, d0: str, d1: str) -> int | None:
    lo, hi = con.execute("SELECT min(created_at), max(created_at) FROM screenings WHERE day >= ? AND day <= ?",
                         (d0, d1)).fetchone()
    if lo is None:
        return 0
    offsets = {time.localtime(t).tm_gmtoff for t in (lo, hi, *range(int(lo), int(hi), 86400 * 7))}
    return offsets.pop() if len(offsets) == 1 else None


class ExportError(UsageError):
    pass


def station_secret(log: ScreeningLog, create: bool = True) -> bytes | None:
    """The pseudonymisation key: in the station key file, never in the log (storage.keys). None only for a log from
    before key files opened read-only (``create`` false); with ``create``, that is refused."""
    if log.key is None:
        if not create:
            return None
        raise ExportError(f"{log.path.name} was opened read-only and is from before station key files: "
                          "open it for writing once (any gate command but verify) to upgrade it, then export")
    return log.key.pseudonym_key


def manifest_key(log: ScreeningLog, create: bool = True) -> bytes | None:
    """The key that signs this station's export manifests: derived from the station key (storage.keys), used for
    nothing else. None only for a log from before key files opened read-only with ``create`` false."""
    if log.key is None:
        return None if not create else station_secret(log, create)
    return log.key.export_key


def check_range(date_from: str, date_to: str) -> tuple[str, str]:
    """The export's days, checked before anything is opened: real dates, --from not after --to."""
    d0, d1 = _day(date_from, "--from"), _day(date_to, "--to")
    if d0 > d1:
        raise ExportError(f"--from {d0} is after --to {d1}: swap them")
    return d0, d1


def _day(text: str, flag: str) -> str:
    try:
        return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise ExportError(f"{flag} {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-28") from None


def _string_cells(ws, rec: tuple) -> list:
    """An XLSX row in which no text can be a formula: openpyxl makes a formula of any str starting with "=", so such
    a cell is written as an explicit string cell."""
    from openpyxl.cell import WriteOnlyCell

    out = list(rec)
    for i, v in enumerate(out):
        if isinstance(v, str) and v[:1] in FORMULA_STARTS:
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            out[i] = cell
    return out


def _write(con: sqlite3.Connection, data_file: Path, fmt: str, identified: bool, key: bytes, d0: str, d1: str,
           header: list[str], names: list[str], progress: Callable[[int, int], None] | None) -> int:
    """Write the rows of days d0..d1 to ``data_file``; returns how many."""
    everything = con.execute("SELECT count(*) FROM screenings").fetchone()[0]
    total = con.execute("SELECT count(*) FROM screenings WHERE day >= ? AND day <= ?", (d0, d1)).fetchone()[0]
    if not identified:
        con.execute("CREATE TEMP TABLE pseudonyms (entrant_id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL)")
        ids = [r[0] for r in con.execute("SELECT DISTINCT entrant_id FROM screenings WHERE day >= ? AND day <= ? "
                                         "AND entrant_id IS NOT NULL", (d0, d1))]
        con.executemany("INSERT INTO temp.pseudonyms VALUES (?, ?)",
                        [(eid, "p-" + hmac.new(key, eid.encode("utf-8"), hashlib.sha256).hexdigest()[:16])
                         for eid in ids])
    cur = con.execute(_query(identified, total * 2 > everything, _single_offset(con, d0, d1), fmt == "csv"),
                      (d0, d1))

    def batches():
        n = 0
        while batch := cur.fetchmany(5000):
            yield batch
            n += len(batch)
            if progress:
                progress(n, total)

    def records():
        for batch in batches():
            yield from batch

    rows = 0
    if fmt == "csv":
        with data_file.open("w", encoding="utf-8", newline="") as f:
            f.write("\ufeff")  # the BOM Excel on Chinese Windows needs; utf-8-sig would encode row by row in Python
            w = csv.writer(f)
            w.writerow([neutral(h) for h in header])
            for batch in batches():
                w.writerows(batch)
                rows += len(batch)
    elif fmt == "jsonl":
        with data_file.open("w", encoding="utf-8") as f:
            for rec in records():
                f.write(json.dumps(dict(zip(names, rec)), ensure_ascii=False) + "\n")
                rows += 1
    else:
        from openpyxl import Workbook  # here, not at the top: it costs every command's start-up ~0.1 s

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("screenings")
        try:
            ws.append(_string_cells(ws, tuple(header)))
            for rec in records():
                ws.append(_string_cells(ws, rec))
                rows += 1
        except BaseException:
            ws.close()  # its rows' temporary file, else left to the collector (and a warning) on Ctrl-C
            raise
        wb.save(data_file)
    return rows


def export(log: ScreeningLog, *, date_from: str, date_to: str, fmt: str, out_dir: str | Path, identified: bool,
           actor: str, station_id: str, language: str = "zh-CN",
           progress: Callable[[int, int], None] | None = None, now: float | None = None) -> dict:
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: choose csv, xlsx or jsonl")
    d0, d1 = check_range(date_from, date_to)
    out = Path(out_dir)
    check_out(out)
    made = not out.exists()
    make_out(out)
    try:
        return _export(log, d0, d1, fmt, out, identified, actor, station_id, language, progress, now)
    except BaseException:  # Ctrl-C (KeyboardInterrupt) included: a re-run with the same --out must not be refused
        _remove_partial(out, [out / f"screenings.{fmt}", out / MANIFEST], made)
        raise


def _remove_partial(out: Path, files: list[Path], made: bool) -> None:
    """Remove what an export that did not finish wrote (its folder was new or empty: check_out), so the folder is as
    it was before."""
    for f in files:
        f.unlink(missing_ok=True)
    if made:
        try:
            out.rmdir()
        except OSError:  # something else was put there meanwhile: left as it is
            pass


def _export(log: ScreeningLog, d0: str, d1: str, fmt: str, out: Path, identified: bool, actor: str, station_id: str,
            language: str, progress: Callable[[int, int], None] | None, now: float | None) -> dict:
    key = station_secret(log)
    cols = COLUMNS + (IDENTIFIED if identified else [])
    lang_i = 1 if language == "zh-CN" else 2
    header = [f"{c[lang_i]} ({c[0]})" for c in cols]
    data_file = out / f"screenings.{fmt}"
    create_private(data_file)  # 0600 from its first byte (health data of minors), not only once it is complete
    # A long read on a connection of its own, read-only, in one snapshot: the chain head, the count and the rows
    # agree, and the gate goes on writing beside it.
    try:
        con = sqlite3.connect(f"file:{log.path.resolve()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the log for the export: {why(exc)}") from exc
    try:
        con.execute("BEGIN")
        head = (con.execute(log.screening_chain.head_sql, (log.screening_chain.name,)).fetchone()[0] or GENESIS,
                con.execute("SELECT count(*) FROM screenings").fetchone()[0])
        rows = _write(con, data_file, fmt, identified, key, d0, d1, header, [c[0] for c in cols], progress)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the log for the export: {why(exc)}") from exc
    except OSError as exc:
        raise ExportError(f"cannot write {data_file}: {exc.strerror or exc}") from None
    finally:
        con.close()
    manifest = write_signed(data_file, rows, fmt, actor, not identified, manifest_key(log),
                            time.time() if now is None else now,
                            kind="gate-station screenings export", station_id=station_id,
                            range={"from": d0, "to": d1}, filters={"identified": identified},
                            chain_head=head[0], chain_rows=head[1])
    sha = manifest["files"][data_file.name]["sha256"]
    audit.record(log, station_id, actor, "export", {"from": d0, "to": d1, "format": fmt, "identified": identified,
                                                     "rows": rows, "sha256": sha, "folder": str(out)})
    return manifest


def check_out(out: Path) -> None:
    """A new (or empty) folder for an export (a station's or the bureau's), said in one line when it is not one."""
    try:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{out} is a file, not a folder: give --out a new folder")
        if out.exists() and any(out.iterdir()):
            raise ExportError(f"{out} is not empty: give a new folder, so an earlier export is never overwritten")
    except OSError as exc:  # a name too long, a path through a file: the folder cannot be there
        raise ExportError(f"cannot look into {out}: {exc.strerror or exc}; give --out a new folder") from None


def make_out(out: Path) -> None:
    """Make the export's folder, private (health data of minors: the folder 0700, each file 0600, storage.private);
    a place that cannot be written is one line."""
    try:
        private_dir(out, tighten=True)
    except OSError as exc:
        raise ExportError(f"cannot make the folder {out}: {exc.strerror or exc}; give --out a new folder you may "
                          "write to") from None


def _purge_chain(log: ScreeningLog, chain: Chain, *, kind: str, time_column, cutoff: float, upstream=None,
                 audit_event: Callable[[dict], tuple[str, str, str, dict] | None]) -> dict:
    """Delete the prefix of one hash chain that storage.retention allows (past ``cutoff`` and, with an upstream,
    confirmed by it), leaving an anchor with the last purged hash so the rest still verifies. The deletion and its
    audit event (``audit_event(result)`` gives action and detail, or None) are one transaction."""
    table = chain.table
    p = retention.plan(log, table=table, kind=kind, time_column=time_column, cutoff=cutoff, upstream=upstream)
    n = 0
    with log.unit(f"the purge of {chain.name}") as u:
        if p.last_seq is not None:
            # The plan was made without the write lock: purge only if its last row is still there as planned.
            still = u.conn.execute(select(table.c.row_hash).where(table.c.seq == p.last_seq)).scalar()
            if still != p.last_hash:
                raise ExportError("another purge ran at the same time: run gate purge again")
            ids = select(table.c.id).where(table.c.seq <= p.last_seq)
            # The newest outbox entry stays (pointing at nothing: the sync's join skips it). SQLite numbers a new
            # row max(seq) + 1, so deleting the newest would hand its number, below the sync's checkpoint, to the
            # next record, which would then never be sent (found by gate sync verify after a purge).
            newest = u.conn.execute(select(func.max(OUTBOX.c.seq))).scalar()
            u.conn.execute(OUTBOX.delete().where(OUTBOX.c.kind == kind, OUTBOX.c.record_id.in_(ids),
                                                 OUTBOX.c.seq != newest))
            n = chain.purge_through(u.conn, p.last_seq, p.last_hash)
        result = {"rows": n, "last_purged_seq": p.last_seq, "last_purged_hash": p.last_hash,
                  "kept_unsynced": p.old - n, "kept": p.kept,
                  "upstream": upstream.shown_url if upstream is not None else None}
        event = audit_event(result)
        if event is not None:
            u.audit(*event)
    return result


def purge_older_than(log: ScreeningLog, days: int, *, station_id: str, actor: str, now: float | None = None,
                     upstream=None) -> dict:
    """Delete screenings past retention; the chain still verifies from an anchor that keeps the last purged hash."""
    if days < 1:
        raise ExportError("--older-than must be at least 1 day")
    cutoff = (now or time.time()) - days * 86400
    # A confirmed fever not yet cleared is what keeps the person refused: it and everything after it stay (a chain
    # is purged from its start only) until the clearance is recorded.
    fevers = [s.created_at for s in waiting(log)]
    held = 0
    if fevers and min(fevers) < cutoff:
        with log.read("the screenings to keep") as conn:
            held = conn.execute(select(func.count()).select_from(SCREENINGS).where(
                SCREENINGS.c.created_at >= min(fevers), SCREENINGS.c.created_at < cutoff)).scalar_one()
        cutoff = min(fevers)

    def event(result: dict) -> tuple[str, str, str, dict]:
        if held:
            result["kept"] = {**result["kept"], "fever-not-cleared": held}
        return station_id, actor, "purge", {"older_than_days": days, **result}

    return _purge_chain(log, log.screening_chain, kind="screening", time_column=SCREENINGS.c.created_at,
                        cutoff=cutoff, upstream=upstream, audit_event=event)


def purge_audit_older_than(log: ScreeningLog, days: int, *, station_id: str, actor: str,
                           now: float | None = None, upstream=None) -> dict:
    """Delete audit events past their retention (once synced), keeping the audit chain verifiable by an anchor."""
    def event(result: dict) -> tuple[str, str, str, dict] | None:
        if not result["rows"]:
            return None
        return station_id, actor, "purge-audit", {"older_than_days": days, "rows": result["rows"]}

    return _purge_chain(log, log.audit_chain, kind="audit", time_column=AUDIT.c.at,
                        cutoff=(now or time.time()) - days * 86400, upstream=upstream, audit_event=event)
