"""The manifest of an export, signed with the station key, and its verification (``gate export verify DIR``).

``manifest.json`` names each file with its SHA-256, its size, its number of rows and an HMAC of its bytes, and the
whole manifest carries an HMAC-SHA256 signature under a key derived from the station key. Anyone can check the
SHA-256 sums and row counts; only someone holding the station key can check the signatures, and only the signatures
catch a forger who changed a row and recomputed the SHA-256 in the manifest.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Iterator

from storage.private import create_private, private_file

MANIFEST = "manifest.json"
SIGNATURE = "signature"
ALGORITHM = "HMAC-SHA256"
_CSV_FIELD_MAX = 1 << 20  # a field longer than this was not written by the station


def key_id(key: bytes) -> str:
    """A short public name of a key (which station's key signed this), revealing nothing of it."""
    return hashlib.sha256(b"gate-station key id\n" + key).hexdigest()[:16]


def _canonical(manifest: dict) -> bytes:
    body = {k: v for k, v in manifest.items() if k != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(manifest: dict, key: bytes) -> dict:
    """The manifest with its signature (over everything else in it)."""
    value = hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()
    return {**manifest, SIGNATURE: {"algorithm": ALGORITHM, "key_id": key_id(key), "value": value}}


def write_signed(data: Path, rows: int, fmt: str, actor: str, pseudonymised: bool, key: bytes, now: float,
                 **fields) -> dict:
    """Sign and write the manifest of an export beside its data file: ``fields`` (its kind, range, ...) and what
    every export states (the file's digests, size and rows, who exported it and when, pseudonymised or not, what was
    done to spreadsheet formulas); ``now``: when, by the command's clock. Both files are left readable by this account only. Returns the manifest."""
    sha, mac = file_digests(data, key)
    manifest = sign({
        **fields,
        "format": fmt,
        "rows": rows,
        "files": {data.name: {"sha256": sha, "hmac": mac, "bytes": data.stat().st_size, "rows": rows}},
        "exported_by": actor,
        "exported_at": datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
        "pseudonymised": pseudonymised,
        "formulas": "neutralised" if fmt != "jsonl" else "not a spreadsheet: values as recorded",
    }, key)
    written = data.parent / MANIFEST
    create_private(written)
    written.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for f in (data, written):
        private_file(f)
    return manifest


def file_digests(path: Path, key: bytes | None) -> tuple[str, str | None]:
    """(SHA-256, HMAC-SHA256 under ``key``) of a file's bytes, read once."""
    sha = hashlib.sha256()
    mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
            if mac is not None:
                mac.update(block)
    return sha.hexdigest(), mac.hexdigest() if mac is not None else None


def count_rows(path: Path) -> int:
    """Data rows in an export file as a reader sees them (the header row not counted)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        csv.field_size_limit(_CSV_FIELD_MAX)
        with path.open(encoding="utf-8-sig", newline="") as f:
            return max(0, sum(1 for _ in csv.reader(f)) - 1)
    if suffix == ".jsonl":
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    if suffix == ".xlsx":
        from openpyxl import load_workbook  # only for an XLSX export

        wb = load_workbook(path, read_only=True)
        try:
            return max(0, sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1)
        finally:
            wb.close()
    raise ValueError(f"{path.name}: not a file an export writes")


def _files(manifest: dict) -> Iterator[tuple[str, dict]]:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ValueError("it lists no files")
    for name, meta in files.items():
        if (not isinstance(meta, dict) or not name.isprintable() or len(name) > 200 or Path(name).name != name
                or name in ("", ".", "..", MANIFEST)):
            raise ValueError(f"its entry {name!r} is not a file of this folder")
        yield name, meta


def verify_export(folder: str | Path, key: bytes | None = None) -> list[str]:
    """Problems found, one line each (empty when every file matches a manifest signed with ``key``).

    Without ``key`` only the SHA-256 sums and row counts are checked: enough against an accident, not against
    someone who recomputed the sums in the manifest."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes().decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("it is not a JSON object")
        files = list(_files(manifest))
    except (OSError, ValueError) as exc:
        return [f"cannot read the manifest {folder / MANIFEST}: {' '.join(str(exc).split())[:200]}"]
    problems = []
    if key is not None:
        sig = manifest.get(SIGNATURE)
        expected = sign(manifest, key)[SIGNATURE]
        if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
            problems.append(f"{MANIFEST}: not signed (an export by this station is): it was replaced or edited")
        elif sig.get("key_id") != expected["key_id"]:
            problems.append(f"{MANIFEST}: signed with another key ({sig.get('key_id')!r}, this station's is "
                            f"{expected['key_id']}): not an export of this station, or its key was replaced")
        elif not hmac.compare_digest(sig["value"], expected["value"]):
            problems.append(f"{MANIFEST}: its signature does not match: the manifest was edited after the export")
    for name, meta in files:
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        sha, mac = file_digests(path, key)
        if sha != meta.get("sha256"):
            problems.append(f"{name}: changed since export (SHA-256 differs)")
        elif key is not None and not hmac.compare_digest(str(meta.get("hmac", "")), mac or ""):
            problems.append(f"{name}: changed since export (its keyed digest differs: the SHA-256 in the manifest "
                            "was recomputed to hide the change)")
        try:
            rows = count_rows(path)
        except (OSError, ValueError, csv.Error, UnicodeDecodeError) as exc:
            problems.append(f"{name}: cannot count its rows ({' '.join(str(exc).split())[:200]})")
            continue
        except Exception as exc:  # noqa: BLE001  openpyxl raises its own kinds (zipfile, XML) on a damaged file
            problems.append(f"{name}: not a readable {path.suffix[1:]} file ({type(exc).__name__})")
            continue
        if rows != meta.get("rows"):
            fewer = isinstance(meta.get("rows"), int) and rows < meta["rows"]
            problems.append(f"{name}: {rows} rows, the manifest says {meta.get('rows')} "
                            f"({'rows were removed' if fewer else 'rows differ'})")
    extra = {p.name for p in folder.iterdir()} - {name for name, _ in files} - {MANIFEST}
    problems += [f"{name}: not part of the export" for name in sorted(extra)]
    return problems
