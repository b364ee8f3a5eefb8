"""`gate verify`: recompute every chain of the log and check every sealed table; the first bad row of each is named."""
from __future__ import annotations

import argparse
import json

from domain.errors import CheckFailed
from gate.cli.common import describe, json_option, load_config, open_log, station_options

EXAMPLES = """
gate verify
gate verify --db /var/lib/gate/gate.db --json
"""


def add_verify(p: argparse.ArgumentParser) -> None:
    describe(p, "Recompute the log's chains (screenings, audit events, clearances: HMACs under the station key, with "
                "their sealed ends) and check users, roster, calibrations and the stored policy row by row. Anything "
                "changed, removed or slipped in exits 1 and is named. Read-only.", EXAMPLES, verify)
    station_options(p)
    json_option(p, "print the result as JSON: ok, rows, head, bad_seq, bad_id, detail (screenings), chains, "
                   "tables, problems, policy, key")


def verify(args: argparse.Namespace) -> None:
    from storage import integrity  # SQLAlchemy: only once the log is open

    with open_log(args, load_config(args), read_only=True) as log:
        report = integrity.check(log)
    from storage.verify_result import VerifyResult

    screenings = report.chains.get("screenings") or VerifyResult(False, 0, "", detail="the table is gone")
    lines = report.lines()
    if args.json:
        policy = next((p.split(": ", 1)[1] for p in report.problems if p.startswith("POLICY: ")), "ok")
        print(json.dumps({**screenings.__dict__, "ok": report.ok, "policy": policy,
                          "chains": {k: v.__dict__ for k, v in report.chains.items()}, "tables": report.tables,
                          "problems": lines, "key": report.fingerprint, "keyed": report.keyed}))
    elif report.ok:
        r = report.chains
        print(f"ok: {screenings.rows} screenings, chain head {screenings.head}")
        print(f"ok: {r['audit'].rows} audit events, {r['clearances'].rows} clearances"
              + (f", {r['cases'].rows} follow-up case events" if "cases" in r else "")
              + "".join(f", {n} {what}" for what, n in _tables(report)))
        print(f"station key {report.fingerprint} (chains: HMAC-SHA256)" if report.keyed else
              "chains: plain SHA-256 (a log from before station keys, read without one: open it for writing once "
              "to key it)")
    if lines:
        raise CheckFailed(f"{len(lines)} problem(s) in the log: restore it (and its key) from backup, or hand it "
                          "to the district as evidence", lines)


def _tables(report) -> list[tuple[str, int]]:
    names = {"users": "users", "entrants": "roster rows", "calibrations": "calibration records",
             "station_policy": "stored policy", "visitors": "approved visitors", "daily_reports": "daily reports",
             "session_closures": "closed-out sessions"}
    return [(names[k], n) for k, n in report.tables.items()]


COMMANDS = {"verify": add_verify}
