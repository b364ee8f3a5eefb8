"""What verifying one hash chain found: how many rows hold, the head, and the first row that does not.

Apart from storage.chain so that a command that only appends (`gate screen`) does not build the class at start-up
(bench/cli_startup.py); verifying loads it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    head: str
    bad_seq: int | None = None
    bad_id: str | None = None
    detail: str = ""
