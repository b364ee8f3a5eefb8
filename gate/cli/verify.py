"""`gate verify`: recompute the log's hash chain; a broken chain names the first row that was changed."""
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
    describe(p, "Recompute the log's hash chain; a broken chain exits 1 and names the first bad row. Read-only.",
             EXAMPLES, verify)
    station_options(p)
    json_option(p, "print the result as JSON: ok, rows, head, bad_seq, bad_id, detail")


def verify(args: argparse.Namespace) -> None:
    from storage import policy  # SQLAlchemy: only once the log is open

    with open_log(args, load_config(args), read_only=True) as log:
        result = log.verify()
        policy_problem = policy.check(log)
    if args.json:
        print(json.dumps({**result.__dict__, "policy": policy_problem or "ok"}))
    elif result.ok:
        print(f"ok: {result.rows} screenings, chain head {result.head}")
    if policy_problem:
        raise CheckFailed(f"POLICY: {policy_problem}; an admin re-applies the station's config "
                          "(gate config apply FILE --user ADMIN)")
    if not result.ok:
        raise CheckFailed(f"BROKEN: row {result.bad_seq} (screening {result.bad_id}): {result.detail}; "
                          f"{result.rows - 1} rows before it verify")


COMMANDS = {"verify": add_verify}
