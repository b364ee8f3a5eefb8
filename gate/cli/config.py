"""`gate config check FILE` and `gate config example`."""
from __future__ import annotations

import argparse

from gate.cli.common import actions, read_config
from gate.config import EXAMPLE


def add_config(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    check_p = add("check", "Validate a config file; every problem names its key and the allowed values.",
                  "gate config check /etc/gate/station.toml", check)
    check_p.add_argument("file", metavar="FILE", help="the TOML file to check")
    add("example", "Print an example config, with a comment on every key.",
        "gate config example > station.toml", example)


def check(args: argparse.Namespace) -> None:
    cfg = read_config(args.file)
    print(f"ok: {args.file}: station {cfg.station_id}, threshold {cfg.threshold_c} °C, mask {cfg.mask_mode}, "
          f"{len(cfg.sensors)} sensor(s)")


def example(_args: argparse.Namespace) -> None:
    print(EXAMPLE, end="")


COMMANDS = {"config": add_config}
