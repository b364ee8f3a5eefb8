"""`gate purge`: delete screenings (and audit events) past retention, never unsynced ones, and the records pulled from
the school's other gates past it that the gate no longer needs; the chains still verify."""
from __future__ import annotations

import argparse

from domain.errors import CheckFailed, UpstreamFailure
from gate.cli.common import describe, load_config, open_log, positive_int, sign_in, signin_options, station_options
from storage import audit
from storage.export import purge_audit_older_than, purge_older_than
from storage.errors import StorageError
from storage.pulled_retention import Outcome, describe as describe_pulled, purge_pulled
from storage.retention import Plan, UpstreamCheck, describe as describe_plan
from storage.sync import Sync, SyncError

EXAMPLES = """
gate purge --user wu
gate purge --older-than 30 --user wu --pin-stdin < pin.txt
"""


def add_purge(p: argparse.ArgumentParser) -> None:
    describe(p, "Delete screenings and audit events past retention: only what the configured upstream confirmed "
                "(never quarantined records; with no upstream configured, by age and it says so), and what was "
                "pulled from the school's other gates past it that the gate no longer needs. An anchor keeps "
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
        try:
            refused, unread = still_refused(log), ""
        except StorageError as exc:  # who is refused cannot be known: none of the pulled records goes
            refused, unread = None, str(exc)
        pulled = purge_pulled(log, args.clock() - days * 86400, refused=refused or [], station_id=cfg.station_id,
                              actor=user.name, now=args.clock()) if refused is not None else Outcome()
        ok = log.verify().ok and audit.verify(log).ok
    shown = check.shown_url if check else None
    print(f"purged {audit_result['rows']} audit events older than {cfg.audit_retention_days} days")
    for line in describe_plan(Plan(kept=audit_result["kept"]), "audit events", shown):
        print(line)
    print(f"purged {result['rows']} screenings older than {days} days; chain {'verifies' if ok else 'BROKEN'}")
    for line in describe_plan(Plan(kept=result["kept"]), "screenings", shown):
        print(line)
    print(f"purged {pulled.records} record(s) pulled from the school's other gates (fevers, certificates, clearances, "
          f"holds) and {pulled.cases} of their case events older than {days} days (the school's upstream keeps them)")
    for line in describe_pulled(pulled):
        print(line)
    if unread:
        print(f"kept every record pulled from the school's other gates: {unread}")
    if not check:
        print("no upstream configured ([upstream] url): purged by age only")
    if not ok:
        raise CheckFailed("after the purge the chain does not verify: run gate verify and keep this log file")


def still_refused(log) -> list[str]:  # noqa: ANN001 - storage.log.ScreeningLog
    """The pupils the gate still refuses or holds (a fever or certificate not cleared, another gate's hold not
    lifted): their pulled records stay (storage.pulled_retention)."""
    from gate.clearance import certificates_waiting, waiting
    from storage.school_records import holds

    return [*(s.entrant_id for s in waiting(log)), *(c.entrant_id for c in certificates_waiting(log)),
            *(who for who, _hold in holds(log))]


COMMANDS = {"purge": add_purge}
