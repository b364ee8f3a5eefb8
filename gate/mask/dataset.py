"""Labelled face photos: a folder with ``with_mask/`` and ``without_mask/``, or a ``labels.csv`` (file,label).

``held_out`` (a hash of the file name, one in five) is the old SVM trainer's split. It puts near-duplicates on both
sides; the network and the accuracy bench split by near-duplicate clusters instead (folds.py).
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from domain.errors import UsageError

LABELS = {"with_mask": "yes", "mask": "yes", "yes": "yes", "without_mask": "no", "no_mask": "no", "no": "no"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


class DatasetError(UsageError):
    pass


def held_out(path: Path) -> bool:
    return int(hashlib.sha1(path.name.encode("utf-8")).hexdigest(), 16) % 5 == 0


def load(data_dir: str | Path) -> list[tuple[Path, str]]:
    """(image path, "yes" | "no") pairs; raises DatasetError saying what the folder should look like."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    csv_path = root / "labels.csv"
    items: list[tuple[Path, str]] = []
    if csv_path.exists():
        with csv_path.open(encoding="utf-8-sig", newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                label = LABELS.get((row.get("label") or "").strip().lower())
                if not row.get("file") or label is None:
                    raise DatasetError(f"{csv_path} line {n}: need file and label (with_mask / without_mask)")
                items.append((root / row["file"].strip(), label))
    else:
        for folder, label in (("with_mask", "yes"), ("without_mask", "no")):
            for p in sorted((root / folder).glob("*")) if (root / folder).is_dir() else ():
                if p.suffix.lower() in IMAGE_SUFFIXES:
                    items.append((p, label))
    if not items:
        raise DatasetError(f"{root} has no labelled images: give with_mask/ and without_mask/ folders or a "
                           "labels.csv with columns file,label")
    return items
