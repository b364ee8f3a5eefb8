"""`gate purge`: delete screenings (and audit events) past retention, never unsynced ones; the chains still verify."""
from __future__ import annotations

import argparse

from domain.errors import CheckFailed, UpstreamFailure
from gate.cli.common import describe, load_config, open_log, positive_int, sign_in, signin_options, station_options
from storage import audit
from storage.export import purge_audit_older_than, purge_older_than
from storage.retention import Plan, UpstreamCheck, describe as describe_plan, pulled_past
from storage.sync import Sync, SyncError

EXAMPLES = """
gate purge --user wu
gate purge --older-than 30 --user wu --pin-stdin < pin.txt
"""


def add_purge(p: argparse.ArgumentParser) -> None:
    describe(p, "Delete screenings and audit events past retention: only what the configured upstream confirmed "
                "(never quarantined records; with no upstream configured, by age and it says so). An anchor keeps "
                "the last purged hash, so the rest still verifies. Needs an auditor.", EXAMPLES, purge)
    station_options(p)
    p.add_argument("--older-than", type=positive_int, metavar="DAYS", help="default: [retention] in the config")
    signin_options(p, "an auditor")


def purge(args: argparse.Namespace) -> None:
    cfg = load_config(args)
    days = args.older_than or cfg.retention_days
    with open_log(args, cfg, existing=True) as log:
        user = sign_in(args, cfg, log, "purge")
        # Only what the configured upstream confirmed is deleted; no upstream configured: age alone decides.
        sync = Sync(log, cfg.upstream_url, school_id=cfg.school_id) if cfg.upstream_url else None
        check = UpstreamCheck(sync) if sync else None
        try:
            result = purge_older_than(log, days, station_id=cfg.station_id, actor=user.name, upstream=check)
            audit_result = purge_audit_older_than(log, cfg.audit_retention_days, station_id=cfg.station_id,
                                                  actor=user.name, upstream=check)
        except SyncError as exc:
            raise UpstreamFailure(f"purge: {exc}; nothing more was purged") from None
        finally:
            if sync:
                sync.close()
        ok = log.verify().ok and audit.verify(log).ok
        pulled = pulled_past(log, args.clock() - days * 86400)  # kept whole: storage.retention.pulled_past says why
    shown = check.shown_url if check else None
    print(f"purged {audit_result['rows']} audit events older than {cfg.audit_retention_days} days")
    for line in describe_plan(Plan(kept=audit_result["kept"]), "audit events", shown):
        print(line)
    print(f"purged {result['rows']} screenings older than {days} days; chain {'verifies' if ok else 'BROKEN'}")
    for line in describe_plan(Plan(kept=result["kept"]), "screenings", shown):
        print(line)
    if pulled:
        print(f"kept {pulled:,} record(s) pulled from the school's other gates past retention (their fevers, "
              "clearances, holds and case events): never purged here yet; they keep a pupil refused until cleared "
              "at any gate, and the school's upstream holds them")
    if not check:
        print("no upstream configured ([upstream] url): purged by age only")
    if not ok:
        raise CheckFailed("after the purge the chain does not verify: run gate verify and keep this log file")


COMMANDS = {"purge": add_purge}
