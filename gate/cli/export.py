"""`gate export [create]` (screenings for auditors, with a manifest) and `gate export verify DIR`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domain.errors import CheckFailed, UsageError
from gate.cli.common import (actions, load_config, login_name, one_line, open_log, signed_in, signin_options,
                             station_options)
from storage.export import FORMATS, MANIFEST, check_range, export, manifest_key, verify_export

CREATE = """
gate export --from 2026-11-01 --to 2026-11-30 --format xlsx --out /media/usb/november
gate export create --from 2026-11-28 --to 2026-11-28 --out exp/ --identified --user wu --pin-stdin
"""
VERIFY = """
gate export verify /media/usb/november
gate export verify /media/usb/november --db /var/lib/gate/gate.db
gate export verify /media/usb/november --unsigned     # away from the station: SHA-256 and row counts only
"""


def add_export(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="create", every=station_options)
    c = add("create", "Export screenings of a date range to a new folder with manifest.json (SHA-256 of each "
                      "file, the chain head, who and when); pseudonymised unless --identified. `gate export ...` is "
                      "short for `gate export create ...`.", CREATE, create)
    c.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (needed)")
    c.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD (needed)")
    c.add_argument("--format", default="csv", choices=sorted(FORMATS), help="csv (default), xlsx or jsonl")
    c.add_argument("--out", metavar="DIR", help="a new folder for the files and manifest.json (needed)")
    c.add_argument("--identified", action="store_true", help="include roster ids and names (needs an auditor)")
    signin_options(c, "who is exporting")
    v = add("verify", "Re-check an export against its manifest: the manifest's signature and each file's keyed "
                      "digest (with the station key, so on the station), SHA-256 and row count; a changed, missing, "
                      "extra or shortened file exits 1. --unsigned checks only SHA-256 and row counts (no key "
                      "needed, but a forger who recomputed the SHA-256 in the manifest is not caught).",
            VERIFY, verify)
    v.add_argument("folder", metavar="DIR", help="the export's folder (with manifest.json)")
    v.add_argument("--unsigned", action="store_true",
                   help="no station key here: check SHA-256 and row counts only, not the signature")


def progress_bar(done: int, total: int) -> None:
    if total <= 0 or not sys.stderr.isatty() and done < total:
        return
    width = 30
    filled = int(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% {done}/{total} rows",
          end="" if done < total else "\n", file=getattr(sys.stderr, "raw", sys.stderr), flush=True)


def create(args: argparse.Namespace) -> None:
    if not (args.date_from and args.date_to and args.out):
        raise UsageError("gate export needs --from DATE --to DATE --out DIR (and --format csv|xlsx|jsonl)")
    check_range(args.date_from, args.date_to)  # a wrong date is the first thing to hear, even with a wrong --db
    with signed_in(args, "export-identified" if args.identified else "export", existing=True) as (cfg, log, user):
        manifest = export(log, date_from=args.date_from, date_to=args.date_to, fmt=args.format, out_dir=args.out,
                          identified=args.identified, actor=user.name if user else login_name(),
                          station_id=cfg.station_id, language=cfg.language, progress=progress_bar,
                          now=args.clock())
    print(f"exported {manifest['rows']} rows to {args.out} ({'identified' if args.identified else 'pseudonymised'})")


def verify(args: argparse.Namespace) -> None:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"cannot read the manifest: {folder} is not a folder; give the export's folder (the one "
                         "with manifest.json)")
    if not (folder / MANIFEST).is_file():
        raise CheckFailed(f"cannot read the manifest: {folder} has no {MANIFEST}; is it an export's folder?")
    key = None
    if not args.unsigned:
        cfg = load_config(args)
        with open_log(args, cfg, read_only=True) as log:
            key = manifest_key(log, create=False)
        if key is None:
            raise UsageError(f"the log at {log.path} has never signed an export: verify on the station that made it, "
                             "or give --unsigned to check SHA-256 and row counts only")
    problems = verify_export(folder, key)
    for p in problems:
        print(f"CHANGED: {one_line(p)}", file=sys.stderr)
    if problems:
        raise CheckFailed(f"{folder} does not match its manifest ({len(problems)} problem(s) above)")
    print(f"ok: {folder} matches its manifest" + (" (signature checked with the station key)" if key else
                                                  " (SHA-256 and row counts only: signature not checked)"))


COMMANDS = {"export": add_export}
