"""``gate mask train``: the mask network, trained with PyTorch (optional extra ``[train]``) on cluster-split folds.

One network per fold is trained on the other folds and scored on its own, through OpenCV's DNN module as the station
runs it; the unknown band is chosen on those out-of-fold scores (evaluate.choose_band). The shipped network is fold
0's, so fold 0's photos stay unseen by it: tests check it on them. Its record says how to make it again.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from domain.errors import UsageError
from gate.mask import augment, dataset, evaluate, folds
from gate.mask.cnn import MODEL, SIZE, CnnMaskModel, record_path
from gate.mask.detector import FaceDetector
from gate.mask.features import align

EPOCHS = 24
BATCH = 64
THREADS = 1  # two cores shared with the station (and, here, with other work): one thread trains fastest per core
SHIPPED_FOLD = 0


class TrainingUnavailable(UsageError):
    """PyTorch (the optional extra [train]) is not installed: the station never needs it, training does."""


def _torch():
    try:
        import torch
    except ImportError:
        raise TrainingUnavailable(
            "gate mask train needs PyTorch, which the station itself does not: pip install -e '.[train]' "
            "(on this machine the CPU build: pip install torch==2.13.0)") from None
    return torch


@dataclass
class Prepared:
    """Every photo read once: its aligned face with margin (None without a face), label and cluster fold."""
    split: folds.Split
    canvases: list[np.ndarray | None]
    y: np.ndarray  # 1 = mask
    svm_features: list[np.ndarray | None] | None = None  # the old model's features, when asked for


def prepare(data_dir: str | Path, k: int = folds.FOLDS, seed: int = folds.SEED,
            progress: Callable[[str], None] = print, svm_features: bool = False) -> Prepared:
    from gate.mask.features import features

    items = dataset.load(data_dir)
    detector = FaceDetector()
    images, canvases, feats = [], [], []
    for n, (path, _label) in enumerate(items, 1):
        img = cv2.imread(str(path))
        images.append(img)
        found = detector.detect(img) if img is not None else []
        canvases.append(align(img, found[0], SIZE, augment.MARGIN)[0] if found else None)
        if svm_features:
            feats.append(features(img, found[0]) if found else None)
        if n % 500 == 0:
            progress(f"  faces: {n}/{len(items)}")
    split = folds.make_split(items, images, k=k, seed=seed)
    return Prepared(split, canvases, np.array([1 if label == "yes" else 0 for _, label in items]),
                    feats if svm_features else None)


def fit(canvases: list[np.ndarray], y: np.ndarray, seed: int, epochs: int, progress: Callable[[str], None]):
    """Train a MaskNet on aligned canvases with camera augmentation; returns the model in eval mode."""
    torch = _torch()
    from gate.mask.net import MaskNet

    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = MaskNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    steps = epochs * ((len(y) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    # Classes weighted by their frequency; safety is set afterwards by the unknown band, chosen on validation folds.
    weight = torch.tensor([len(y) / max((y == 0).sum(), 1), len(y) / max((y == 1).sum(), 1)], dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight / weight.mean(), label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        order, total = rng.permutation(len(y)), 0.0
        for start in range(0, len(y), BATCH):
            idx = order[start:start + BATCH]
            crops = [augment.augment(canvases[i], int(y[i]), rng)[0] for i in idx]
            x = torch.from_numpy(_blob(crops))
            loss = loss_fn(model(x), torch.from_numpy(y[idx]).long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        progress(f"    epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}")
    return model.eval()


def _blob(crops: list[np.ndarray]) -> np.ndarray:
    from gate.mask.cnn import blob

    return blob([np.ascontiguousarray(c) for c in crops])


def train_folds(prep: Prepared, work: Path, seed: int, epochs: int, progress: Callable[[str], None]) -> None:
    """One network per fold, trained on the other folds, written as ``work/fold_K.onnx`` with a manifest."""
    from gate.mask.net import export_onnx

    split = prep.split
    has_face = np.array([c is not None for c in prep.canvases])
    for k in range(split.k):
        t0 = time.time()
        train_idx = np.nonzero((split.fold != k) & has_face)[0]
        progress(f"  fold {k}: training on {len(train_idx)} faces of the other folds")
        model = fit([prep.canvases[i] for i in train_idx], prep.y[train_idx], seed + k, epochs, progress)
        export_onnx(model, work / f"fold_{k}.onnx", SIZE)
        progress(f"  fold {k}: {time.time() - t0:.0f} s")
    (work / "manifest.json").write_text(json.dumps(manifest(prep, seed, epochs)), encoding="utf-8")


def manifest(prep: Prepared, seed: int, epochs: int) -> dict:
    return {"data_sha256": prep.split.data_sha256, "fold_sha256": prep.split.split_sha256(), "seed": seed,
            "epochs": epochs}


def fold_models_match(prep: Prepared, work: Path, seed: int, epochs: int) -> bool:
    try:
        return json.loads((work / "manifest.json").read_text(encoding="utf-8")) == manifest(prep, seed, epochs)
    except (OSError, ValueError):
        return False


def score_folds(prep: Prepared, work: Path) -> list[float | None]:
    """Out-of-fold P(mask) per photo (None without a face): each fold scored by its own network, through cv2.dnn."""
    p: list[float | None] = [None] * len(prep.y)
    for k in range(prep.split.k):
        idx = [i for i in np.nonzero(prep.split.fold == k)[0] if prep.canvases[i] is not None]
        net = CnnMaskModel(work / f"fold_{k}.onnx", band=(0.5, 0.5))
        for i, s in zip(idx, net.p_masks([augment.centre_crop(prep.canvases[i]) for i in idx])):
            p[i] = float(s)
    return p


def oof_figures(prep: Prepared, p: list[float | None], band: tuple[float, float]) -> dict:
    labels = ["yes" if v else "no" for v in prep.y]
    said = evaluate.verdicts(p, band)
    fold = prep.split.fold
    per_fold = []
    for k in range(prep.split.k):
        idx = np.nonzero(fold == k)[0]
        per_fold.append(evaluate.figures([labels[i] for i in idx], [said[i] for i in idx],
                                         [p[i] is not None for i in idx]))
    return {"pooled": evaluate.figures(labels, said, [x is not None for x in p]), "per_fold": per_fold,
            "spread": evaluate.spread(per_fold)}


def train(data_dir: str | Path, out: Path = MODEL, k: int = folds.FOLDS, seed: int = folds.SEED,
          epochs: int = EPOCHS, work: Path | None = None, progress: Callable[[str], None] = print) -> dict:
    """Cross-validate, choose the band, write ``out`` (fold 0's network) and its record; returns the record.

    With ``work``, the fold networks are kept there, and reused when they match the data, split, seed and epochs.
    """
    torch = _torch()
    t0 = time.time()
    prep = prepare(data_dir, k, seed, progress)
    split = prep.split
    progress(f"{len(prep.y)} photos in {int(split.cluster.max()) + 1} near-duplicate clusters, {k} folds")
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="gate-mask-")) if own_work else Path(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        if fold_models_match(prep, work, seed, epochs):
            progress(f"  reusing the fold networks in {work}")
        else:
            train_folds(prep, work, seed, epochs, progress)
        p = score_folds(prep, work)
        labels = ["yes" if v else "no" for v in prep.y]
        band, why = evaluate.choose_band(p, labels, split.fold)
        shipped = work / f"fold_{SHIPPED_FOLD}.onnx"
        record = {
            "model": out.name, "input": f"aligned face {SIZE}x{SIZE} BGR, (x - 127.5) / 127.5",
            "onnx_sha256": hashlib.sha256(shipped.read_bytes()).hexdigest(),
            "unknown_band": list(band), "band_reason": why,
            "data": {"folder": Path(data_dir).name, "photos": len(prep.y), "sha256": split.data_sha256},
            "split": {"hash": "64-bit dHash of photo and mirror image", "duplicate_bits": split.threshold,
                      "clusters": int(split.cluster.max()) + 1, "folds": k, "seed": seed,
                      "fold_sha256": split.split_sha256(), "shipped_fold_held_out": SHIPPED_FOLD},
            "training": {"epochs": epochs, "batch": BATCH, "seed": seed, "threads": THREADS,
                         "torch": torch.__version__, "python": platform.python_version(),
                         "command": f"gate mask train --data {data_dir} --folds {k} --seed {seed} --epochs {epochs}"},
            "cross_validation": oof_figures(prep, p, band),
            "seconds": round(time.time() - t0),
            "trained_at": time.strftime("%Y-%m-%d"),
        }
        shutil.copyfile(shipped, out)
        record_path(out).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return record
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # python -m gate.mask.train_cnn DATA [WORK]
    rec = train(sys.argv[1], work=Path(sys.argv[2]) if len(sys.argv) > 2 else None,
                progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(rec["cross_validation"]["pooled"]))
