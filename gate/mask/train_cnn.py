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
from gate.mask import augment, dataset, evaluate, folds, negatives
from gate.mask.cnn import FACE_MIN, MODEL, SIZE, CnnMaskModel, record_path
from gate.mask.detector import SCORE_THRESHOLD, SECOND_LOOK, FaceDetector
from gate.mask.features import align

EPOCHS = 24
BATCH = 64
THREADS = 1  # two cores shared with the station (and, here, with other work): one thread trains fastest per core
SHIPPED_FOLD = 0
NOT_A_FACE = 2  # the third output; 0 = no mask, 1 = mask
SCENES = 1000  # procedural face-free scenes (negatives.py), dealt to the folds like the photos
NEGATIVE_SHARE = 0.35  # face-free crops drawn per epoch, as a share of the faces: enough to learn, cheap to train


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
    """Every photo read once: its aligned face with margin (None without a face), label and cluster fold; and the
    face-free crops with their folds."""
    split: folds.Split
    canvases: list[np.ndarray | None]
    y: np.ndarray  # 1 = mask
    svm_features: list[np.ndarray | None] | None = None  # the old model's features, when asked for
    non_faces: list[np.ndarray] | None = None
    non_face_fold: np.ndarray | None = None  # the fold each face-free crop belongs to (held out like a photo)
    non_face_score: np.ndarray | None = None  # BlazeFace's score of the box it was cut from
    non_face_scene: np.ndarray | None = None  # a procedural scene (else tiles of a photo)
    faint: np.ndarray | None = None  # the face was found by the second look only (BlazeFace score under 0.3)


def prepare(data_dir: str | Path, k: int = folds.FOLDS, seed: int = folds.SEED,
            progress: Callable[[str], None] = print, svm_features: bool = False) -> Prepared:
    from gate.mask.features import features

    items = dataset.load(data_dir)
    detector = FaceDetector(second_look=SECOND_LOOK)  # as the station looks
    images, canvases, feats, faint = [], [], [], []
    for n, (path, _label) in enumerate(items, 1):
        img = cv2.imread(str(path))
        images.append(img)
        found = detector.detect(img) if img is not None else []
        canvases.append(align(img, found[0], SIZE, augment.MARGIN)[0] if found else None)
        faint.append(bool(found) and found[0].score < SCORE_THRESHOLD)
        if svm_features:
            feats.append(features(img, found[0]) if found else None)
        if n % 500 == 0:
            progress(f"  faces: {n}/{len(items)}")
    split = folds.make_split(items, images, k=k, seed=seed)
    allowed = set(negatives.tile_sources([p for p, _ in items], [lab for _, lab in items]))
    crops, source, scores = negatives.make(SCENES, seed, SIZE, augment.MARGIN,
                                   [images[i] if i in allowed else None for i in range(len(images))], progress)
    crop_fold = np.array([n % k if s < 0 else split.fold[s] for n, s in enumerate(source)])
    return Prepared(split, canvases, np.array([1 if label == "yes" else 0 for _, label in items]),
                    svm_features=feats if svm_features else None, non_faces=crops, non_face_fold=crop_fold,
                    non_face_score=np.array(scores), non_face_scene=np.array(source) < 0, faint=np.array(faint))


def fit(canvases: list[np.ndarray], y: np.ndarray, seed: int, epochs: int, progress: Callable[[str], None],
        non_faces: list[np.ndarray] = ()):
    """Train a MaskNet on aligned canvases with camera augmentation, and on face-free crops as "not a face" (a fresh
    NEGATIVE_SHARE of them each epoch); returns the model in eval mode."""
    torch = _torch()
    from gate.mask.net import MaskNet

    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = MaskNet()
    canvases = list(canvases) + list(non_faces)
    y = np.concatenate([y, np.full(len(non_faces), NOT_A_FACE)]).astype(int)
    faces, others = np.nonzero(y != NOT_A_FACE)[0], np.nonzero(y == NOT_A_FACE)[0]
    per_epoch = len(faces) + min(len(others), int(NEGATIVE_SHARE * len(faces)))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    steps = epochs * ((per_epoch + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    # Mask and no mask weighted by their frequency, "not a face" as the mean of the two; safety is set afterwards by
    # the unknown band, chosen on validation folds.
    w = [len(faces) / max((y == c).sum(), 1) for c in (0, 1)]
    weight = torch.tensor(w + [sum(w) / 2] if len(others) else w + [0.0], dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight / weight[:2].mean(), label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        drawn = rng.permutation(others)[:per_epoch - len(faces)]
        order, total = rng.permutation(np.concatenate([faces, drawn])), 0.0
        for start in range(0, per_epoch, BATCH):
            idx = order[start:start + BATCH]
            crops = [augment.augment(canvases[i], int(y[i]), rng)[0] for i in idx]
            x = torch.from_numpy(_blob(crops))
            loss = loss_fn(model(x), torch.from_numpy(y[idx]).long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        progress(f"    epoch {epoch + 1}/{epochs}: loss {total / per_epoch:.4f}")
    return model.eval()


def _blob(crops: list[np.ndarray]) -> np.ndarray:
    from gate.mask.cnn import blob

    return blob([np.ascontiguousarray(c) for c in crops])


def fold_non_faces(prep: Prepared, k: int) -> list[np.ndarray]:
    """The face-free crops fold k's network learns from: the other folds' scenes (its own fold's scenes, and every
    tiled photo, only check it)."""
    return [c for c, f, scene in zip(prep.non_faces, prep.non_face_fold, prep.non_face_scene) if f != k and scene]


def train_fold(prep: Prepared, work: Path, k: int, seed: int, epochs: int, progress: Callable[[str], None]) -> None:
    """Fold k's network, trained on the other folds, written as ``work/fold_K.onnx``."""
    from gate.mask.net import export_onnx

    t0 = time.time()
    has_face = np.array([c is not None for c in prep.canvases])
    train_idx = np.nonzero((prep.split.fold != k) & has_face)[0]
    others = fold_non_faces(prep, k)
    progress(f"  fold {k}: training on {len(train_idx)} faces of the other folds and {len(others)} face-free crops")
    model = fit([prep.canvases[i] for i in train_idx], prep.y[train_idx], seed + k, epochs, progress, others)
    export_onnx(model, work / f"fold_{k}.onnx", SIZE)
    progress(f"  fold {k}: {time.time() - t0:.0f} s")


def train_folds(prep: Prepared, work: Path, seed: int, epochs: int, progress: Callable[[str], None]) -> None:
    """One network per fold (``train_fold``), then the manifest that lets them be reused."""
    for k in range(prep.split.k):
        train_fold(prep, work, k, seed, epochs, progress)
    (work / "manifest.json").write_text(json.dumps(manifest(prep, seed, epochs)), encoding="utf-8")


def manifest(prep: Prepared, seed: int, epochs: int) -> dict:
    return {"data_sha256": prep.split.data_sha256, "fold_sha256": prep.split.split_sha256(), "seed": seed,
            "epochs": epochs, "non_faces": negatives_record()}


def negatives_record() -> dict:
    return {"recipe": negatives.RECIPE, "scenes": SCENES, "share_per_epoch": NEGATIVE_SHARE,
            "second_look": SECOND_LOOK}


def fold_models_match(prep: Prepared, work: Path, seed: int, epochs: int) -> bool:
    try:
        return json.loads((work / "manifest.json").read_text(encoding="utf-8")) == manifest(prep, seed, epochs)
    except (OSError, ValueError):
        return False


def raw_scores(prep: Prepared, work: Path) -> tuple[list[float | None], list[float | None]]:
    """Out-of-fold (P(mask | a face), P(a face)) per photo, None where the detector found no face: each fold scored
    by its own network, through cv2.dnn."""
    p_mask: list[float | None] = [None] * len(prep.y)
    p_face: list[float | None] = [None] * len(prep.y)
    for k in range(prep.split.k):
        idx = [i for i in np.nonzero(prep.split.fold == k)[0] if prep.canvases[i] is not None]
        m, f = CnnMaskModel(work / f"fold_{k}.onnx", band=(0.5, 0.5)).scores(
            [augment.centre_crop(prep.canvases[i]) for i in idx])
        for i, a, b in zip(idx, m, f):
            p_mask[i], p_face[i] = float(a), float(b)
    return p_mask, p_face


def non_face_scores(prep: Prepared, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """(P(mask | a face), P(a face)) of every face-free crop, by the network of its fold (which never saw it)."""
    p_mask, p_face = np.zeros(len(prep.non_faces)), np.zeros(len(prep.non_faces))
    for k in range(prep.split.k):
        idx = np.nonzero(prep.non_face_fold == k)[0]
        if len(idx):
            p_mask[idx], p_face[idx] = CnnMaskModel(work / f"fold_{k}.onnx", band=(0.5, 0.5)).scores(
                [augment.centre_crop(prep.non_faces[i]) for i in idx])
    return p_mask, p_face


def shown_at_gate(prep: Prepared) -> np.ndarray:
    """The face-free crops the gate's detector would show the network (its score reaches the second look)."""
    return prep.non_face_score >= SECOND_LOOK


def score_folds(prep: Prepared, work: Path, face_min: float = FACE_MIN) -> list[float | None]:
    """Out-of-fold P(mask) per photo; None without a face, or when the network says it is none (P(face) < face_min)."""
    p_mask, p_face = raw_scores(prep, work)
    return [None if f is None or f < face_min else m for m, f in zip(p_mask, p_face)]


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
        p_mask, p_face = raw_scores(prep, work)
        labels = ["yes" if v else "no" for v in prep.y]
        nf_mask, nf_face = non_face_scores(prep, work)
        shown = shown_at_gate(prep)
        face_min, band, why, per_floor = evaluate.choose_face_min_and_band(
            p_mask, p_face, labels, split.fold, nf_mask[shown], nf_face[shown], prep.non_face_fold[shown])
        p = [None if f is None or f < face_min else m for m, f in zip(p_mask, p_face)]
        shipped = work / f"fold_{SHIPPED_FOLD}.onnx"
        record = {
            "model": out.name, "input": f"aligned face {SIZE}x{SIZE} BGR, (x - 127.5) / 127.5",
            "onnx_sha256": hashlib.sha256(shipped.read_bytes()).hexdigest(),
            "unknown_band": list(band), "face_min": face_min, "band_reason": why,
            "data": {"folder": Path(data_dir).name, "photos": len(prep.y), "sha256": split.data_sha256},
            "split": {"hash": "64-bit dHash of photo and mirror image", "duplicate_bits": split.threshold,
                      "clusters": int(split.cluster.max()) + 1, "folds": k, "seed": seed,
                      "fold_sha256": split.split_sha256(), "shipped_fold_held_out": SHIPPED_FOLD},
            "non_faces": {**negatives_record(), "crops": len(prep.non_faces), "shown_at_gate": int(shown.sum()),
                          "held_out_by_floor": {str(k): v for k, v in per_floor.items()}},
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
