"""`gate users add | list | reset-pin | disable | enable | role`: who may use the station, with which role."""
from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager
from typing import Iterator

from gate.auth import ROLES, Auth
from gate.cli.common import (Pins, actions, class_list, load_config, open_log, person, sign_in, signed_in,
                             signin_options, station_options)

ADD = """
gate users add admin --role admin                      # the first user: no sign-in yet
gate users add zhang --role duty --user admin          # later ones: an admin signs in
printf '900001\\n111111\\n' | gate users add zhang --role duty --user admin --pin-stdin
gate users add chen --role teacher --classes "三年级二班,三年级三班" --user admin
"""
LIST = """
gate users list
gate users list --json
"""
RESET = """
gate users reset-pin zhang --user admin
"""
DISABLE = """
gate users disable zhang --user admin
"""
ENABLE = """
gate users enable zhang --user admin
"""
ROLE = """
gate users role wu --role admin --user admin
"""
PINS = "read PINs from standard input, one per line: the admin's (if --user), then the new one"


def add_users(p: argparse.ArgumentParser) -> None:
    add = actions(p)
    a = add("add", "Add a user with a role and a PIN (6–32 digits). The first user must be an admin; later ones "
                   "need --user ADMIN.", ADD, add_user)
    a.add_argument("name", metavar="NAME", type=person)
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--classes", metavar="C1,C2", type=class_list, default=(),
                   help="a teacher's classes, as the roster names them, comma-separated (the only ones it may see)")
    li = add("list", "Every user with role and state (active, locked until HH:MM, disabled); never PIN hashes.",
             LIST, list_users)
    li.add_argument("--json", action="store_true", help="one JSON line per user")
    r = add("reset-pin", "Give a user a new PIN; clears failures and lock. Needs an admin.", RESET, reset_pin)
    r.add_argument("name", metavar="NAME", type=person)
    d = add("disable", "Disable a user (kept in the audit trail, can no longer sign in). Needs an admin.",
            DISABLE, disable)
    d.add_argument("name", metavar="NAME", type=person)
    e = add("enable", "Let a disabled user sign in again. Needs an admin (a disabled admin cannot enable "
                      "themselves).", ENABLE, enable)
    e.add_argument("name", metavar="NAME", type=person)
    ro = add("role", "Give a user another role. Needs an admin; the last active admin keeps the role.", ROLE,
             set_role)
    ro.add_argument("name", metavar="NAME", type=person)
    ro.add_argument("--role", required=True, choices=ROLES)
    for sp in (a, li, r, d, e, ro):
        station_options(sp)
        signin_options(sp, "the admin doing this (not needed for the very first user)", pins=PINS)


def _auth(args: argparse.Namespace, cfg, log) -> tuple[Auth, object, Pins]:
    """The station's users, the signed-in admin (None for the very first user) and where PINs come from."""
    pins = Pins(args.pin_stdin)
    auth = Auth(log, cfg.station_id, cfg.security)
    actor = sign_in(args, cfg, log, "manage-users", pins) if auth.has_users() else None
    return auth, actor, pins


@contextmanager
def _managing(args: argparse.Namespace) -> Iterator[tuple]:
    """The log opened, the admin signed in: (auth, actor, pins) for one user-management action."""
    cfg = load_config(args)
    with open_log(args, cfg) as log:
        yield _auth(args, cfg, log)


def add_user(args: argparse.Namespace) -> None:
    with _managing(args) as (auth, actor, pins):
        auth.add_user(args.name, args.role, pins.ask(f"new PIN for {args.name}: ", confirm=True), actor,
                      classes=args.classes)
    print(f"user {args.name} ({args.role}) added" + (f" for {', '.join(args.classes)}" if args.classes else ""))


def reset_pin(args: argparse.Namespace) -> None:
    with _managing(args) as (auth, actor, pins):
        auth.reset_pin(args.name, pins.ask(f"new PIN for {args.name}: ", confirm=True), actor)
    print(f"PIN of {args.name} reset; failures and lock cleared")


def disable(args: argparse.Namespace) -> None:
    with _managing(args) as (auth, actor, _):
        auth.disable(args.name, actor)
    print(f"user {args.name} disabled")


def enable(args: argparse.Namespace) -> None:
    with _managing(args) as (auth, actor, _):
        auth.enable(args.name, actor)
    print(f"user {args.name} enabled")


def set_role(args: argparse.Namespace) -> None:
    with _managing(args) as (auth, actor, _):
        before = next((u["role"] for u in auth.users() if u["name"] == args.name), None)
        auth.set_role(args.name, args.role, actor)
    print(f"{args.name} is now {args.role} (was {before})")


def list_users(args: argparse.Namespace) -> None:
    with signed_in(args, "users-list", existing=True) as (cfg, log, user):
        users = Auth(log, cfg.station_id, cfg.security).users()
    for u in users:
        locked = u["locked_until"] and u["locked_until"] > args.clock()
        state = "disabled" if u["disabled"] else (
            f"locked until {time.strftime('%H:%M', time.localtime(u['locked_until']))}" if locked else "active")
        classes = ("  " + ", ".join(u["classes"])) if u["classes"] else ""
        print(json.dumps({**u, "state": state}, ensure_ascii=False) if args.json
              else f"{u['name']:<20} {u['role']:<12} {state}{classes}")


COMMANDS = {"users": add_users}
