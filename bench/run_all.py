"""Run every benchmark and write one JSON with each figure and its ratio to the raw limit measured in the same run.

    python bench/run_all.py [--out bench/results.json] [--quick]

--quick shrinks the big inputs (export 200,000 rows, sync 20,000, morning 2,000, 20 kill rounds) for a fast look.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_FACES = HERE.parents[1] / "shared" / "mask-data"


def run(script: str, *args: str) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1], "seconds": round(time.perf_counter() - t0)}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    results = {
        "decision_latency": run("latency.py"),
        "log_rate": run("log_rate.py"),
        "framer_rate": run("framer_rate.py"),
        "sync_rate": run("sync_rate.py", "--rows", "20000" if q else "100000"),
        "export_rate": run("export_rate.py", "--rows", "200000" if q else "1000000"),
        "mask_rate": run("mask_rate.py"),
        "unplug": run("unplug.py"),
        "ui_rate": run("ui_rate.py"),
        "kill_minus_9": run("crash.py", "--rounds", "20" if q else "100"),
        "school_morning": run("morning.py", "--entrants", "2000" if q else "10000"),
    }
    if SHARED_FACES.is_dir():
        results["mask_accuracy"] = run("mask_accuracy.py", str(SHARED_FACES), "--held-out")
    summary = {
        "decision_latency_p99_ms": results["decision_latency"].get("p99_ms"),
        "log_rate_ratio_vs_raw_sqlite3": results["log_rate"].get("ratio"),
        "gy_framer_mb_per_s": results["framer_rate"].get("framers", {}).get("gy-mcu90614", {}).get("mb_per_s"),
        "sync_ratio_vs_raw_insert": results["sync_rate"].get("ratio"),
        "export_ratio_vs_raw_csv_writer": results["export_rate"].get("ratio"),
        "mask_ms_per_frame_median": results["mask_rate"].get("ms_median"),
        "ui_screenings_per_s": results["ui_rate"].get("ui_screenings_per_s"),
        "kill_minus_9_lost": results["kill_minus_9"].get("lost"),
        "morning_fevers_caught": f"{results['school_morning'].get('fevers_caught')}/"
                                 f"{results['school_morning'].get('fevers')}",
    }
    doc = {"benchmark": "run_all", "quick": q, "summary": summary, "results": results}
    Path(args.out).write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(doc, ensure_ascii=False))


if __name__ == "__main__":
    main()
