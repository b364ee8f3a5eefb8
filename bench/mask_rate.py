"""Milliseconds per 640x480 frame for the whole mask check (detect + align + classify), on one core. JSON out.

Raw floor, same run: the face detector's forward pass alone on the same frames (the check cannot be faster).
Wall-clock time and the thread's CPU time are both given: on a shared machine the wall clock also counts the time the
thread waited for a core, which the gate PC (two cores, the station alone) does not.

    python bench/mask_rate.py [--frames 200] [--faces DIR]
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from gate.mask.check import MaskCheck  # noqa: E402
from sim.camera import FRAME_H, FRAME_W, default_face_folder  # noqa: E402


def frames(folder: Path | None, n: int) -> list[np.ndarray]:
    out = []
    photos = sorted((folder / "with_mask").glob("*.jpg"))[: n // 2] + sorted((folder / "without_mask").glob("*.jpg"))[
        : n // 2] if folder else []
    for p in photos:
        img = cv2.imread(str(p))
        frame = np.full((FRAME_H, FRAME_W, 3), 120, np.uint8)
        h, w = img.shape[:2]
        s = min(360 / h, 480 / w)
        img = cv2.resize(img, (int(w * s), int(h * s)))
        h, w = img.shape[:2]
        frame[(FRAME_H - h) // 2:(FRAME_H - h) // 2 + h, (FRAME_W - w) // 2:(FRAME_W - w) // 2 + w] = img
        out.append(frame)
    while len(out) < n:  # no photos at hand: empty scenes still measure the detector's cost
        out.append(np.random.default_rng(len(out)).integers(0, 255, (FRAME_H, FRAME_W, 3), dtype=np.uint8))
    return out


def main() -> None:
    args = options(__doc__, {"faces": "folder with with_mask/ and without_mask/ (default: ../shared/mask-data)"},
                   frames=200, faces=None)
    cv2.setNumThreads(1)
    folder = Path(args.faces) if args.faces else default_face_folder()
    batch = frames(folder, args.frames)
    check = MaskCheck()
    full, det, cpu, cpu_det = [], [], [], []
    for f in batch:
        t0, c0 = time.perf_counter(), time.thread_time()
        check.check(f)
        full.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        t0, c0 = time.perf_counter(), time.thread_time()
        check.detector.detect(f)
        det.append((time.perf_counter() - t0) * 1000)
        cpu_det.append((time.thread_time() - c0) * 1000)
    full.sort()
    cpu.sort()
    print(json.dumps({
        "benchmark": "mask_rate", "frame": f"{FRAME_W}x{FRAME_H}", "threads": 1, "frames": len(batch),
        "faces_in_frames": folder is not None, "method": check.method,
        "ms_median": round(statistics.median(full), 2), "ms_p95": round(full[int(0.95 * (len(full) - 1))], 2),
        "detector_only_ms_median": round(statistics.median(det), 2),
        "ratio_detector_to_full": round(statistics.median(det) / statistics.median(full), 3),
        "cpu_ms_median": round(statistics.median(cpu), 2), "cpu_ms_p95": round(cpu[int(0.95 * (len(cpu) - 1))], 2),
        "detector_only_cpu_ms_median": round(statistics.median(cpu_det), 2),
        "load_average_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count(),
        "goal_ms_median": 5.0,
    }))


if __name__ == "__main__":
    main()
