"""`gate config check FILE`, `gate config apply FILE` (an admin changes the stored screening policy) and
`gate config example`."""
from __future__ import annotations

import argparse
import sys

from domain.errors import GateError

from gate.cli.common import actions, open_log, operator, read_config, sign_in, signin_options
from gate.cli.log_path import a_path
from gate.config_example import example as example_config


def add_config(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    check_p = add("check", "Validate a config file; every problem names its key and the allowed values.",
                  "gate config check /etc/gate/station.toml", check)
    check_p.add_argument("file", metavar="FILE", help="the TOML file to check")
    check_p.add_argument("--db", metavar="PATH", type=a_path("--db"), help="the station's log, whose last sync tells whether another gate "
                         "of the school keeps the absence cases too (default: from FILE, else per-user data)")
    apply_p = add("apply", "Make FILE's screening policy (threshold, mask mode, ranges, calibration rule, body-site "
                  "offset, sensors) the station's: an admin signs in; the change is audited from -> to. Until then "
                  "every command given a differing config refuses.",
                  "gate config apply /etc/gate/station.toml --user wang\n"
                  "echo 123987 | gate config apply new.toml --user wang --pin-stdin", apply)
    apply_p.add_argument("file", metavar="FILE", help="the TOML file whose policy to apply")
    apply_p.add_argument("--db", metavar="PATH", type=a_path("--db"), help="the log file (default: from FILE, else per-user data)")
    signin_options(apply_p, "the admin applying it")
    add("example", "Print an example config, with a comment on every key.",
        "gate config example > station.toml", example)


def check(args: argparse.Namespace) -> None:
    cfg = read_config(args.file)
    print(f"ok: {args.file}: station {cfg.station_id}, threshold {cfg.threshold_c} °C, mask {cfg.mask_mode}, "
          f"{len(cfg.sensors)} sensor(s)")
    if cfg.absence_cases == "school" and cfg.school:
        print(f"gate: config check: {_keepers(args, cfg)}", file=sys.stderr)


def _keepers(args: argparse.Namespace, cfg) -> str:
    """Whether another gate of the school keeps the absence cases too, as far as the log knows without the network:
    from the other gates' case events its last sync pulled (gate sync asks the upstream itself)."""
    from gate.school_day import pulled_keepers

    try:
        with open_log(args, cfg, read_only=True, existing=True) as log:
            warning, synced = pulled_keepers(cfg, log)
    except GateError as exc:
        return (f"note: cannot tell whether another gate of {cfg.school} keeps the absence cases too ({exc}); "
                "gate sync warns when one does")
    if warning:
        return warning + " (from what this log's last sync pulled)"
    if not synced:
        return (f"note: cannot tell whether another gate of {cfg.school} keeps the absence cases too: this log has "
                "never synced with the school; gate sync warns when one does")
    return (f"note: no other gate of {cfg.school} opened absence cases up to this log's last sync: this gate keeps "
            "them alone")


def apply(args: argparse.Namespace) -> None:
    from gate.station_policy import enforce  # the log: only for the command that changes it
    from storage import policy

    cfg = read_config(args.file)
    with open_log(args, cfg) as log:
        user = sign_in(args, cfg, log, "policy")
        first = policy.current(log) is None
        changes = enforce(cfg, log, actor=operator(args, user), apply=True)
    if first:
        print(f"applied {args.file}: the station's first screening policy (threshold {cfg.threshold_c} °C, "
              f"mask {cfg.mask_mode}, {len(cfg.sensors)} sensor(s))")
    elif changes:
        print(f"applied {args.file}: " + "; ".join(str(c) for c in changes))
    else:
        print(f"ok: {args.file} is the station's policy already; nothing changed")


def example(_args: argparse.Namespace) -> None:
    print(example_config(), end="")


COMMANDS = {"config": add_config}
