"""What every command group shares: the parser class, the station options (--config, --db), sign-in (--user,
--pin-stdin) and small argument types. Imports nothing heavy: the log's libraries load only when a command opens it."""
from __future__ import annotations

import argparse
import getpass
import re
import sys
import textwrap
from pathlib import Path
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from domain.errors import UsageError
from domain.identifiers import ID_MAX, NAME_MAX, IdentifierError, check_class, check_id, check_text, escaped
from gate.cli.log_path import a_path, check_log_path

if TYPE_CHECKING:
    from gate.user import User
    from gate.config import Config
    from storage.log import ScreeningLog


class GateParser(argparse.ArgumentParser):
    """argparse, with one-line errors raised as UsageError (the exit code is chosen in one place, main) and examples
    kept as written."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # argparse's own: usage + message + exit 2; we want one line and one exit table
        if message.startswith("unrecognized arguments") and _DIGITS.search(message):
            # `--pin-stdin 123456`: a PIN typed as an argument is not repeated on the screen (or in a log of it).
            message = _DIGITS.sub("[digits hidden]", message) + "; " + PIN_ON_ARGV
        raise UsageError(f"{message} (see {self.prog} --help)")


_DIGITS = re.compile(r"\d{4,}")
PIN_ON_ARGV = ("a PIN is never an argument (ps and the shell history would show it): give --pin-stdin and the PIN "
               "on standard input, or type it when asked")


class _PinOnArgv(argparse.Action):
    """`--pin 123456`: refused at once, without echoing the PIN."""

    def __call__(self, parser, namespace, values, option_string=None):
        raise UsageError(PIN_ON_ARGV)


class DefaultAction(GateParser):
    """A command group with a default action, for the short forms the README has always given: `gate mask IMAGE`
    is `gate mask check IMAGE`, `gate sync --once` is `gate sync send --once`."""

    default_action: str | None = None

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        named = self._actions_by_name()
        if self.default_action and not (args and (args[0] in named or args[0] in ("-h", "--help"))):
            if args and not args[0].startswith("-") and not _positionals(named[self.default_action]):
                # `gate sync sned`: a word where an action goes, and the default action takes no word, is a typo
                self.error(f"argument ACTION: invalid choice: {args[0]!r} (choose from "
                           f"{', '.join(map(repr, named))})")
            args.insert(0, self.default_action)
        return super().parse_known_args(args, namespace)

    def _actions_by_name(self) -> dict:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return {}


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not a.option_strings]


def innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the command (and action) that ``args`` ran: the one whose --help a mistake should point to."""
    for name in ("command", "action"):
        subs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if subs is None or getattr(args, name, None) not in subs.choices:
            break
        parser = subs.choices[getattr(args, name)]
    return parser


def actions(parser: GateParser, default: str | None = None,
            every: Callable[[GateParser], object] | None = None) -> Callable[..., GateParser]:
    """Sub-actions of a command group; returns ``add(name, help, examples, func)`` that makes one action's parser.
    ``every``: the options every action of the group takes first (``station_options`` for a group on the log)."""
    if default is not None:
        parser.__class__ = DefaultAction
        parser.default_action = default
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=GateParser)

    def add(name: str, help: str, examples: str, func: Callable | None = None, **kw) -> GateParser:
        summary = help.split(". ")[0].rstrip(".")  # the first sentence lists the action; --help shows it all
        sp = sub.add_parser(name, help=summary[:1].lower() + summary[1:], description=help,
                            epilog=example_text(examples), **kw)
        if func is not None:
            sp.set_defaults(func=func)
        if every is not None:
            every(sp)
        return sp

    return add


def example_text(examples: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  ")


def describe(parser: GateParser, help: str, examples: str, func: Callable | None = None) -> GateParser:
    """A command without sub-actions: its description, its examples, the function that runs it."""
    parser.description = help
    parser.epilog = example_text(examples)
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def one_line(text: object) -> str:
    """A message or a listed value as one printable line, whatever a typed value or a file smuggled into it
    (newlines, carriage returns, terminal escapes that could paint a fake ADMIT or a forged line on the operator's
    terminal): every character that is not printable is shown escaped, as Python writes it (\\x1b, \\r)."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(str(text).splitlines()))


def shown(text: object) -> str:
    """A value for a listing on the terminal: like one_line, and a line break inside it is shown, not obeyed."""
    return escaped(str(text))


class EscapingOutput:
    """Standard output or error of a command: whatever it prints, every character a terminal would obey instead of
    show (ESC, CR, bidi overrides ...) is written escaped (domain.identifiers.escaped); newlines and tabs pass. So
    no listing (audit list, roster list, users list, reports ...) can echo a value from the log raw, whoever wrote
    it there. JSON stays valid: the escapes are JSON's. ``raw`` is the stream itself, for the station's own progress
    bar (a carriage return)."""

    def __init__(self, stream):
        self.raw = stream

    def write(self, text: str) -> int:
        # A CR right before a newline (csv's line ending) moves nothing; a lone one could overwrite the line.
        self.raw.write("\r\n".join(escaped(part, keep="\n\t") for part in text.split("\r\n")))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.raw, name)


# -- options every station command shares ----------------------------------------------------------------------------
def station_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--config", metavar="FILE", type=a_path("--config"),
                   help="station config (TOML); see `gate config example`")
    p.add_argument("--db", metavar="PATH", type=a_path("--db"),
                   help="the log file (default: from the config, else per-user data)")
    return p


def upstream_option(p: argparse.ArgumentParser, help: str, required: bool = True) -> argparse.ArgumentParser:
    """--upstream URL, for every command that reaches an upstream database: refused at once when the URL holds a
    password (every account on the machine sees the command line in ps)."""
    p.add_argument("--upstream", metavar="URL", type=_upstream_url, required=required,
                   help=f"{help}; no password in it: it comes from ~/.pgpass, PGPASSFILE or PGPASSWORD")
    return p


def _upstream_url(text: str) -> str:
    from storage.upstream_url import UpstreamUrlError, check  # SQLAlchemy's URL parser: only with an --upstream

    try:
        return check(text)
    except UpstreamUrlError as exc:  # ArgumentTypeError: argparse would repeat the value (the password) otherwise
        raise argparse.ArgumentTypeError(str(exc)) from None


def signin_options(p: argparse.ArgumentParser, who: str = "who is doing this",
                   pins: str = "read the PIN from standard input instead of asking on the terminal"
                   ) -> argparse.ArgumentParser:
    """--user NAME and --pin-stdin, for every command that needs a signed-in person (see sign_in)."""
    p.add_argument("--user", metavar="NAME", type=person,
                   help=f"{who}: signs in with the PIN (recorded in the audit trail)")
    p.add_argument("--pin-stdin", action="store_true", help=pins)
    p.add_argument("--pin", action=_PinOnArgv, help=argparse.SUPPRESS)
    return p


def json_option(p: argparse.ArgumentParser, what: str = "print JSON") -> None:
    p.add_argument("--json", action="store_true", help=what)


def json_or_csv(p: argparse.ArgumentParser, json: str, csv: str) -> None:
    """--json or --csv, not both: the two forms of a listing for other programs; ``json``/``csv``: what each prints."""
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help=json)
    out.add_argument("--csv", action="store_true", help=csv)


_NO_BLANK = object()


def argument(check: Callable[[str], object], what: str, *, blank: object = _NO_BLANK,
             errors: tuple[type[Exception], ...] = (IdentifierError, ValueError)) -> Callable[[str], object]:
    """An argument type from a check that raises ``errors`` on bad text: the check's message becomes argparse's one
    line, which never echoes the value. With ``blank``, an empty value means ``blank`` (none) and is not checked."""
    def parse(text: str):
        if blank is not _NO_BLANK and not text.strip():
            return blank
        try:
            return check(text)
        except errors as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = what
    return parse


def ident(what: str, *, empty: bool = False, max_len: int = ID_MAX) -> Callable[[str], str | None]:
    """Argument type for an id (entrant, visitor, sensor, thermometer ...): printable, no spaces, at most ``max_len``;
    with ``empty``, an empty value means none. The refusal names the argument and never echoes the value."""
    def check(text: str) -> str:
        if max_len == ID_MAX:
            return check_id(text, what)
        return check_text(text, what, max_len=max_len, allow_space=False)
    return argument(check, what, **({"blank": None} if empty else {}))


def words(what: str, *, max_len: int = NAME_MAX, empty: bool = False) -> Callable[[str], str]:
    """Argument type for a name or a line of text (spaces allowed): printable, at most ``max_len``."""
    return argument(lambda text: check_text(text, what, max_len=max_len), what, **({"blank": ""} if empty else {}))


def class_list(text: str) -> tuple[str, ...]:
    """Argument type: classes separated by commas (ASCII or full-width), each a roster class name, at most
    MAX_CLASSES of them (checked before the list is split, so 20,000 classes are refused at once)."""
    from gate.auth import MAX_CLASSES
    if len(text) > MAX_CLASSES * 80:
        raise argparse.ArgumentTypeError(f"too many classes: a teacher has at most {MAX_CLASSES}; give its own classes")
    parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one class, e.g. \"三年级二班,三年级三班\"")
    if len(parts) > MAX_CLASSES:
        raise argparse.ArgumentTypeError(f"too many classes ({len(parts)}): a teacher has at most {MAX_CLASSES}; "
                                         "give its own classes")
    return tuple(a_class(p) for p in parts)


# Argument type: one class, filed as the roster files it (三年级 二班 is 三年级二班; see check_class).
a_class = argument(check_class, "class")


# A person as recorded (operator, user name): spaces inside are allowed, as user names have always allowed them.
person = words("user name", max_len=ID_MAX)


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


LOCK_WAIT_S = (0.5, 600.0)  # storage.upstream_locks.WAIT_RANGE_S, and the config's bounds (a test holds they agree)


def lock_wait_option(p: argparse.ArgumentParser, default: float, what: str) -> None:
    """--lock-wait SECONDS: how long ``what`` waits for a table another session holds before it says who, in one line
    (PostgreSQL lock_timeout), for a command with no config."""
    p.add_argument("--lock-wait", type=lock_wait, default=default, metavar="SECONDS",
                   help=f"how long {what} waits for a table another session holds, then names it in one line "
                        f"({LOCK_WAIT_S[0]:g} to {LOCK_WAIT_S[1]:g} s, default {default:g})")


def seconds_between(low: float, high: float, note: str = "") -> Callable[[str], float]:
    """An argument type for a number of seconds from ``low`` to ``high``: 0, a negative, nan or inf is refused."""
    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # nan compares false: refused with the rest
            raise argparse.ArgumentTypeError(f"{text!r}: give {low:g} to {high:g} seconds{note}")
        return value

    return seconds


lock_wait = seconds_between(*LOCK_WAIT_S)  # seconds of a lock wait (0 would be no limit at all)


# -- the station: config, log, sign-in -------------------------------------------------------------------------------
def load_config(args: argparse.Namespace) -> "Config":
    """The config given by --config, else the defaults."""
    path = getattr(args, "config", None)
    if path:
        return read_config(path)
    from gate.config import Config  # the config module pulls in the policy and the drivers' registry

    return Config()


def read_config(path: str | Path) -> "Config":
    """A config file, every problem listed with its key (exit 2)."""
    from gate.config import ConfigError, load_config as read  # the config module pulls in the policy and drivers

    try:
        return read(path)
    except ConfigError as exc:
        raise UsageError(f"config {exc.source} has {len(exc.problems)} problem(s):", exc.problems) from None


def db_path(args: argparse.Namespace, cfg: "Config") -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    if cfg.db:
        return Path(cfg.db)
    from storage.db import default_db_path  # SQLAlchemy: only once a command really needs the log

    return default_db_path()


def open_log(args: argparse.Namespace, cfg: "Config", read_only: bool = False,
             existing: bool = False) -> "ScreeningLog":
    """The station's log. ``existing``: a command that reads, reports, exports or deletes refuses a path where no log
    is (a typed-wrong --db must not create an empty log and report an empty day from it)."""
    from storage.log import ScreeningLog  # SQLAlchemy and Alembic: only for commands that open the log

    path = db_path(args, cfg)
    exists = check_log_path(path, given=bool(getattr(args, "db", None)))  # a device, a FIFO ...: nothing made
    if (read_only or existing) and not exists:
        raise UsageError(f"no log at {path}: give --db PATH (nothing was created)")
    if getattr(args, "db", None) and not path.parent.is_dir():
        # A mistyped --db must not grow a tree of folders with a new, empty log in it; a new log in an existing
        # folder is fine (a station's first screening). The config's own path and the default are created.
        raise UsageError(f"no folder {path.parent} for the log {path.name}: check --db, or create the folder first "
                         "(nothing was created)")
    return ScreeningLog(path, read_only=read_only, key_path=cfg.key_file)


def login_name() -> str:
    return getpass.getuser()


class Pins:
    """PINs from standard input (--pin-stdin, one per line, in the order asked) or from the terminal."""

    def __init__(self, from_stdin: bool):
        self.from_stdin = from_stdin

    def ask(self, prompt: str, confirm: bool = False) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise UsageError("--pin-stdin: standard input ended before all PINs were given")
            return line.strip()
        if not sys.stdin.isatty():
            raise UsageError("no terminal to ask the PIN on: use --pin-stdin")
        pin = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != pin:
            raise UsageError("the two PINs differ; nothing was changed")
        return pin


def sign_in(args: argparse.Namespace, cfg: "Config", log: "ScreeningLog", action: str,
            pins: Pins | None = None) -> "User | None":
    """The signed-in user allowed to do ``action`` (the table in gate.roles), or None while the station has no
    users (PINs off). With PINs on: no --user, an --operator other than the user, a wrong PIN, a disabled or locked
    user, or a role without the right is refused (NotSignedIn: exit 2; AuthError: refused) and audited."""
    from gate.auth import Auth  # SQLAlchemy: sign-in reads the users table

    auth = Auth(log, cfg.station_id, cfg.security)
    pins = pins or Pins(getattr(args, "pin_stdin", False))
    return auth.require(getattr(args, "user", None), lambda: pins.ask(f"PIN for {args.user}: "), action,
                        operator=getattr(args, "operator", None), now=args.clock())  # a lockout's end: main's clock


@contextmanager
def signed_in(args: argparse.Namespace, action: str, **open_options) -> Iterator[tuple["Config", "ScreeningLog",
                                                                                     "User | None"]]:
    """The config, the open log and the person signed in for ``action`` (None while PINs are off), for a command
    that needs someone signed in; ``open_options`` as open_log's. The log closes after the block."""
    cfg = load_config(args)
    with open_log(args, cfg, **open_options) as log:
        yield cfg, log, sign_in(args, cfg, log, action)


def operator(args: argparse.Namespace, user: "User | None" = None) -> str:
    """Who is recorded: the signed-in user, else --operator / --user as given, else the login name."""
    if user is not None:
        return user.name
    return getattr(args, "operator", None) or getattr(args, "user", None) or login_name()
