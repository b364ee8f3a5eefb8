"""The mask check's training side: near-duplicate clusters and the fold split, camera augmentation, and `gate mask
train` (which makes a network OpenCV runs when PyTorch is installed, and says so clearly when it is not)."""
import json

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.mask import folds
from gate.mask.cnn import CnnMaskModel
from tests.functional.test_mask import needs_faces, training_folder
from tests.support import run_gate


# --- The cluster split ------------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=5, max_size=60),
       st.lists(st.tuples(st.integers(0, 59), st.lists(st.integers(0, 63), max_size=folds.DUPLICATE_BITS)),
                max_size=40), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_the_fold_split_never_puts_one_cluster_on_both_sides(base, twins, k, seed):
    hashes = list(base)
    for src, flips in twins:  # planted near-duplicates: a photo's hash with up to DUPLICATE_BITS bits flipped
        h = hashes[src % len(base)]
        for bit in set(flips):
            h ^= 1 << bit
        hashes.append(h)
    plain = np.array(hashes, np.uint64)
    mirror = np.array([int(f"{h:064b}"[::-1], 2) for h in hashes], np.uint64)  # any other hash will do
    dist = folds.distances(plain, mirror)
    np.fill_diagonal(dist, 255)
    ids = folds.clusters(dist)
    labels = ["yes" if i % 3 else "no" for i in range(len(hashes))]
    fold = folds.assign_folds(ids, labels, k, seed)
    assert fold.min() >= 0 and fold.max() < k
    for c in set(ids.tolist()):
        assert len(set(fold[ids == c].tolist())) == 1  # a cluster is on one side only
    close = np.argwhere(dist <= folds.DUPLICATE_BITS)
    assert all(ids[i] == ids[j] and fold[i] == fold[j] for i, j in close)  # every near pair together
    if len(set(ids.tolist())) >= k:
        assert len(set(fold.tolist())) == k  # enough clusters: no fold left empty


def _scene(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((240, 320, 3), np.uint8)
    for _ in range(12):
        c = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.circle(img, tuple(int(v) for v in rng.integers(0, 320, 2)), int(rng.integers(10, 80)), c, -1)
    return img


def test_a_resized_recompressed_or_mirrored_copy_is_the_same_cluster_and_other_photos_are_not():
    a, b = _scene(1), _scene(2)
    ok, jpg = cv2.imencode(".jpg", cv2.resize(a, (200, 150)), [cv2.IMWRITE_JPEG_QUALITY, 30])
    copies = [a, cv2.imdecode(jpg, cv2.IMREAD_COLOR), cv2.flip(a, 1), b]
    hs = [folds.hashes(img) for img in copies]
    dist = folds.distances(np.array([h[0] for h in hs], np.uint64), np.array([h[1] for h in hs], np.uint64))
    np.fill_diagonal(dist, 255)
    ids = folds.clusters(dist)
    assert ids[0] == ids[1] == ids[2] and ids[3] != ids[0]


def test_unreadable_photos_are_their_own_cluster(tmp_path):
    items = [(tmp_path / f"{n}.jpg", "yes" if n % 2 else "no") for n in range(6)]
    for p, _ in items:
        p.write_bytes(b"x")
    split = folds.make_split(items, [_scene(0), _scene(0), None, None, _scene(3), _scene(4)], k=3)
    assert split.cluster[0] == split.cluster[1] and len({split.cluster[2], split.cluster[3], split.cluster[0]}) == 3


# --- Augmentation and training ---------------------------------------------------------------------------------------

def test_camera_augmentations_keep_shape_and_label_and_occluders_cover_the_mouth_not_the_eyes():
    from gate.mask import augment

    canvas = np.ascontiguousarray(np.dstack([_scene(5)[:augment.CANVAS, :augment.CANVAS, 0]] * 3))
    rng = np.random.default_rng(0)
    for label in (0, 1):
        for _ in range(30):
            crop, out_label = augment.augment(canvas, label, rng)
            assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8 and out_label == label
    eyes = slice(0, int(augment.EYE_Y) - 6)
    for occluder in augment.NOT_A_MASK:
        covered = occluder(canvas, rng)
        assert np.array_equal(covered[eyes], canvas[eyes])  # the eyes stay visible: a hand or scarf, not a hood
        mouth = slice(int(augment.MOUTH_Y) - 2, int(augment.MOUTH_Y) + 4)
        assert np.abs(covered[mouth].astype(int) - canvas[mouth]).mean() > 5


@needs_faces
def test_gate_mask_train_makes_a_network_opencv_runs_or_says_pytorch_is_missing(tmp_path):
    import importlib.util

    data = training_folder(tmp_path, 24)
    out = run_gate("mask", "train", "--data", data, "--folds", "2", "--epochs", "1", "--out", tmp_path / "m.onnx")
    if importlib.util.find_spec("torch") is None:  # CI and the station: no PyTorch, one clear line
        assert out.returncode != 0 and "Traceback" not in out.stderr
        assert "pip install -e '.[train]'" in out.stderr and not (tmp_path / "m.onnx").exists()
        return
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    model = CnnMaskModel(tmp_path / "m.onnx")
    assert model.meta == record and record["split"]["folds"] == 2 and record["data"]["photos"] == 48
    assert len(record["cross_validation"]["per_fold"]) == 2
    # It learnt "not a face" from face-free crops, and its floor was chosen with its band on the folds.
    assert model.knows_non_faces and model.face_min == record["face_min"] and record["non_faces"]["crops"] > 1000
    assert str(record["face_min"]) in record["non_faces"]["held_out_by_floor"]
