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
from storage.seals import SEALED, WHAT, table_problems
from storage.verify_result import VerifyResult

CHAIN_WHAT = {"screenings": "screenings", "audit": "audit events", "clearances": "clearances",
              "cases": "follow-up cases", "school_records": "fevers and clearances pulled from the school's other gates",
              "school_cases": "follow-up cases pulled from the school's other gates"}


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


def check(log: ScreeningLog, progress: Callable[[int], None] | None = None) -> Report:
    report = Report(keyed=log.screening_chain.seal is not None,
                    fingerprint=log.key.fingerprint if log.key else None)
    report.chains["screenings"] = log.verify(progress)
    report.chains["audit"] = log.verify_audit()
    with log.read("the clearances to verify") as conn:
        report.chains["clearances"] = log.clearance_chain.verify(conn)
        if has_table(conn, "cases"):
            report.chains["cases"] = cases.chain(log).verify(conn)
        if has_table(conn, "school_records"):
            report.chains["school_records"] = school_records.chain(log).verify(conn)
        if has_table(conn, "school_cases"):
            report.chains["school_cases"] = pulled_cases.verify(log, conn)
    if log.key is not None:
        with log.read("the sealed tables") as conn:
            for name in SEALED:
                if not has_table(conn, name):
                    continue
                report.problems += [f"CHANGED: {p}" for p in table_problems(conn, log.key, name, limit=20)]
                report.tables[name] = conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar()
    problem = policy.check(log)
    if problem:
        report.problems.append(f"POLICY: {problem}; an admin re-applies the station's config "
                               "(gate config apply FILE --user ADMIN)")
    return report


__all__ = ["Report", "check", "WHAT"]
