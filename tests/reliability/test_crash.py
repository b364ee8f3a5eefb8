"""kill -9 the running station mid-stream, 20 times: every decision it printed is in the log after restart, the chain
verifies and SQLite's integrity check passes."""
import json
import signal
import subprocess
import sys
import time

from sim.simulator import Simulator
from storage.log import ScreeningLog
from tests.conftest import ROOT, env_with_root

ROUNDS = 20


def test_kill_minus_9_the_station_twenty_times(tmp_path):
    sim = Simulator("gy-mcu90614", "fevers", link=tmp_path / "gy", seed=3, pace=8.0).start()
    db = tmp_path / "station.db"
    printed: list[str] = []
    try:
        for round_ in range(ROUNDS):
            proc = subprocess.Popen(
                [sys.executable, "-m", "gate.cli", "run", "--headless", "--url", sim.path, "--protocol",
                 "gy-mcu90614", "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env=env_with_root(), cwd=ROOT)
            seen_here = 0
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                printed.append(json.loads(line)["id"])
                seen_here += 1
                if seen_here >= 1 + round_ % 3:  # kill at a different point each round
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            printed += [json.loads(x)["id"] for x in proc.stdout.read().splitlines() if x.startswith("{")]
            assert seen_here >= 1, f"round {round_}: the station printed nothing"
        with ScreeningLog(db) as log:
            assert set(printed) <= log.ids()
            assert log.verify().ok
            with log.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        sim.stop()
    assert len(printed) >= ROUNDS
