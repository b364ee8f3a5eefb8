"""What keeps the bureau's role from reading the upstream, said in one line (exit 1, never as a fault of the station's
own code): a table its role may not read, with the GRANT the database's owner runs (a table a later migration added
when the default privileges were set by another role than the one that makes the tables); a role listed for no
school in ``gate_role_schools`` (row-level security shows it nothing: never "0 late" for a district it cannot see);
a session the server ended (restarted, or its owner ended it) or a server that stopped answering; a table another
session holds, named from ``pg_locks``."""
from __future__ import annotations

import re

from sqlalchemy import Connection, Engine, exc as sa_exc, text

from domain.errors import UpstreamFailure
from domain.identifiers import escaped


class BureauError(UpstreamFailure):
    """The upstream cannot be read by the bureau right now; the message is one line."""


class NoSchoolSeen(BureauError):
    """The bureau's role is listed for no school: row-level security shows it none, whatever the district has."""

    def __init__(self, role: str):
        self.role = role = escaped(role)  # its own name, shown as a terminal cannot misread it
        super().__init__(f"this database role ({role}) sees no school: it is not listed in gate_role_schools "
                         "(row-level security shows it none, so no school can be said on time or late). The "
                         f"database's owner lists it: INSERT INTO gate_role_schools (role_name, school_id) VALUES "
                         f"({_literal(role)}, '*') for a district-wide role, or one row per school it oversees (see "
                         "the README's bureau grants)")

    def bilingual(self) -> str:
        """The app's status line: zh-CN first, as the rest of the screen."""
        return (f"⚠ 此数据库角色 {self.role} 看不到任何学校(未列入 gate_role_schools,由数据库所有者添加,全区用 '*')"
                f" — this role sees no school: not listed in gate_role_schools; the owner lists it ('*' for a "
                "district-wide role, see the README)")


# The role unlisted: row-level security filters `schools` for it (not the owner, no BYPASSRLS) and it has no row in
# the mapping (the mapping's policy shows each role its own rows). A role listed for a school not declared yet, or a
# district with no school yet, is not this: they have a row.
_UNLISTED = text("SELECT row_security_active('schools') AND NOT EXISTS (SELECT 1 FROM gate_role_schools "
                 "WHERE role_name = current_user), current_user")


def check_sees_schools(conn: Connection) -> None:
    """Raise NoSchoolSeen when the connection's role is listed for no school (PostgreSQL; SQLite has no roles)."""
    if conn.dialect.name != "postgresql":
        return
    unlisted, role = conn.execute(_UNLISTED).one()
    if unlisted:
        raise NoSchoolSeen(role)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _primary(exc: BaseException) -> str:
    """The server's own message without the SQL, its LINE/caret or detail lines."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    said = getattr(diag, "message_primary", None) or (str(orig).strip().splitlines() or [""])[0]
    return " ".join(said.split())[:200] or type(orig).__name__


def _role(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT quote_ident(current_user)")).scalar_one()
    except Exception:  # noqa: BLE001 - naming the role is a courtesy; the line stands without it
        return engine.url.username or "the bureau's role"


_DENIED = re.compile(r"permission denied for (table|relation|view|sequence|schema|database|function) (\S+)")
_ENDED = ("57P01", "57P02", "57P05", "08")  # admin/crash shutdown, idle session timeout; connection exceptions


def said(exc: BaseException, engine: Engine, where: str, lock_wait_s: float | None, then: str) -> str | None:
    """The one line for an error of a bureau read of ``engine`` (``where``: the upstream as shown), or None when it is
    none of the upstream's conditions (a fault of the code's own, left to the CLI's crash report)."""
    from storage import upstream_locks as locks
    from storage.upstream_answer import NoAnswer

    if isinstance(exc, NoAnswer):
        return f"upstream {where}: {exc}: {then}"
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    if locks.is_lock_timeout(exc):
        from storage.upstream_locks import SYNC_WAIT_S

        return locks.busy(engine, "bureau", SYNC_WAIT_S if lock_wait_s is None else lock_wait_s, then,
                          **locks.held_for_reads(engine))
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state == "42501":
        return denied(_primary(exc), _role(engine), where)
    if exc.connection_invalidated or state.startswith(_ENDED):
        return (f"upstream {where}: the upstream ended this session (restarted, or its owner ended it) / connection "
                f"lost ({_primary(exc)}): {then}")
    if isinstance(exc, sa_exc.OperationalError):
        return f"upstream {where} unreachable ({_primary(exc)}): {then}"
    return None


def held_for_refresh(exc: BaseException, engine: Engine) -> str | None:
    """For the app's status line: a refresh that gave up waiting for a lock, naming the table held and its holder
    (the wait is the one the engine's connections carry); None for any other failure."""
    from storage import upstream_locks as locks

    if not isinstance(exc, sa_exc.DBAPIError) or not locks.is_lock_timeout(exc):
        return None
    try:
        with engine.connect() as conn:
            wait_s = float(conn.execute(text("SELECT extract(epoch FROM current_setting('lock_timeout')::interval)"))
                           .scalar_one())
    except Exception:  # noqa: BLE001 - the wait is a courtesy too
        wait_s = locks.SYNC_WAIT_S
    return locks.busy(engine, "刷新 refresh", wait_s, "the figures shown stay", **locks.held_for_reads(engine))


def denied(message: str, role: str, where: str) -> str:
    """A refusal of the bureau's role (SQLSTATE 42501), with what the database's owner runs; the server's words and
    the role's name shown escaped (one line, nothing a terminal would obey)."""
    message, role = escaped(message), escaped(role)
    found = _DENIED.search(message)
    if found is None:  # e.g. a row-level security policy refusing a write
        return (f"upstream {where} refused this role ({role}): {message}: the database's owner lists it in "
                "gate_role_schools ('*' for the bureau, see the README's bureau grants)")
    kind, name = found.groups()
    grant = {"schema": f"GRANT USAGE ON SCHEMA {name} TO {role}", "database": f"GRANT CONNECT ON DATABASE {name} TO {role}",
             "function": f"GRANT EXECUTE ON FUNCTION {name} TO {role}"}.get(kind, f"GRANT SELECT ON {name} TO {role}")
    return (f"upstream {where}: this role ({role}) may not read the {kind} {name}: the database's owner runs "
            f"{grant} (the README's bureau grants: their ALTER DEFAULT PRIVILEGES covers a new table only when run "
            "by the role that makes the tables); nothing was read")
