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
    """Append the traceback to gate-errors.log in the per-user log folder (else a folder of ours in the temporary
    folder). The entry holds the command line, so entrant ids, temperatures and names may be in it: the folder is
    0700 and the file 0600 whatever the umask, like the log itself."""
    text = (f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} gate {' '.join(map(repr, argv))}\n"
            + "".join(traceback.format_exception(exc)))
    from storage.private import private_dir, private_file

    for folder in (crash_log_dir(), Path(tempfile.gettempdir()) / f"gate-station-{os.getuid()}"):
        path = folder / "gate-errors.log"
        try:
            private_dir(folder, tighten=True)
            st = folder.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o077:
                continue  # a folder another account can read (or planted by one) never gets the command line
            # O_NOFOLLOW: a link planted in place of the log never receives the command line.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                private_file(path)
                f.write(text)
            return path
        except OSError:
            continue
    return Path("(nowhere: the log folder and the temporary folder are not writable)")
