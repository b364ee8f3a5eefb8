"""Who may do what: the one permission table that the command line, the duty screen and the README all read.

Roles, in the school's words: ``duty`` staff screen at the gate; ``maintenance`` staff calibrate the thermometers;
an ``auditor`` exports, purges and reads the audit trail; an ``admin`` manages users, the roster and the screening
policy; ``health`` (the school doctor or nurse) records clearances after a fever and follows up cases; a ``teacher``
(班主任, the class teacher) sees the lists and cases of its own classes only (the classes are set on the user:
``gate users add NAME --role teacher --classes "三年级二班,三年级三班"``) and closes its pupils' follow-up cases.

With PINs on (the station has at least one user) every action below needs a signed-in person whose role is listed.
With PINs off (no user yet) the station works as before: anyone may, and the operator is the name given or the login.
"""
from __future__ import annotations

import msgspec

ROLES = ("duty", "maintenance", "auditor", "admin", "health", "teacher")
SCOPED = frozenset({"teacher"})  # roles that see only the classes set on the user


# A frozen msgspec Struct, not a dataclass: built in C when the module loads (gate.policy says why).
class Right(msgspec.Struct, frozen=True):
    """One action: its key, where it is done (a CLI command and/or a duty-screen key), who may, and why it matters."""

    action: str
    roles: frozenset[str]
    command: str | None  # the `gate ...` command that needs it, None for duty-screen-only actions
    what: str
    personal: bool = False  # reads or writes personal data (names, temperatures by id)


def _r(action: str, roles: str, what: str, personal: bool = True, command: str | None = "") -> Right:
    """A right; its command is `gate` and the action's words (``held-lift``: `gate held lift`) unless given, None
    for the duty screen's own actions. Most actions read or write personal data: ``personal=False`` says not."""
    return Right(action, frozenset(roles.split()), "gate " + action.replace("-", " ") if command == "" else command,
                 what, personal)


TABLE: tuple[Right, ...] = (
    _r("screen", "duty", "record a screening (a typed or sensor reading)"),
    _r("manual-entry", "duty", "duty screen: type a reading measured by hand", command=None),
    _r("override", "duty", "duty screen: confirm or override the mask result", command=None),
    _r("visitor-add", "duty admin", "approve a visitor", command="gate roster visitor add"),
    _r("roster-import", "admin", "replace (or --add to) the roster"),
    _r("roster-list", "admin auditor health", "list the roster (names, classes)"),
    _r("report-unscreened", "duty admin auditor health teacher",
       "list rostered people not seen today or in a session (a teacher: its classes)"),
    _r("report-alerts", "duty admin auditor health teacher",
       "cluster alerts: pupils of one class ill with similar symptoms"),
    _r("followup-list", "teacher health admin", "list follow-up cases (a teacher: its classes)"),
    _r("followup-close", "teacher health", "close a follow-up case with its outcome (a teacher: its classes)"),
    _r("clearance-add", "health admin", "clear a confirmed fever (doctor's note)"),
    _r("clearance-list", "health admin auditor", "list clearances"),
    _r("held-list", "auditor admin health",
       "list the pupils refused because a gate holds back an edited record about them"),
    _r("held-lift", "auditor admin", "lift this gate's holds once gate verify is clean again (the edit undone)"),
    _r("calibrate", "maintenance",
       "calibrate a thermometer, daily check", personal=False, command="gate calibrate run|fit|check"),
    _r("export", "auditor", "export screenings (pseudonymised)"),
    _r("export-identified", "auditor", "export screenings with ids and names", command="gate export --identified"),
    _r("purge", "auditor", "delete screenings and audit events past retention"),
    _r("audit-list", "auditor", "read the audit trail (who did what)"),
    _r("users-list", "admin", "list users, roles and lock state"),
    _r("manage-users", "admin",
       "manage users and PINs", personal=False, command="gate users add|reset-pin|disable|enable|role"),
    _r("policy", "admin",
       "change the screening policy (threshold, mask mode ...)", personal=False, command="gate config apply"),
    _r("sync-new-upstream", "admin",
       "send the log to an upstream other than the configured one, or to one it never synced with",
       command="gate sync [--upstream URL]"),
    _r("switch-role", " ".join(ROLES), "duty screen: show who is signed in", personal=False, command=None),
)
RIGHTS: dict[str, frozenset[str]] = {r.action: r.roles for r in TABLE}
BY_ACTION: dict[str, Right] = {r.action: r for r in TABLE}


def scope(role: str | None, classes: tuple[str, ...]) -> tuple[str, ...] | None:
    """The classes a user may see: None for every class, else only these (a teacher with none sees nothing)."""
    return tuple(classes) if role in SCOPED else None


def may(role: str | None, action: str) -> bool:
    """True if ``role`` may do ``action``; an unknown action is a programming error (KeyError), never a yes."""
    return role in RIGHTS[action]


def readme_table() -> str:
    """The README's role table, generated from TABLE (a test keeps the README equal to it)."""
    head = "| action | where | " + " | ".join(ROLES) + " |"
    rule = "| --- | --- | " + " | ".join(":-:" for _ in ROLES) + " |"

    def where(r: Right) -> str:  # a | inside a table cell must be escaped, even in code
        return f"`{r.command}`".replace("|", "\\|") if r.command else "duty screen"

    rows = [f"| {r.what} | {where(r)} | "
            + " | ".join("yes" if role in r.roles else "" for role in ROLES) + " |" for r in TABLE]
    return "\n".join([head, rule, *rows])
