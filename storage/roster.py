"""The school's roster (pupils and staff) and pre-approved visitors.

``gate roster import FILE.csv``: columns id, name, class (or department / group), kind (pupil / staff / visitor, or
学生 / 教职工 / 访客); UTF-8 with or without BOM; Chinese headers (编号, 姓名, 班级 / 部门, 类型) are understood.
A file with any error imports nothing, and every error names its line and field. An import replaces the roster
(``--add`` merges): people missing from the new file have left and become visitors.
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from domain import Entrant, EntrantKind, Reason
from domain.identifiers import IdentifierError, check_class, check_id, check_name, check_text, class_key, class_keys, id_key
from domain.errors import UsageError
from storage.log import ScreeningLog, local_day
from storage.tables.log import SCREENINGS
from storage.tables.roster import ENTRANTS, VISITORS
from storage.seals import row_trusted, sealed_write

MAX_BYTES = 20 * 1024 * 1024
REASON_MAX = 200  # a visitor's reason: a line, not a letter
HEADER_ALIASES = {
    "id": "id", "roster_id": "id", "编号": "id", "学号": "id", "工号": "id",
    "name": "name", "姓名": "name",
    "class": "group", "department": "group", "group": "group", "班级": "group", "部门": "group", "班级/部门": "group",
    "kind": "kind", "type": "kind", "类型": "kind", "身份": "kind",
}
KIND_ALIASES = {"pupil": "pupil", "student": "pupil", "学生": "pupil", "staff": "staff", "teacher": "staff",
                "教职工": "staff", "教师": "staff", "visitor": "visitor", "访客": "visitor"}


class RosterError(UsageError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))


def _field(problems: list[str], line: int, field: str, check):
    """The checked value of one field, or None with the problem (its line and field) added to ``problems``."""
    try:
        return check()
    except IdentifierError as exc:
        problems.append(f"line {line}, field {field}: {exc}")
        return None


def parse_roster(data: bytes, filed: list | None = None, known: dict[str, str] | None = None) -> list[Entrant]:
    """Entrants from CSV bytes; raises RosterError listing every problem (line and field).

    Each class is filed in one spelling (domain.identifiers.check_class): 三年级 二班 and 三年级\u3000二班 are 三年级二班,
    and a class the file spells two ways (Class 3B, class 3b) is one class under its first spelling, or under the one
    in ``known`` (class key -> spelling already on the roster, for --add). Each (line, as written, as filed) that
    differs goes to ``filed``, so the import can say what it did."""
    if len(data) > MAX_BYTES:
        raise RosterError([f"the file is {len(data) // 1024 // 1024} MB; a roster over 20 MB is not a roster"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError([f"not UTF-8 text (byte {exc.start}): save the file as CSV UTF-8"]) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise RosterError(["the file is empty: the first line must be the header id,name,class,kind"])
    header = [HEADER_ALIASES.get(h.strip().lower(), HEADER_ALIASES.get(h.strip())) for h in rows[0]]
    problems = []
    for need in ("id", "name", "group", "kind"):
        if need not in header:
            label = {"group": "class (or department)"}.get(need, need)
            problems.append(f"line 1: the header has no `{label}` column (found: {', '.join(rows[0])})")
    if problems:
        raise RosterError(problems)
    col = {name: header.index(name) for name in ("id", "name", "group", "kind")}
    entrants, seen = [], {}
    spelled = dict(known or {})
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append(f"line {n}: {len(row)} fields, the header has {len(header)}")
            continue
        before = len(problems)
        rid = _field(problems, n, "id", lambda: check_id(row[col["id"]], "id"))
        name = _field(problems, n, "name", lambda: check_name(row[col["name"]], "name"))
        given = row[col["group"]].strip()
        group = given and _field(problems, n, "class", lambda: check_class(given))
        if group:
            group = spelled.setdefault(class_key(group), group)
            if filed is not None and group != given:
                filed.append((n, given, group))
        kind = KIND_ALIASES.get(row[col["kind"]].strip().lower(), KIND_ALIASES.get(row[col["kind"]].strip()))
        if rid is not None and id_key(rid) in seen:  # P42 and p42 are one pupil at the gate
            first, line = seen[id_key(rid)]
            same = "" if first == rid else f" (as {first}: ids that differ only by case are the same person)"
            problems.append(f"line {n}, field id: {rid} is already on line {line}{same}")
        elif rid is not None:
            seen[id_key(rid)] = (rid, n)
        if kind is None:
            shown = row[col["kind"]].strip()[:20] if row[col["kind"]].strip()[:20].isprintable() else "this value"
            problems.append(f"line {n}, field kind: {shown!r} must be pupil, staff or visitor")
        if len(problems) == before:
            entrants.append(Entrant(rid, name, group or "", EntrantKind(kind)))
    if problems:
        raise RosterError(problems)
    if not entrants:
        raise RosterError(["the file has a header but no people"])
    return entrants


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: ids added, changed (name, class or kind) and removed; ``merged`` for ``--add``."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    merged: bool
    # classes filed in another spelling than the file's: (as written, as filed, lines), e.g. 三年级 二班 -> 三年级二班
    filed: tuple[tuple[str, str, tuple[int, ...]], ...] = ()

    @property
    def people(self) -> int:
        return len(self.added) + len(self.changed) + self.unchanged

    def line(self) -> str:
        how = "merged into" if self.merged else "replaced"
        return (f"roster {how}: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"
                + (" (now visitors: refused at the gate unless approved)" if self.removed else "")
                + f", {self.unchanged} unchanged"
                + "".join(f"\nnote: class {given!r} ({_lines(lines)}) is filed as {filed!r}: one class whatever its "
                          "spaces, width or case, with one teacher" for given, filed, lines in self.filed[:10])
                + (f"\nnote: {len(self.filed) - 10} more classes filed in another spelling" if len(self.filed) > 10
                   else ""))


def _lines(lines: tuple[int, ...]) -> str:
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    return f"line{'s' if len(lines) > 1 else ''} {shown}"


def _filed(notes: list) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    """(line, as written, as filed) notes grouped by spelling: (as written, as filed, lines)."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for line, given, filed in notes:
        grouped.setdefault((given, filed), []).append(line)
    return tuple((g, f, tuple(lines)) for (g, f), lines in grouped.items())


def import_roster(log: ScreeningLog, data: bytes, *, station_id: str, actor: str,
                  merge: bool = False) -> ImportSummary:
    """Replace the roster with the file's people (``merge``: add and update only), all or nothing.

    Someone on the roster but not in the file has left: their row stays (it names their past screenings in an
    identified export) but becomes a visitor, which the gate refuses unless approved for the day.
    """
    known = {}
    if merge:  # a class already on the roster keeps its spelling
        with log.read("the roster's classes") as conn:
            for group in conn.execute(select(ENTRANTS.c.group).where(ENTRANTS.c.kind != EntrantKind.VISITOR.value)
                                      .distinct()).scalars():
                try:
                    known.setdefault(class_key(group), check_class(group))  # filed as it would be today
                except IdentifierError:
                    continue
    notes: list = []
    entrants = parse_roster(data, notes, known)
    with log.unit("roster") as u, sealed_write(u.conn, log.key, "entrants"):
        conn = u.conn
        # People are matched by their id's key: P42 in the old roster and p42 in the new one are the same pupil
        # (changed: the spelling), not one who left and one who came.
        stored = conn.execute(select(ENTRANTS)).mappings().all()
        old = {id_key(r["roster_id"]): (r["roster_id"], r["name"], r["group"], r["kind"]) for r in stored}
        new = {id_key(e.roster_id): (e.roster_id, e.name, e.group, e.kind.value) for e in entrants}
        added = tuple(k for k in new if k not in old)
        changed = tuple(k for k in new if k in old and old[k] != new[k])
        removed = () if merge else tuple(sorted(old[k][0] for k in old
                                                if k not in new and old[k][3] != EntrantKind.VISITOR.value))
        replaced = {*added, *changed}
        for r in stored:
            if id_key(r["roster_id"]) in replaced:
                conn.execute(ENTRANTS.delete().where(ENTRANTS.c.roster_id == r["roster_id"]))
        rows = [{"roster_id": new[k][0], "name": new[k][1], "group": new[k][2], "kind": new[k][3]}
                for k in (*added, *changed)]
        added, changed = tuple(new[k][0] for k in added), tuple(new[k][0] for k in changed)
        if rows:
            conn.execute(ENTRANTS.insert(), rows)
        if removed:
            conn.execute(ENTRANTS.update().where(ENTRANTS.c.roster_id.in_(removed))
                         .values(kind=EntrantKind.VISITOR.value, mac=None))
        summary = ImportSummary(added, changed, removed, len(new) - len(added) - len(changed), merge, _filed(notes))
        u.audit(station_id, actor, "roster-import",
                {"people": len(entrants), "mode": "add" if merge else "replace", "added": len(added),
                 "changed": len(changed), "removed": list(removed),
                 **({"classes_filed": [{"as_written": g, "filed_as": f, "lines": len(ls)}
                                       for g, f, ls in summary.filed[:20]]} if summary.filed else {})})
    return summary


def roster(log: ScreeningLog) -> list[Entrant]:
    with log.read("the roster") as conn:
        rows = conn.execute(select(ENTRANTS).order_by(ENTRANTS.c.group, ENTRANTS.c.roster_id)).mappings().all()
    return [Entrant(r["roster_id"], r["name"], r["group"], EntrantKind(r["kind"])) for r in rows]


def roster_size(log: ScreeningLog) -> int:
    with log.read("the roster") as conn:
        return conn.execute(select(func.count()).select_from(ENTRANTS)).scalar_one()


@dataclass(frozen=True)
class Visitor:
    visitor_id: str
    name: str
    phone: str
    reason: str
    host: str
    day: str | None


def add_visitor(log: ScreeningLog, v: Visitor, *, station_id: str, actor: str) -> None:
    if not v.visitor_id.strip() or not v.name.strip() or not v.host.strip():
        raise RosterError(["a visitor needs an id, a name and a host (the person visited)"])
    try:
        v = Visitor(check_id(v.visitor_id, "visitor id"), check_name(v.name, "name"),
                    check_text(v.phone, "phone", max_len=32),
                    check_text(v.reason, "reason", max_len=REASON_MAX) if v.reason.strip() else "",
                    check_name(v.host, "host"), v.day)
    except IdentifierError as exc:
        raise RosterError([str(exc)]) from None
    digits = [c for c in v.phone if c.isdigit()]
    if not 5 <= len(digits) <= 15:
        raise RosterError([f"phone {v.phone!r}: give a reachable number (5–15 digits)"])
    with log.unit(f"visitor {v.visitor_id}") as u, sealed_write(u.conn, log.key, "visitors"):
        for other in u.conn.execute(select(VISITORS.c.visitor_id)).scalars().all():  # under any spelling
            if id_key(other) == id_key(v.visitor_id):
                u.conn.execute(VISITORS.delete().where(VISITORS.c.visitor_id == other))
        u.conn.execute(VISITORS.insert().values(visitor_id=v.visitor_id, name=v.name, phone=v.phone,
                                                reason=v.reason, host=v.host, day=v.day, approved_by=actor,
                                                at=time.time()))
        u.audit(station_id, actor, "visitor-approved", {"visitor_id": v.visitor_id, "day": v.day})


def _by_key(conn, column, entrant_id: str, *cols):
    """The row whose id is ``entrant_id`` under any spelling (P42, p42): the same spelling first (an index read),
    else every id compared by its key (a school's roster, only for an id spelled otherwise or not on it)."""
    row = conn.execute(select(column, *cols).where(column == entrant_id)).first()
    if row is not None:
        return row
    key = id_key(entrant_id)
    return next((r for r in conn.execute(select(column, *cols)) if id_key(r[0]) == key), None)


def entrant_status(log: ScreeningLog, entrant_id: str, day: str | None = None) -> tuple[str | None, Reason | None]:
    """(the roster's or the approved visitor's spelling of this id, or None; the reason it may not proceed, or None).

    A visitor, whether unknown, listed as a visitor on the roster or a pupil who left (removed by a roster import),
    needs an approval for the day. While no roster is loaded ids are not checked, so a new station works at once.
    Ids match under any spelling (domain.identifiers.id_key): p42 is the pupil P42 of the roster.
    """
    with log.read("the roster") as conn:
        if conn.execute(select(func.count()).select_from(ENTRANTS)).scalar_one() == 0:
            return None, None
        listed = _by_key(conn, ENTRANTS.c.roster_id, entrant_id, ENTRANTS.c.kind)
        if listed is not None and listed.kind != EntrantKind.VISITOR.value:
            return listed.roster_id, None
        visitor = _by_key(conn, VISITORS.c.visitor_id, entrant_id, *[c for c in VISITORS.c if c.name != "visitor_id"])
        # An approval the station did not write (no MAC under the station key) is no approval: `gate verify` names it
        trusted = visitor is not None and row_trusted(conn, log.key, "visitors", visitor._mapping)
    if trusted and visitor.day in (None, day or local_day(time.time())):
        return visitor.visitor_id, None
    return (listed.roster_id if listed is not None else None), Reason.VISITOR_NOT_APPROVED


def is_known_id(log: ScreeningLog, entrant_id: str) -> bool:
    """Whether the station knows ``entrant_id`` as a person's card (under any spelling): on the roster, a visitor
    registered here, or screened here before. The sign-in asks it of a number typed into the PIN field: a pupil's
    card scanned there is not a wrong PIN."""
    key = id_key(entrant_id)
    with log.read("the roster") as conn:
        if conn.execute(select(SCREENINGS.c.id).where(SCREENINGS.c.entrant_key == key).limit(1)).first():
            return True
        return any(_by_key(conn, column, entrant_id) is not None
                   for column in (ENTRANTS.c.roster_id, VISITORS.c.visitor_id))


def check_entrant(log: ScreeningLog, entrant_id: str | None, day: str | None = None) -> Reason | None:
    """None when the id may proceed to screening; else the reason it may not (``Reason.VISITOR_NOT_APPROVED``)."""
    return entrant_status(log, entrant_id, day)[1] if entrant_id else None


def seen(log: ScreeningLog, day: str, session: str | None = None) -> set[str]:
    """Ids screened on ``day`` (in ``session`` when given), whatever the decision. A row whose hash does not recompute
    (its day or session edited in the file, a late arrival moved into the morning check) is not believed: that pupil
    stays on the list of those not seen."""
    cond = [SCREENINGS.c.day == day, SCREENINGS.c.entrant_id.is_not(None)]
    if session is not None:
        cond.append(SCREENINGS.c.session == session)
    with log.read("who was seen") as conn:
        rows = conn.execute(select(SCREENINGS).where(*cond)).mappings().all()
    return {r["entrant_id"] for r in rows if log.screening_chain.holds(r)}


def unscreened(log: ScreeningLog, day: str, session: str | None = None,
               classes: tuple[str, ...] | None = None) -> list[Entrant]:
    """Pupils and staff on the roster not seen on ``day`` (in ``session``), of ``classes`` when given."""
    done = {id_key(i) for i in seen(log, day, session)}  # p42 screened is P42 of the roster seen
    keys = class_keys(classes or ())  # a class under any spelling
    return [e for e in roster(log) if id_key(e.roster_id) not in done and e.kind is not EntrantKind.VISITOR
            and (classes is None or class_key(e.group) in keys)]


def session_progress(log: ScreeningLog, day: str, session: str) -> tuple[int, int]:
    """(pupils and staff of the roster seen in the session, how many are expected)."""
    expected = {id_key(e.roster_id) for e in roster(log) if e.kind is not EntrantKind.VISITOR}
    return len(expected & {id_key(i) for i in seen(log, day, session)}), len(expected)
