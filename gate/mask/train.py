"""``gate mask train --model svm``: fit the old linear mask classifier on labelled photos and write the weights file.

C is chosen by 5-fold cross-validation inside the training part; the held-out part (see dataset.py) is only scored at
the end, and never seen by training.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from gate.mask import dataset
from gate.mask.classifier import WEIGHTS, LinearMaskModel, judge
from gate.mask.detector import FaceDetector
from gate.mask.features import features

C_GRID = (0.0003, 0.001, 0.003, 0.01, 0.1)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    svm = cv2.ml.SVM_create()
    svm.setType(cv2.ml.SVM_C_SVC)
    svm.setKernel(cv2.ml.SVM_LINEAR)
    svm.setC(c)
    svm.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 20000, 1e-6))
    svm.train(x, cv2.ml.ROW_SAMPLE, np.where(y == 1, 1, -1).astype(np.int32))
    sv = svm.getSupportVectors()[0]
    rho, _alpha, _idx = svm.getDecisionFunction(0)
    w, b = sv.astype(np.float64), -float(rho)
    # OpenCV's sign convention is not documented: orient the margin so that positive means "mask".
    if np.mean(((x @ w + b) > 0) == (y == 1)) < 0.5:
        w, b = -w, -b
    return w, b


def _platt(margins: np.ndarray, y: np.ndarray) -> float:
    """One-parameter Platt scale: P(mask) = sigmoid(a * margin), a by Newton steps on the log-likelihood."""
    a = 1.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a * margins, -30, 30)))
        grad = np.sum((p - y) * margins)
        hess = np.sum(p * (1 - p) * margins ** 2) + 1e-9
        a -= grad / hess
        a = float(np.clip(a, 0.05, 50.0))
    return a


def extract(items, detector: FaceDetector, progress: Callable[[str], None]):
    xs, ys, names, misses = [], [], [], 0
    for n, (path, label) in enumerate(items, 1):
        img = cv2.imread(str(path))
        faces = detector.detect(img) if img is not None else []
        if not faces:
            misses += 1
            continue
        xs.append(features(img, faces[0]))
        ys.append(1 if label == "yes" else 0)
        names.append(path.name)
        if n % 500 == 0:
            progress(f"  features: {n}/{len(items)}")
    return np.array(xs, np.float32), np.array(ys), names, misses


def fit_model(x: np.ndarray, y: np.ndarray) -> LinearMaskModel:
    """The old procedure: standardise, C by 5-fold cross-validation, linear SVM, one-parameter Platt scale."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = ((x - mean) / std).astype(np.float32)
    folds = np.arange(len(y)) % 5
    best_c, best_acc = C_GRID[0], -1.0
    for c in C_GRID:
        accs = []
        for k in range(5):
            w, b = _fit(xs[folds != k], y[folds != k], c)
            accs.append(np.mean(((xs[folds == k] @ w + b) > 0) == (y[folds == k] == 1)))
        if np.mean(accs) > best_acc:
            best_c, best_acc = c, float(np.mean(accs))
    w, b = _fit(xs, y, best_c)
    scale = _platt(xs @ w + b, y)
    return LinearMaskModel(mean, std, w, b, scale, {"c": best_c, "cv_accuracy": round(best_acc, 4),
                                                    "features": int(x.shape[1])})


def train(data_dir: str | Path, out: Path = WEIGHTS, progress: Callable[[str], None] = print) -> dict:
    t0 = time.time()
    items = dataset.load(data_dir)
    train_items = [it for it in items if not dataset.held_out(it[0])]
    test_items = [it for it in items if dataset.held_out(it[0])]
    progress(f"{len(items)} photos: {len(train_items)} for training, {len(test_items)} held out")
    detector = FaceDetector()
    x, y, _, misses = extract(train_items, detector, progress)
    if len(set(y.tolist())) < 2:
        raise dataset.DatasetError("training needs photos of both classes (with and without masks)")
    model = fit_model(x, y)
    model.meta.update({"train_faces": int(len(y)), "train_photos_without_face": misses,
                       "held_out_rule": "sha1(file name) % 5 == 0", "trained_at": time.strftime("%Y-%m-%d")})
    report = {"weights": str(out), **model.meta, "held_out": evaluate(model, test_items, detector)}
    model.meta["held_out"] = report["held_out"]
    model.save(out)
    report["seconds"] = round(time.time() - t0, 1)
    return report


def evaluate(model: LinearMaskModel, items, detector: FaceDetector) -> dict:
    right = no_total = no_caught = yes_pred = no_pred_right = no_pred = faces = 0
    for path, label in items:
        img = cv2.imread(str(path))
        found = detector.detect(img) if img is not None else []
        guess = "unknown"
        if found:
            faces += 1
            guess = judge(model.p_mask(features(img, found[0]))).mask
        right += guess == label
        if label == "no":
            no_total += 1
            no_caught += guess == "no"
        if guess == "no":
            no_pred += 1
            no_pred_right += label == "no"
        yes_pred += guess == "yes"
    n = max(len(items), 1)
    return {"photos": len(items), "accuracy": round(right / n, 4),
            "no_mask_recall": round(no_caught / max(no_total, 1), 4),
            "no_mask_precision": round(no_pred_right / max(no_pred, 1), 4), "faces_found": round(faces / n, 4)}
