"""Where a fault in the station's own code is written down, so the terminal shows one line and a path."""
from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path


def crash_log_dir() -> Path:
    from platformdirs import user_log_dir  # only on the way out of a fault

    return Path(os.environ.get("GATE_LOG_DIR") or user_log_dir("gate-station", appauthor=False))


def write_crash_report(exc: BaseException, argv: list[str]) -> Path:
    """Append the traceback to gate-errors.log in the per-user log folder (else the temporary folder)."""
    text = (f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} gate {' '.join(map(repr, argv))}\n"
            + "".join(traceback.format_exception(exc)))
    for folder in (crash_log_dir(), Path(tempfile.gettempdir())):
        path = folder / "gate-errors.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return Path("(nowhere: the log folder and the temporary folder are not writable)")
