"""Mask check accuracy on a labelled folder (with_mask/ + without_mask/, or labels.csv with file,label). JSON out.

No face and "unknown" count as errors. ``--held-out`` scores only the part training never saw (sha1(name) % 5 == 0).

    python bench/mask_accuracy.py ../shared/mask-data --held-out
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402

from gate.mask import dataset  # noqa: E402
from gate.mask.check import MaskCheck  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--held-out", action="store_true", help="only the photos training never saw")
    ap.add_argument("--rules", action="store_true", help="score the rules-only fallback instead of the weights")
    args = ap.parse_args()
    items = dataset.load(args.folder)
    if args.held_out:
        items = [it for it in items if dataset.held_out(it[0])]
    check = MaskCheck(model=None) if args.rules else MaskCheck()
    ms, right, faces = [], 0, 0
    tp = fp = fn = 0  # for "no mask"
    unreadable = 0
    for path, label in items:
        img = cv2.imread(str(path))
        if img is None:
            unreadable += 1
            continue
        t0 = time.perf_counter()
        r = check.check(img)
        ms.append((time.perf_counter() - t0) * 1000)
        faces += r.face
        right += r.mask == label
        tp += r.mask == "no" and label == "no"
        fp += r.mask == "no" and label == "yes"
        fn += r.mask != "no" and label == "no"
    n = len(items)
    ms.sort()
    print(json.dumps({
        "benchmark": "mask_accuracy", "folder": args.folder, "held_out_only": args.held_out, "method": check.method,
        "images": n, "unreadable": unreadable,
        "accuracy": round(right / n, 4),
        "no_mask_precision": round(tp / max(tp + fp, 1), 4), "no_mask_recall": round(tp / max(tp + fn, 1), 4),
        "faces_found": round(faces / n, 4),
        "ms_median": round(statistics.median(ms), 2), "ms_p95": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "goals": {"accuracy": 0.95, "no_mask_recall": 0.95, "faces_found": 0.98},
    }))


if __name__ == "__main__":
    main()
