"""Figures of a mask check on labelled photos, and the choice of the unknown band, for safety first.

"Bare faces passed as masked" is the safety figure: in must-wear mode those people walk in. Unknowns (no face, or a
probability inside the band) go to staff (F3/F4); they count as errors in the accuracy.
"""
from __future__ import annotations

import statistics

import numpy as np

MAX_BARE_PASSED = 0.01  # issue 17: at most 1 % of bare faces called "mask"
MAX_UNKNOWN = 0.05  # and at most 5 % of all photos sent to staff
# As for bare faces: at most 1 % of the held-out face-free crops (cards, codes, cloth; tiles of bare photos) that the
# gate's detector would show the network may come out "mask".
MAX_NON_FACE_PASSED = 0.01
# Candidate P(face) floors; none above 0.5, which would turn away crops the network itself finds more likely a face.
FACE_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def verdicts(p: list[float | None], band: tuple[float, float]) -> list[str]:
    """yes / no / unknown per photo; None (no face found) is unknown."""
    lo, hi = band
    return ["unknown" if x is None or lo < x < hi else ("yes" if x >= hi else "no") for x in p]


def figures(labels: list[str], said: list[str], found: list[bool]) -> dict:
    """accuracy (unknown = error), no-mask recall, bare passed as masked, unknown rate, faces found, confusion."""
    n = max(len(labels), 1)
    confusion = {t: {s: sum(1 for a, b in zip(labels, said) if a == t and b == s) for s in ("yes", "no", "unknown")}
                 for t in ("yes", "no")}
    bare, masked = max(sum(confusion["no"].values()), 1), max(sum(confusion["yes"].values()), 1)
    return {
        "photos": len(labels),
        "accuracy": round(sum(a == b for a, b in zip(labels, said)) / n, 4),
        "no_mask_recall": round(confusion["no"]["no"] / bare, 4),
        "mask_recall": round(confusion["yes"]["yes"] / masked, 4),
        "bare_passed_as_masked": round(confusion["no"]["yes"] / bare, 4),
        "masked_called_bare": round(confusion["yes"]["no"] / masked, 4),
        "unknown_rate": round(sum(s == "unknown" for s in said) / n, 4),
        "faces_found": round(sum(found) / n, 4),
        "confusion": confusion,
    }


def spread(per_fold: list[dict]) -> dict:
    """Mean, standard deviation, lowest and highest of each figure over the folds."""
    out = {}
    for key, value in per_fold[0].items():
        if isinstance(value, float):
            vals = [f[key] for f in per_fold]
            out[key] = {"mean": round(statistics.fmean(vals), 4), "sd": round(statistics.pstdev(vals), 4),
                        "min": round(min(vals), 4), "max": round(max(vals), 4)}
    return out


def choose_band(p: list[float | None], labels: list[str], fold: np.ndarray) -> tuple[tuple[float, float], str]:
    """The unknown band: on every validation fold bare faces passed as masked <= 1 % and unknowns <= 5 %; among such
    bands the most accurate over all folds, the lower "mask" bar first on ties is refused (the higher one wins).
    Counted with numpy, as ``verdicts`` and ``figures`` would (same rounding), for every band of the grid."""
    grid = [round(x, 3) for x in np.concatenate([np.arange(0.02, 0.2, 0.02), np.arange(0.2, 0.8, 0.05),
                                                  np.arange(0.8, 0.99, 0.01), [0.99, 0.995, 0.998]])]
    x = np.array([np.nan if v is None else v for v in p], float)
    masked = np.array([lab == "yes" for lab in labels])
    fold = np.asarray(fold)
    ks = sorted(set(fold.tolist()))
    size = max(ks) + 1
    per_fold = np.bincount(fold, minlength=size)[ks]
    bare_per_fold = np.maximum(np.bincount(fold[~masked], minlength=size)[ks], 1)
    n = max(len(labels), 1)
    best, best_key = None, None
    for hi in grid:
        yes = x >= hi
        right_yes = int((masked & yes).sum())
        bare_yes = np.bincount(fold[~masked & yes], minlength=size)[ks] / bare_per_fold
        worst_bare = max(round(float(v), 4) for v in bare_yes)
        for lo in (v for v in grid if v <= hi):
            no = (x <= lo) & ~yes
            unknown = np.bincount(fold[~yes & ~no], minlength=size)[ks] / np.maximum(per_fold, 1)
            worst_unknown = max(round(float(v), 4) for v in unknown)
            acc = round((right_yes + int((~masked & no).sum())) / n, 4)
            key = (worst_bare <= MAX_BARE_PASSED and worst_unknown <= MAX_UNKNOWN, acc, hi, -worst_bare)
            if best_key is None or key > best_key:
                best, best_key = (lo, hi), key
    why = ("every fold within the bars" if best_key[0] else
           "NO band keeps every fold within 1 % bare-passed and 5 % unknown: the most accurate band is used")
    return best, why


def choose_face_min_and_band(p_mask: list[float | None], p_face: list[float | None], labels: list[str],
                             fold: np.ndarray, non_face_mask: np.ndarray, non_face_face: np.ndarray,
                             non_face_fold: np.ndarray) -> tuple[float, tuple[float, float], str, dict]:
    """The P(face) floor and the unknown band, together, on out-of-fold scores: photos (p_face None = no face found)
    and face-free crops each scored by the network that never saw them. Safety first: floors whose band keeps every
    fold within the photo bars above, then those passing at most MAX_NON_FACE_PASSED of any fold's face-free crops
    as "mask" (if none does, the fewest), then the most accurate, then the higher floor.
    Returns (floor, band, why, figures per floor)."""
    best, best_key, seen = None, None, {}
    for floor in FACE_GRID:
        p = [None if f is None or f < floor else m for m, f in zip(p_mask, p_face)]
        band, why = choose_band(p, labels, fold)
        passed = (non_face_face >= floor) & (non_face_mask >= band[1])
        worst = max(float(passed[non_face_fold == k].mean()) for k in sorted(set(non_face_fold.tolist())))
        acc = figures(labels, verdicts(p, band), [x is not None for x in p])["accuracy"]
        seen[floor] = {"band": list(band), "accuracy": acc, "non_faces_passed": int(passed.sum()),
                       "worst_fold_non_faces_passed": round(worst, 4)}
        key = (why == "every fold within the bars", -max(0.0, round(worst - MAX_NON_FACE_PASSED, 4)), acc, floor)
        if best_key is None or key > best_key:
            best, best_key = (floor, band), key
    if not best_key[0]:
        why = "NO floor and band keep every fold within the photo bars: the safest on face-free crops used"
    elif best_key[1] < 0:
        why = ("every fold within the photo bars; NO floor keeps face-free crops passed under 1 % on every fold: the "
               "floor passing fewest is used")
    else:
        why = "every fold within the photo bars and at most 1 % of face-free crops passed"
    return best[0], best[1], why, seen
