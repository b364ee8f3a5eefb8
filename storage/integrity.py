"""Everything `gate verify` checks in one log: every chain (screenings, audit events, clearances, follow-up cases, the
records pulled from the school's other gates) with its seal, every sealed table (users, roster, calibrations, the
stored policy) row by row, and the stored policy against the audit trail. One read transaction per part: it never
holds the write lock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from storage import cases, policy, pulled_cases, school_records
from storage.log import ScreeningLog
from storage.log_key import has_table
from storage.migrate import current_revision, newest_file_revision
from storage.seals import SEALED, WHAT, sealed_rows, table_problems
from storage.verify_result import VerifyResult

CHAIN_WHAT = {"screenings": "screenings", "audit": "audit events", "clearances": "clearances",
              "cases": "follow-up cases", "school_records": "fevers and clearances pulled from the school's other gates",
              "school_cases": "follow-up cases pulled from the school's other gates"}


# The tables verify checks, each with the revision that created it: a log at revision R must hold every table created
# at or before R (a test holds this agrees with the migrations' create_table calls). A table gone from the file is a
# tamper to name, not an empty table.
CREATED_IN = {"screenings": "0001", "entrants": "0001", "audit_events": "0002", "visitors": "0002",
              "daily_reports": "0002", "users": "0004", "calibrations": "0005", "clearances": "0006",
              "station_policy": "0008", "seals": "0009", "cases": "0010", "session_closures": "0010",
              "school_records": "0012", "school_cases": "0015"}
CHAIN_TABLES = {"screenings": "screenings", "audit": "audit_events", "clearances": "clearances", "cases": "cases",
                "school_records": "school_records", "school_cases": "school_cases"}
TABLE_WHAT = {**WHAT, **{table: f"the {CHAIN_WHAT[chain]}" for chain, table in CHAIN_TABLES.items()},
              "seals": "the seals of the chains and tables"}


def expected_tables(revision: str | None) -> list[str]:
    """The checked tables the schema at ``revision`` has (no revision recorded: the newest schema's)."""
    revision = revision or newest_file_revision()
    return [name for name, since in CREATED_IN.items() if since <= revision]


@dataclass
class Report:
    """What `gate verify` found; ``ok`` when nothing at all."""

    chains: dict[str, VerifyResult] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)  # rows checked per sealed table
    problems: list[str] = field(default_factory=list)
    keyed: bool = True
    fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.chains.values())

    def lines(self) -> list[str]:
        """One line per broken chain or changed table (what `gate verify` prints on stderr)."""
        out = []
        for name, r in self.chains.items():
            if r.ok:
                continue
            if r.bad_seq is None:
                out.append(f"BROKEN: {CHAIN_WHAT[name]}: {r.detail}")
            else:
                out.append(f"BROKEN: {CHAIN_WHAT[name]}: row {r.bad_seq} ({r.bad_id}): {r.detail}; "
                           f"{r.rows - 1} rows before it verify")
        return out + self.problems


def missing_tables(log: ScreeningLog) -> tuple[set[str], list[str]]:
    """The tables the log's schema has and the file does not (dropped or renamed outside the station), and one line
    naming each."""
    revision = current_revision(log.engine)
    lines = [] if revision is not None else ["MISSING: the log's schema version (table alembic_version): the file "
                                             "was edited outside the station"]
    with log.read("the log's tables") as conn:
        gone = {name for name in expected_tables(revision) if not has_table(conn, name)}
        for name in sorted(gone, key=list(CREATED_IN).index):
            rows = sealed_rows(conn, name) if name in SEALED and "seals" not in gone and log.key else None
            lines.append(f"MISSING: {TABLE_WHAT[name]} (table {name}): the table is gone from the log"
                         + (f"; the seal records {rows} row(s)" if rows is not None else ""))
    return gone, lines


def check(log: ScreeningLog, progress: Callable[[int], None] | None = None) -> Report:
    report = Report(keyed=log.screening_chain.seal is not None,
                    fingerprint=log.key.fingerprint if log.key else None)
    gone, report.problems = missing_tables(log)
    here = {chain for chain, table in CHAIN_TABLES.items() if table not in gone and "seals" not in gone}
    if "screenings" in here:
        report.chains["screenings"] = log.verify(progress)
    if "audit" in here:
        report.chains["audit"] = log.verify_audit()
    with log.read("the clearances to verify") as conn:
        if "clearances" in here:
            report.chains["clearances"] = log.clearance_chain.verify(conn)
        if "cases" in here and has_table(conn, "cases"):
            report.chains["cases"] = cases.chain(log).verify(conn)
        if "school_records" in here and has_table(conn, "school_records"):
            report.chains["school_records"] = school_records.chain(log).verify(conn)
        if "school_cases" in here and has_table(conn, "school_cases"):
            report.chains["school_cases"] = pulled_cases.verify(log, conn)
    if log.key is not None and "seals" not in gone:
        with log.read("the sealed tables") as conn:
            for name in SEALED:
                if not has_table(conn, name):
                    continue
                report.problems += [f"CHANGED: {p}" for p in table_problems(conn, log.key, name, limit=20)]
                report.tables[name] = conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar()
    problem = None if gone & {"station_policy", "audit_events", "seals"} else policy.check(log)
    if problem:
        report.problems.append(f"POLICY: {problem}; an admin re-applies the station's config "
                               "(gate config apply FILE --user ADMIN)")
    return report


__all__ = ["Report", "check", "WHAT"]
