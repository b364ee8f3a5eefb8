"""A long read (the auditor's Verify, on the station's own log object) never blocks a screening from another process.

Readers take no write lock: WAL lets them read a snapshot while the writer commits beside them.
"""
import json
import subprocess
import threading
from pathlib import Path

from domain import Decision
from storage.log import ScreeningLog
from tests.conftest import GATE, env_with_root
from tests.support import fill_log as fill

# Enough for several verify batches. The verify is held open by its progress hook, not by the size of the log, so
# the test proves the ordering on any machine; bench/verify_beside_screening.py runs it with 200,000 rows.
ROWS = 20_000


def test_a_screening_from_another_process_commits_while_the_station_verifies_its_log(tmp_path):
    db = tmp_path / "gate.db"
    fill(db, ROWS)
    with ScreeningLog(db) as log:  # the station's own log object, as the auditor screen's Verify uses it
        reading = threading.Event()
        release = threading.Event()
        seen: list[int] = []

        def progress(rows_checked: int) -> None:
            seen.append(rows_checked)
            if rows_checked and not reading.is_set():
                reading.set()
                # Hold the verify mid-chain, inside its read transaction, until the other process has finished.
                release.wait()

        out: dict = {}
        verifier = threading.Thread(target=lambda: out.update(result=log.verify(progress=progress)))
        verifier.start()
        try:
            assert reading.wait(120), "verify never started reading"
            screen = subprocess.run([GATE, "screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", "--json",
                                     "--entrant", "P7"], capture_output=True, text=True, env=env_with_root())
            verify_still_running = verifier.is_alive() and seen == [0, 5000]
        finally:
            release.set()
            verifier.join()
        assert screen.returncode == 0, screen.stderr
        assert "locked" not in screen.stderr
        assert verify_still_running  # the screening committed while the verify held its read open
        stored = log.get(json.loads(screen.stdout)["id"])
        assert stored is not None and stored.decision is Decision.ADMIT and stored.entrant_id == "P7"
        # The verify read one snapshot: the chain as it was when it began, all of it intact.
        result = out["result"]
        assert result.ok and result.rows == ROWS
        assert log.verify().ok and log.count() == ROWS + 1
