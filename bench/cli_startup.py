"""How long the `gate` command takes to start, against bare Python in the same run. Prints JSON.

Runs `python -c pass`, `gate --help` and `gate screen ...` (a real screening into a temporary log, so the log's
schema exists after the first run, as on a station) N times each, interleaved so that a busy machine slows all of
them alike, and reports the medians and each command's difference from bare Python. The target is a difference of at
most 0.25 s. References run alongside: importing SQLAlchemy (Core only: the log does not use the ORM; the floor
of any command that opens the log), the same with its objects frozen out of the garbage collector (as `gate` freezes
what it loads, so the collection at exit skips them) and importing the core `gate screen` wraps (so the command
line's own share is the rest). CPU time is reported beside wall time: on a shared machine it is the steadier figure.

The project's modules are byte-compiled first, as `pip install` does on a station: with PYTHONDONTWRITEBYTECODE set
(as in some shells and CI) an editable checkout would otherwise compile every module from source on every run,
about 0.15 s of CPU that no station pays.

    python bench/cli_startup.py [--runs 20]
"""
from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.options import options  # noqa: E402
from tests.support import env_with_root  # noqa: E402  (the one helper module tests and benches share)

TARGET_S = 0.25


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one run; CPU time barely moves when other work loads
    the machine, so it shows the command's own cost beside the wall time a person waits."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    args = options(__doc__, runs=20)
    env = env_with_root()
    root = Path(__file__).resolve().parents[1]
    for package in ("domain", "drivers", "storage", "sim", "gate"):
        compileall.compile_dir(root / package, quiet=1)
    script = Path(sys.executable).with_name("gate")  # the console script a user types; else the module
    gate = [str(script)] if script.exists() else [sys.executable, "-m", "gate.cli"]
    with tempfile.TemporaryDirectory(prefix="gate-startup-") as tmp:
        db = str(Path(tmp) / "gate.db")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "floor: import sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
            # The same, its objects frozen out of the collector as `gate` does with what it loads (gate.cli.parse):
            # else the collection at exit scans them all once more.
            "floor: import sqlalchemy, frozen": [sys.executable, "-c", "import gc, sqlalchemy; gc.freeze()"],
            "core: import gate.station, storage.log": [sys.executable, "-c", "import gate.station, storage.log"],
            "gate --help": [*gate, "--help"],
            "gate screen": [*gate, "screen", "--temp", "36.6", "--mask", "yes", "--operator", "bench", "--db", db],
        }
        timed(commands["gate screen"], env)  # the first screening creates the log; a station's log exists already
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                w, c = timed(argv, env)
                wall[name].append(w)
                cpu[name].append(c)
    medians = {name: round(statistics.median(ts), 4) for name, ts in wall.items()}
    cpu_medians = {name: round(statistics.median(ts), 4) for name, ts in cpu.items()}
    bare = medians["python -c pass"]
    print(json.dumps({
        "runs": args.runs,
        "median_s": medians,
        "over_bare_python_s": {name: round(m - bare, 4) for name, m in medians.items() if name != "python -c pass"},
        "target_over_bare_s": TARGET_S,
        "within_target": {name: medians[name] - bare <= TARGET_S for name in ("gate --help", "gate screen")},
        "cpu_median_s": cpu_medians,
        "cpu_over_bare_python_s": {name: round(m - cpu_medians["python -c pass"], 4) for name, m in
                                   cpu_medians.items() if name != "python -c pass"},
        "load_average": os.getloadavg()[0],
        "bytecode": "compiled before the runs, as pip install does",
        "python": sys.version.split()[0],
    }, indent=2))


if __name__ == "__main__":
    main()
