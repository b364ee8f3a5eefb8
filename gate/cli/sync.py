"""`gate sync [send]` (send the log upstream), `gate sync status` and `gate sync verify` (upstream against the log)."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager, suppress
from typing import Iterator

from domain.errors import CheckFailed, UpstreamFailure, UsageError
from gate.school_day import other_keepers, share_roster
from gate.cli.common import (actions, json_option, load_config, open_log, shown, sign_in, signin_options,
                             station_options, upstream_option)
from gate.cli.sensors import stop_on_sigterm
from gate.auth import AuthError
from gate.config import Config
from storage.sync import Sync, SyncError
from storage.sync_known import FIRST_SYNC

SEND = """
gate sync --upstream postgresql://gate@district-db/screening
gate sync send --watch --interval 10 --config /etc/gate/station.toml
"""
STATUS = """
gate sync status
gate sync status --json --upstream postgresql://gate@district-db/screening
"""
VERIFY = """
gate sync verify
gate sync verify --upstream postgresql://gate@district-db/screening --json
gate sync verify --deep      # also recompute the hash of each row the upstream keeps of what was purged here
"""


URL = "SQLAlchemy URL, e.g. postgresql://gate@host:5432/screening (default: [upstream] url)"


def add_sync(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="send")
    s = add("send", "Send what is pending upstream (the default action: `gate sync` is `gate sync send`). "
                    "--once against an unreachable upstream prints one line and exits 1; so does a round that quarantined "
                    "records the upstream refused.", SEND, send,
            aliases=["run"])
    station_options(s)
    upstream_option(s, URL, required=False)
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="send what is pending and stop (default)")
    mode.add_argument("--watch", action="store_true", help="keep sending; back off and retry while upstream is down")
    s.add_argument("--interval", type=float, default=5.0, help="--watch: seconds between rounds (default 5)")
    signin_options(s, "an admin, to send to an upstream other than the configured one, or to one this log never "
                      "synced with (the first sync, with PINs on)")
    json_option(s, "print the result as JSON: sent, quarantined, pending")
    st = add("status", "What is pending and quarantined, the last success and the last error.", STATUS, status)
    station_options(st)
    upstream_option(st, URL, required=False)
    json_option(st)
    v = add("verify", "Compare every screening sent upstream with the log, every column, by ranges of 10,000 "
                      "(only a range that differs is opened row by row); a difference exits 1 and names the first "
                      "row (seq) that differs. Rows purged here are checked against what the upstream keeps of them; "
                      "rows not sent yet are counted as pending.", VERIFY, verify)
    station_options(v)
    upstream_option(v, URL, required=False)
    v.add_argument("--deep", action="store_true",
                   help="also recompute, with the station key, the hash of every row the upstream keeps of the range "
                        "purged here (slower: one row at a time)")
    json_option(v, "print the report as one JSON line")


def upstream_url(args: argparse.Namespace, cfg: Config) -> str:
    url = args.upstream or cfg.upstream_url
    if not url:
        raise UsageError("no upstream: give --upstream URL (e.g. postgresql://gate@district-db/screening) "
                         "or set [upstream] url in the config")
    return url


class FirstSync:
    """With PINs on, the first sync to an upstream this log never synced with (storage.sync_known) needs an admin's
    sign-in, whether its URL came from the config or the command line: else refused (audited), nothing sent.
    `--watch` without a sign-in waits, the refusal noted for `gate sync status` and the duty screen."""

    def __init__(self, args: argparse.Namespace, cfg: Config, log, signed_in: bool):
        self.args, self.cfg, self.log, self.allowed, self.refused = args, cfg, log, signed_in, False

    def __call__(self, sync: Sync) -> None:
        from gate.auth import Auth, AuthError, NotSignedIn

        if self.allowed or not Auth(self.log, self.cfg.station_id, self.cfg.security).has_users():
            return
        if self.args.user and not self.refused:
            try:
                sign_in(self.args, self.cfg, self.log, "sync-new-upstream")  # audits its own refusals
                self.allowed = True
                return
            except (AuthError, NotSignedIn) as exc:
                self.refused = True
                raise AuthError(f"{exc} (the first sync to {sync.shown_url})") from None
        line = (f"{FIRST_SYNC}: this log never synced with {sync.shown_url}; nothing was sent: an admin signs in "
                "for the first sync: gate sync --user NAME --pin-stdin")
        if not self.refused:
            from storage import audit

            audit.record(self.log, self.cfg.station_id, "(not signed in)", "refused",
                         {"action": "sync-new-upstream", "why": "not signed in", "upstream": sync.shown_url})
            self.refused = True
        raise SyncError(line) if self.args.watch else AuthError(line)


@contextmanager
def syncing(args: argparse.Namespace, url_needed: bool = True, sending: bool = False) -> Iterator[Sync]:
    """A Sync over the log; a failure is noted in the log (for `gate sync status`) before it is reported.

    Sending the log (ids, temperatures) anywhere but the configured upstream needs an admin's sign-in, and so does
    the first sync to any upstream (FirstSync)."""
    cfg = load_config(args)
    with open_log(args, cfg, existing=True) as log:
        url = upstream_url(args, cfg) if url_needed else (args.upstream or cfg.upstream_url
                                                          or "(no upstream configured)")
        signed_in = sending and url != cfg.upstream_url and bool(sign_in(args, cfg, log, "sync-new-upstream"))
        sync = Sync(log, url, school_id=cfg.school_id, school_name=cfg.school_name, station_id=cfg.station_id,
                    sessions=cfg.school_sessions(), clock=args.clock,  # when sessions ended: the tests set the hour
                    lock_wait_s=cfg.upstream_lock_wait_s, make_day_wait_s=cfg.upstream_make_day_wait_s,
                    first_sync=FirstSync(args, cfg, log, signed_in) if sending else None)
        try:
            yield sync
        except (SyncError, AuthError) as exc:
            sync.note_error(str(exc))
            raise
        finally:
            sync.close()


def send(args: argparse.Namespace) -> None:
    with syncing(args, sending=True) as sync:
        if args.watch:
            with suppress(KeyboardInterrupt):  # Ctrl-C is how --watch is stopped
                sync.watch(stop_on_sigterm(), interval_s=args.interval,
                           on_result=lambda r: r.sent and print(f"sent {r.sent}, quarantined {r.quarantined}, "
                                                                f"pending {r.pending}", flush=True),
                           on_error=lambda m: print(f"gate: sync: {m}; retrying", file=sys.stderr, flush=True))
            return
        result = sync.once()
        shared = share_roster(sync.log, load_config(args), sync.engine())
        two_keepers = other_keepers(load_config(args), sync.engine())
    if shared and not args.json:
        print("roster shared with the school's upstream ([upstream] share_roster)")
    print(json.dumps(result.__dict__) if args.json else
          f"sent {result.sent}, quarantined {result.quarantined}, pending {result.pending}"
          + (f", pulled {result.pulled} from the school's other gates" if result.pulled else "")
          + (f", {result.cases_pulled} follow-up case event(s) from the other gates" if result.cases_pulled else "")
          + (f", {result.settled} not-seen case(s) closed: seen at another gate" if result.settled else ""))
    if two_keepers:
        print(f"gate: sync: {two_keepers}", file=sys.stderr)
    if result.waiting_days and not args.json:  # sent and safe; the owner's maintenance files them by day
        days = ", ".join(result.waiting_days[:3]) + (" …" if len(result.waiting_days) > 3 else "")
        print(f"gate: sync: no day partition upstream for {days}: those rows wait in the default partition (nothing "
              "lost); the database's owner runs gate upstream maintain, which makes the days ahead and files them",
              file=sys.stderr)
    if result.quarantined:  # refused records stay in the log (never purged) until someone fixes the cause
        held = any("changed outside the station" in e for e in result.errors)  # storage.held: word sent upward
        raise UpstreamFailure(f"sync: {result.quarantined} record(s) quarantined, kept here and never purged; "
                              f"first: {result.errors[0]}; see gate sync status"
                              + ("; every gate of the school refuses the pupils such records are about until an "
                                 "auditor here runs gate verify, undoes the edit and runs gate held lift (see gate "
                                 "held list)" if held else ""))


def status(args: argparse.Namespace) -> None:
    with syncing(args, url_needed=False) as sync:
        state = sync.status()
    print(json.dumps(state, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in state.items()))


def verify(args: argparse.Namespace) -> None:
    with syncing(args) as sync:
        report = sync.verify({load_config(args).station_id}, deep=args.deep)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    for what, section in (("screening", "stations"), ("audit event", "audit")):
        for station, r in report[section].items():
            first, label = r["first"], "" if what == "screening" else " audit events"
            if not args.json:
                print(f"{shown(station)}{label}: {r['compared']:,} rows compared in {r['ranges']} range(s), "
                      f"{r['differences']:,} differ, {r['pending']:,} pending; {r['purged']}")
            if first:
                print(f"DIFFERS: station {shown(station)}, {'' if what == 'screening' else what + ' '}"
                      f"seq {first['seq']}" + (f" ({what} {first['id']})" if first["id"] else "")
                      + f": {first['detail']}"
                      + (f"; {r['differences'] - 1:,} more row(s) differ" if r["differences"] > 1 else ""),
                      file=sys.stderr)
    if not report["ok"]:
        raise CheckFailed(f"the upstream {report['upstream']} differs from the log (first difference above)")
    if not args.json:
        print(f"ok: the upstream {report['upstream']} holds every synced screening and audit event as the log does "
              f"({report['seconds']:.1f} s)")


COMMANDS = {"sync": add_sync}
