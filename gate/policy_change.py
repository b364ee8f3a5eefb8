"""One key where a config differs from the policy stored with the log: what is stored, what the config wants.

Apart from gate.station_policy, which every screening consults, so that a config that agrees (as on every morning)
builds no change class at start-up (`gate screen`, bench/cli_startup.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    key: str
    stored: Any
    wanted: Any

    def __str__(self) -> str:
        return f"{self.key} ({_show(self.stored)} → {_show(self.wanted)})"


def _show(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(s.get("id", "?") if isinstance(s, dict) else str(s) for s in v) or "none"
    return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v)
