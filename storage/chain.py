"""Hash chain over log rows: each row stores SHA-256(previous row's hash + its own canonical content)."""
from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64


def canonical(content: dict) -> str:
    """One byte-exact text per content: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def link(prev_hash: str, content: dict) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical(content)).encode("utf-8")).hexdigest()
