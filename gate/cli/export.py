"""`gate export [create]` (screenings for auditors, with a manifest) and `gate export verify DIR`."""
from __future__ import annotations

import argparse
import sys

from domain.errors import CheckFailed, UsageError
from gate.cli.common import (actions, load_config, login_name, open_log, sign_in, signin_options,
                             station_options)
from storage.export import FORMATS, check_range, export, verify_export

CREATE = """
gate export --from 2026-11-01 --to 2026-11-30 --format xlsx --out /media/usb/november
gate export create --from 2026-11-28 --to 2026-11-28 --out exp/ --identified --user wu --pin-stdin
"""
VERIFY = """
gate export verify /media/usb/november
"""


def add_export(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="create")
    c = add("create", "Export screenings of a date range to a new folder with manifest.json (SHA-256 of each "
                      "file, the chain head, who and when); pseudonymised unless --identified. `gate export ...` is "
                      "short for `gate export create ...`.", CREATE, create)
    station_options(c)
    c.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD (needed)")
    c.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD (needed)")
    c.add_argument("--format", default="csv", choices=sorted(FORMATS), help="csv (default), xlsx or jsonl")
    c.add_argument("--out", metavar="DIR", help="a new folder for the files and manifest.json (needed)")
    c.add_argument("--identified", action="store_true", help="include roster ids and names (needs an auditor)")
    signin_options(c, "who is exporting")
    v = add("verify", "Re-check an export against its manifest; a changed, missing or extra file exits 1.",
            VERIFY, verify)
    v.add_argument("folder", metavar="DIR", help="the export's folder (with manifest.json)")


def progress_bar(done: int, total: int) -> None:
    if total <= 0 or not sys.stderr.isatty() and done < total:
        return
    width = 30
    filled = int(width * done / total)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% {done}/{total} rows",
          end="" if done < total else "\n", file=sys.stderr, flush=True)


def create(args: argparse.Namespace) -> None:
    if not (args.date_from and args.date_to and args.out):
        raise UsageError("gate export needs --from DATE --to DATE --out DIR (and --format csv|xlsx|jsonl)")
    check_range(args.date_from, args.date_to)  # a wrong date is the first thing to hear, even with a wrong --db
    cfg = load_config(args)
    with open_log(args, cfg, existing=True) as log:
        user = sign_in(args, cfg, log, "export-identified" if args.identified else "export")
        manifest = export(log, date_from=args.date_from, date_to=args.date_to, fmt=args.format, out_dir=args.out,
                          identified=args.identified, actor=user.name if user else login_name(),
                          station_id=cfg.station_id, language=cfg.language, progress=progress_bar)
    print(f"exported {manifest['rows']} rows to {args.out} ({'identified' if args.identified else 'pseudonymised'})")


def verify(args: argparse.Namespace) -> None:
    problems = verify_export(args.folder)
    for p in problems:
        print(f"CHANGED: {p}", file=sys.stderr)
    if problems:
        raise CheckFailed(f"{args.folder} does not match its manifest ({len(problems)} problem(s) above)")
    print(f"ok: {args.folder} matches its manifest")


COMMANDS = {"export": add_export}
