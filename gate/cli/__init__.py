"""The `gate` command line: one module per command group, each a thin layer over the core.

Only the module of the command being run is imported (see GROUPS), so `gate --help` and `gate screen` do not pay for
the libraries of the other commands. Every failure ends in `main`: one line on stderr (plus one line per problem when
a file has several) and the exit code of its kind, from EXIT_CODES, the one table of exit codes. No traceback reaches
the person at the terminal: an unexpected error prints one line and where its details were written.

Adding a command: a module here with ``COMMANDS = {"name": add_name}``, where ``add_name(parser)`` describes the
command (``common.describe``, or ``common.actions`` for sub-actions, each with examples) and sets ``func``; a line in
GROUPS (and in HOMES when the module has another name). Commands that touch the log take ``common.station_options``
(--config, --db) and open it with ``common.load_config`` / ``common.open_log``; commands that need a signed-in person
take ``common.signin_options`` (--user, --pin-stdin) and call ``common.sign_in(args, cfg, log, action)``. Raise a kind
from ``domain.errors``; the exit code follows from EXIT_CODES.
"""
from __future__ import annotations

import gc
import importlib
import os
import sys
import time
from typing import Callable

from domain.errors import (CheckFailed, DeviceFailure, GateError, Refused, StorageFailure, UpstreamFailure,
                           UsageError)
from domain.identifiers import escaped
from gate.cli.common import (EscapingOutput, GateParser, example_text, innermost,  # noqa: F401 (one_line: tests)
                             one_line)

# command -> its one line in `gate --help`; the order is the order of `gate --help`
GROUPS = {
    "run": "run the station (terminal UI, or --headless JSON lines)",
    "demo": "the station on a simulated sensor, no hardware; data in a temporary folder",
    "screen": "record one screening through the policy and log, print the decision",
    "verify": "recompute the log's hash chain; non-zero exit names the first bad row",
    "config": "check a config file or print an example",
    "mask": "check images for a masked face, or train the mask classifier",
    "calibrate": "calibrate sensors against a blackbody: run, fit, check, list, show",
    "sync": "send the log upstream; its status; compare upstream with the log",
    "export": "export screenings for auditors, or verify an export against its manifest",
    "report": "the daily report for the bureau, or who on the roster was not screened",
    "roster": "import the roster, list it, approve visitors",
    "purge": "delete screenings past retention; the chain stays verifiable",
    "users": "manage users and PINs: add, list, reset-pin, disable, enable, role",
    "clearance": "let a person with a confirmed fever back in (doctor's note), list who waits",
    "school": "one school's daily report across all its gates, from its upstream",
    "followup": "follow-up cases of absences, fevers and refusals: list, close with the outcome",
    "audit": "the audit trail: who did what",
    "held": "pupils refused because a gate holds back an edited record about them: list, lift",
    "bureau": "the education bureau's view: schools reported today, late ones, in a terminal or a browser",
    "upstream": "the district database: day partitions ahead and retention, the schools expected",
    "sim": "simulate a thermometer on a pseudo-terminal",
    "read": "print readings from a sensor as they arrive",
    "ports": "list serial ports with vendor, product and by-id path",
}
# The module of gate.cli that describes a command, where it is not the command's own name.
HOMES = {"demo": "run", "sim": "devices", "read": "devices", "ports": "devices"}

# The one table of exit codes (the README's "Exit codes" table says the same). First match wins. The codes are the
# ones scripts have relied on since the first release (1 failed or refused, 2 bad input or no such port, 3 log).
EXIT_OK = 0
EXIT_CODES: tuple[tuple[type[GateError], int, str], ...] = (
    (CheckFailed, 1, ""),
    (Refused, 1, "refused: "),
    (UpstreamFailure, 1, ""),
    (UsageError, 2, ""),
    (DeviceFailure, 2, ""),
    (StorageFailure, 3, "log failure: "),
)
EXIT_INTERNAL = 70  # a fault in the station's own code (sysexits' EX_SOFTWARE); details go to the error log
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it

EXAMPLES = """
gate demo
gate screen --temp 36.6 --mask yes --entrant S1024
gate run --config /etc/gate/station.toml
gate calibrate fit --help
"""


def build_parser(argv: list[str] | None = None, *, every_command: bool = False) -> GateParser:
    """The parser; only the command named in ``argv`` (or every one) gets its full sub-parser, the rest are listed."""
    p = GateParser(prog="gate", description="Temperature screening station for a school gate.",
                   epilog=example_text(EXAMPLES) + "\n\nEvery command and action has --help; exit codes: see README.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=GateParser)
    wanted = None if every_command else next((a for a in (argv or []) if not a.startswith("-")), None)
    for name, help in GROUPS.items():
        if wanted in GROUPS and name != wanted:
            continue  # `gate screen` needs no parser for the other commands: `gate --help` or a typo lists them all
        sp = sub.add_parser(name, help=help, description=help)
        if every_command or name == wanted:
            importlib.import_module(f"gate.cli.{HOMES.get(name, name)}").COMMANDS[name](sp)
    return p


def parse(argv: list[str], *, whole_process: bool = False):
    """The command's arguments, its modules loaded. The cyclic garbage collector waits while they load: they make
    tens of thousands of objects that live as long as the process, which it would otherwise scan again and again
    (about a tenth of `gate screen`'s start-up, bench/cli_startup.py). When this process is the command
    (``whole_process``), they are then frozen out of every later collection; a caller that runs many commands in one
    process (the tests) keeps its own garbage collectable."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        parser = build_parser(argv)
        args, extras = parser.parse_known_args(argv)
        if extras:  # said by the command's (or action's) own parser, so the line names its --help
            innermost(parser, args).error(f"unrecognized arguments: {' '.join(extras)}")
        return args
    finally:
        if whole_process:
            gc.freeze()
        if enabled:
            gc.enable()


def exit_code(exc: GateError) -> tuple[int, str]:
    for kind, code, prefix in EXIT_CODES:
        if isinstance(exc, kind):
            return code, prefix
    return EXIT_INTERNAL, ""


def print_failure(exc: GateError) -> int:
    code, prefix = exit_code(exc)
    message = one_line(exc)
    print(f"gate: {prefix}{message}", file=sys.stderr)
    for problem in map(one_line, exc.problems):
        if problem not in message:  # a short list is often in the message already
            print(f"  - {problem}", file=sys.stderr)
    return code


def not_utf8(argv: list[str]) -> str | None:
    """The first argument that was not UTF-8 text (Python keeps its bytes as lone surrogates), shown escaped."""
    for i, arg in enumerate(argv, 1):
        if any("\udc80" <= c <= "\udcff" for c in arg):
            return f"argument {i} ({escaped(arg)}) is not UTF-8 text: retype it, or rename the file it names"
    return None


def main(argv: list[str] | None = None, clock: Callable[[], float] | None = None) -> int:
    """``clock``: what "now" is for the commands that read it as ``args.clock`` (default: the machine's time)."""
    whole_process = argv is None  # the console script, or python -m gate.cli
    argv = sys.argv[1:] if argv is None else list(argv)
    streams = sys.stdout, sys.stderr
    terminal_ui = argv[:1] in (["run"], ["demo"]) and "--headless" not in argv  # Textual draws on the terminal
    if not terminal_ui and not isinstance(sys.stdout, EscapingOutput):
        sys.stdout, sys.stderr = EscapingOutput(sys.stdout), EscapingOutput(sys.stderr)
    try:
        return _main(argv, whole_process, clock or time.time)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str], whole_process: bool = False, clock: Callable[[], float] = time.time) -> int:
    try:
        if (problem := not_utf8(argv)) is not None:
            raise UsageError(problem)
        args = parse(argv, whole_process=whole_process)
        args.clock = clock
        args.func(args)
        return EXIT_OK
    except GateError as exc:
        return print_failure(exc)
    except SystemExit as exc:  # --help, and argparse's own exits
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        print("gate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `gate roster list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # else Python complains when it flushes
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001  the one place a fault in the station's own code is caught
        from gate.cli.crash import write_crash_report  # only on the way out of a fault

        where = write_crash_report(exc, argv)
        print(f"gate: unexpected {type(exc).__name__}: {one_line(exc)[:200]} "
              f"(a fault in the station's software; details in {where})", file=sys.stderr)
        return EXIT_INTERNAL
