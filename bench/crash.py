"""kill -9 the running station (`gate run --headless` on a simulated sensor) mid-stream, again and again; after each
restart every decision it printed must be in the log, the chain must verify and SQLite's integrity check pass.
Prints JSON. The test suite runs 20 rounds of the same routine; this bench runs 100.

    python bench/crash.py [--rounds 100]
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.options import options  # noqa: E402
from sim.simulator import Simulator  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402


def kill_rounds(rounds: int, workdir: Path) -> dict:
    sim = Simulator("gy-mcu90614", "fevers", link=workdir / "gy", seed=3, pace=8.0).start()
    db = workdir / "station.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    printed: list[str] = []
    empty_rounds = 0
    t0 = time.perf_counter()
    try:
        for round_ in range(rounds):
            proc = subprocess.Popen([sys.executable, "-m", "gate.cli", "run", "--headless", "--url", sim.path,
                                     "--protocol", "gy-mcu90614", "--db", str(db)], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
            seen = 0
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                printed.append(json.loads(line)["id"])
                seen += 1
                if seen >= 1 + round_ % 3:  # kill at a different point each round
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            printed += [json.loads(x)["id"] for x in proc.stdout.read().splitlines() if x.startswith("{")]
            empty_rounds += seen == 0
        with ScreeningLog(db) as log:
            stored = log.ids()
            verified = log.verify().ok
            with log.engine.connect() as conn:
                integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    finally:
        sim.stop()
    return {"rounds": rounds, "decisions_printed": len(printed), "lost": len(set(printed) - stored),
            "rows_in_log": len(stored), "chain_verifies": verified, "integrity_check": integrity,
            "rounds_without_a_decision": empty_rounds, "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    args = options(__doc__, rounds=100)
    with tempfile.TemporaryDirectory() as d:
        print(json.dumps({"benchmark": "kill_minus_9", **kill_rounds(args.rounds, Path(d))}))


if __name__ == "__main__":
    main()
