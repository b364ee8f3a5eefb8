"""Roles and PINs: who may do what at the station, with every attempt in the audit trail.

Who may do what is the table in ``gate.roles``. PINs are at least 6 digits and not trivial (``gate.pins``), stored as
scrypt hashes of the PIN HMAC'd with the station key's pepper. After ``lockout_failures`` wrong PINs in a row the user
is locked for ``lockout_minutes``; the counter lives in the database, so a restart does not reset it. Every user row is
MAC'd under the station key (storage.seals): a role, a lockout or a user changed, added or removed in the file refuses
every sign-in until the log is restored.
While no user exists the station works without PINs (a new station is usable at once); the first user must be an admin.
The last active admin can be neither disabled nor given another role, so somebody can always manage users.
"""
from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Callable

from sqlalchemy import func, select

from domain.errors import Refused, UsageError
from gate.roles import RIGHTS, ROLES, SCOPED
from gate.config import SecurityConfig
from domain.identifiers import IdentifierError, check_class, class_key
from gate.station_policy import lockout
from storage import audit
from storage import policy as stored_policy
from storage.log import ScreeningLog
from storage.unit import UnitOfWork
from storage.tables.station import USERS
from storage.seals import SEALS, sealed_write, table_problems
from gate import pins

if TYPE_CHECKING:
    from gate.user import User

USERS_TAMPERED = "users-tampered"
# Even with PINs off these need a user: an identified export or a purge with nobody to answer for it is refused.
NEED_USERS = frozenset({"export-identified", "purge"})
_DIGITS = re.compile(r"\d{4,}")


class AuthError(Refused):
    """Refused: the message says why (wrong PIN, locked until HH:MM, role lacks the right)."""


class NotSignedIn(UsageError):
    """Nobody signed in where someone must (a usage mistake more than an attack, but audited all the same)."""


def classes_of(stored: str | None) -> tuple[str, ...]:
    """A user's classes as stored (a JSON list); anything else is no class at all (fails closed for a teacher)."""
    try:
        value = json.loads(stored or "[]")
    except ValueError:
        return ()
    return tuple(c for c in value if isinstance(c, str)) if isinstance(value, list) else ()


# A teacher has a few classes; a longer list is a mistake (or an attack that fills the users table and the screen).
MAX_CLASSES = 50


def check_classes(role: str, classes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The classes of a new user: a teacher needs one to MAX_CLASSES, other roles none; each checked like a roster
    class."""
    if role not in SCOPED:
        if classes:
            raise AuthError(f"--classes is for a teacher; a {role} sees every class")
        return ()
    if not classes:
        raise AuthError("a teacher needs its classes: --classes \"三年级二班,三年级三班\" (as in the roster)")
    if len(classes) > MAX_CLASSES:
        raise AuthError(f"too many classes ({len(classes)}): a teacher has at most {MAX_CLASSES}; give its own classes")
    try:
        checked = [check_class(c) for c in classes]  # filed like the roster's: 三年级 二班 is 三年级二班
    except IdentifierError as exc:
        raise AuthError(str(exc)) from None
    first = {}
    for c in checked:  # one class under two spellings (Class 3B, class 3b) is one class: the first spelling
        first.setdefault(class_key(c), c)
    return tuple(first.values())


# The lockout and idle sign-out settings are the config's `[security]` table, declared (with defaults) in one place.
Policy = SecurityConfig


def hash_pin(pin: str, pepper: bytes) -> str:
    return pins.hash_pin(pin, pepper)


def pin_matches(pin: str, stored: str, pepper: bytes) -> bool:
    return pins.matches(pin, stored, pepper)


def check_pin_format(pin: str) -> None:
    problem = pins.weakness(pin)
    if problem:
        raise AuthError(problem)


class Auth:
    def __init__(self, log: ScreeningLog, station_id: str, policy: Policy | None = None):
        self.log = log
        self.station_id = station_id
        # The lockout stored with the log holds whatever --config was given (gate.station_policy.lockout)
        self.policy = lockout(policy or Policy(), stored_policy.current(log))

    def _audit(self, actor: str, action: str, detail: dict, unit: UnitOfWork | None = None) -> None:
        audit.record(unit or self.log, self.station_id, actor, action, detail)

    @property
    def pepper(self) -> bytes:
        if self.log.key is None:
            raise AuthError("sign-in needs the station key: open the log for writing once to upgrade it")
        return self.log.key.pin_pepper

    def has_users(self) -> bool:
        """True when the station has users, or its users' seal says it had some (all deleted in the file: PINs
        must not turn off)."""
        with self.log.read("the users") as conn:
            sealed = conn.execute(select(SEALS.c.rows).where(SEALS.c.name == "table:users")).scalar() or 0
            return conn.execute(select(func.count()).select_from(USERS)).scalar_one() > 0 or sealed > 0

    def integrity(self) -> list[str]:
        """What in the users table was changed outside the station (empty: every row and the table seal hold)."""
        if self.log.key is None:
            return []
        with self.log.read("the users") as conn:
            return table_problems(conn, self.log.key, "users")

    def users(self) -> list[dict]:
        with self.log.read("the users") as conn:
            rows = conn.execute(select(USERS.c.name, USERS.c.role, USERS.c.disabled, USERS.c.locked_until,
                                       USERS.c.failures, USERS.c.classes).order_by(USERS.c.name)).mappings().all()
        return [{**r, "classes": list(classes_of(r["classes"]))} for r in rows]

    # -- checking -------------------------------------------------------------------------------------------------
    def require(self, name: str | None, read_pin: Callable[[], str], action: str, *, operator: str | None = None,
                now: float | None = None) -> User | None:
        """The signed-in person allowed to do ``action``, or None while PINs are off (no users yet).

        With PINs on: no name, an ``operator`` other than the name, a wrong PIN, a disabled or locked user and a role
        without the right are each refused with AuthError and an audit row. The PIN is read only once the cheap
        checks passed, and only through ``read_pin`` (standard input or a terminal prompt, never argv).
        """
        self._refuse_if_tampered(name or "(not signed in)", action)
        if not self.has_users():
            if action in NEED_USERS:
                raise NotSignedIn(f"{action} needs {' or '.join(sorted(RIGHTS[action]))}, and this station has no "
                                "users yet: create an admin first (gate users add NAME --role admin)")
            return None
        if not name:
            self._audit("(not signed in)", "refused", {"action": action, "why": "not signed in",
                                                       **({"operator": operator} if operator else {})})
            raise NotSignedIn(f"{action} needs a signed-in user ({' or '.join(sorted(RIGHTS[action]))}): "
                              "give --user NAME --pin-stdin, or --user NAME and type the PIN when asked")
        if operator is not None and operator != name:
            self._audit(name, "refused", {"action": action, "why": "operator is not the signed-in user",
                                          "operator": operator})
            raise AuthError(f"--operator {operator!r} is not the signed-in user {name!r}: with PINs on the operator "
                            "recorded is whoever signs in; leave --operator out")
        return self.check(name, read_pin(), action, now)

    def _refuse_if_tampered(self, name: str, action: str) -> None:
        problems = self.integrity()
        if problems:
            self._audit(name, "login-refused", {"action": action, "why": USERS_TAMPERED, "problems": problems})
            raise AuthError(f"{problems[0]}: every sign-in is refused until the log and its key are restored from "
                            "backup (`gate verify` lists what changed)")

    def check(self, name: str, pin: str, action: str, now: float | None = None) -> User:
        """The user, if the PIN is right and the role may do ``action``; else AuthError (and an audit row)."""
        now = time.time() if now is None else now
        need = RIGHTS[action]
        self._refuse_if_tampered(name, action)
        pepper = self.pepper
        # Every refusal is recorded: errors are raised only after the transaction holding the audit row commits.
        with self.log.unit("the sign-in") as unit, sealed_write(unit.conn, self.log.key, "users"):
            conn = unit.conn
            row = conn.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
            if row is None or row["disabled"]:
                # An unknown name may hold a PIN typed in the wrong field ("zhang:123456"): never kept or shown.
                shown = name if row is not None else _DIGITS.sub("[digits hidden]", name or "?")
                self._audit(shown, "login-failed", {"action": action, "why": "unknown or disabled user"}, unit)
                error = f"no active user {shown!r}: ask an admin (gate users list)"
            elif row["locked_until"] and row["locked_until"] > now:
                until = time.strftime("%H:%M", time.localtime(row["locked_until"]))
                self._audit(name, "login-refused", {"action": action, "why": "locked"}, unit)
                error = f"{name} is locked until {until} after {self.policy.lockout_failures} wrong PINs"
            elif not pin_matches(pin or "", row["pin_hash"], pepper):
                failures = row["failures"] + 1
                values = {"failures": failures}
                if failures >= self.policy.lockout_failures:
                    values = {"failures": 0, "locked_until": now + self.policy.lockout_minutes * 60}
                conn.execute(USERS.update().where(USERS.c.name == name).values(**values, mac=None))
                if "locked_until" in values:
                    self._audit(name, "lockout", {"minutes": self.policy.lockout_minutes}, unit)
                    until = time.strftime("%H:%M", time.localtime(values["locked_until"]))
                    error = f"wrong PIN; {name} is now locked until {until}"
                else:
                    self._audit(name, "login-failed", {"action": action, "failures": failures}, unit)
                    left = self.policy.lockout_failures - failures
                    error = f"wrong PIN for {name} ({left} tries left before a {self.policy.lockout_minutes:g}-minute lock)"
            else:
                error = None
                values = {"failures": 0, "locked_until": None, "mac": None}
                if pins.needs_rehash(row["pin_hash"]):  # a hash from before the pepper: replaced now the PIN is known
                    values["pin_hash"] = hash_pin(pin, pepper)
                    self._audit(name, "pin-rehashed", {"user": name}, unit)
                conn.execute(USERS.update().where(USERS.c.name == name).values(**values))
                if row["role"] not in need:
                    self._audit(name, "refused", {"action": action, "role": row["role"]}, unit)
                    error = f"{name} is {row['role']}; {action} needs {' or '.join(sorted(need))}"
                else:
                    self._audit(name, "login", {"action": action, "role": row["role"]}, unit)
        if error:
            raise AuthError(error)
        from gate.user import User  # loaded when needed: gate screen's start-up (bench/cli_startup.py)

        return User(name, row["role"], classes_of(row["classes"]))

    # -- managing -------------------------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, pin: str, actor: User | None, classes: tuple[str, ...] = ()) -> None:
        if role not in ROLES:
            raise AuthError(f"role {role!r}: one of {', '.join(ROLES)}")
        classes = check_classes(role, classes)
        if not name or len(name) > 64 or not name.isprintable() or name.strip() != name:
            raise AuthError("a user name is 1–64 printable characters without spaces at the ends")
        check_pin_format(pin)
        self._refuse_card_number(pin)
        first = not self.has_users()
        if first and role != "admin":
            raise AuthError("the first user must be an admin (gate users add NAME --role admin)")
        if not first and (actor is None or actor.role != "admin"):
            raise AuthError("adding users needs an admin: give --user ADMIN")
        pepper = self.pepper
        with self.log.unit("the new user") as unit, sealed_write(unit.conn, self.log.key, "users"):
            conn = unit.conn
            if conn.execute(select(USERS.c.name).where(USERS.c.name == name)).first():
                raise AuthError(f"user {name} exists already (gate users reset-pin to change the PIN)")
            conn.execute(USERS.insert().values(name=name, role=role, pin_hash=hash_pin(pin, pepper), failures=0,
                                               disabled=False, created_at=time.time(),
                                               classes=json.dumps(classes, ensure_ascii=False)))
            self._audit(actor.name if actor else name, "user-added",
                        {"user": name, "role": role, **({"classes": list(classes)} if classes else {})}, unit)

    def _refuse_card_number(self, pin: str) -> None:
        """A PIN that is a card number the station knows is refused: the duty screen's sign-in takes that number as a
        pupil's card scanned into the PIN field (never checked, never a step towards a lockout)."""
        from storage.roster import is_known_id  # only when a PIN is set: gate screen's start-up loads no roster code

        if is_known_id(self.log, pin):
            raise AuthError("this PIN is a card number on this station's roster or log (a card scanned into the "
                            f"sign-in would be taken for it): {pins.ADVICE}")

    def reset_pin(self, name: str, pin: str, actor: User) -> None:
        check_pin_format(pin)
        self._refuse_card_number(pin)
        self._need_admin(actor)
        pepper = self.pepper
        with self.log.unit("the PIN reset") as unit, sealed_write(unit.conn, self.log.key, "users"):
            conn = unit.conn
            n = conn.execute(USERS.update().where(USERS.c.name == name)
                             .values(pin_hash=hash_pin(pin, pepper), failures=0, locked_until=None, mac=None)).rowcount
            if not n:
                raise AuthError(f"no user {name!r}")
            self._audit(actor.name, "pin-reset", {"user": name}, unit)

    def disable(self, name: str, actor: User) -> None:
        self._change(name, actor, "user-disabled", {"disabled": True}, {"user": name})

    def enable(self, name: str, actor: User) -> None:
        """Let a disabled user sign in again (an admin's act; a disabled admin cannot sign in to do it)."""
        self._change(name, actor, "user-enabled", {"disabled": False}, {"user": name})

    def set_role(self, name: str, role: str, actor: User) -> None:
        if role not in ROLES:
            raise AuthError(f"role {role!r}: one of {', '.join(ROLES)}")
        self._change(name, actor, "role-changed", {"role": role}, {"user": name, "role": role})

    def _change(self, name: str, actor: User, action: str, values: dict, detail: dict) -> None:
        """One change to one user, refused (and audited) if it would leave the station without an active admin."""
        self._need_admin(actor)
        error = None
        with self.log.unit("the user change") as unit, sealed_write(unit.conn, self.log.key, "users"):
            conn = unit.conn
            row = conn.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
            if row is None:
                raise AuthError(f"no user {name!r} (gate users list)")
            admins = conn.execute(select(func.count()).select_from(USERS).where(
                USERS.c.role == "admin", USERS.c.disabled.is_(False))).scalar_one()
            stays_admin = values.get("role", row["role"]) == "admin" and not values.get("disabled", row["disabled"])
            if row["role"] == "admin" and not row["disabled"] and not stays_admin and admins <= 1:
                error = (f"{name} is the last active admin: add or enable another admin first "
                         f"(gate users add NAME --role admin), or nobody could manage users")
                self._audit(actor.name, "refused", {"action": action, "user": name, "why": "last active admin"}, unit)
            else:
                conn.execute(USERS.update().where(USERS.c.name == name).values(**values, mac=None))
                if "role" in values:
                    detail = {**detail, "from": row["role"]}
                self._audit(actor.name, action, detail, unit)
        if error:
            raise AuthError(error)

    @staticmethod
    def _need_admin(actor: User | None) -> None:
        if actor is None or actor.role != "admin":
            raise AuthError("managing users needs an admin: give --user ADMIN")


def __getattr__(name: str) -> object:
    if name == "User":  # its old home: the UI and the tests name it here; gate.user defines it
        from gate.user import User

        return User
    raise AttributeError(f"module 'gate.auth' has no attribute {name!r}")
