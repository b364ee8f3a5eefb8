"""The face-free training scenes (gate/mask/negatives.py) stay apart from what bench/mask_objects.py scores, so that
bench and the strict test built on it remain a held-out test of "a non-face is never a masked face"."""
from pathlib import Path

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.mask import negatives


def test_the_training_codes_are_not_the_qr_codes_the_bench_shows():
    reader = cv2.QRCodeDetector()
    rng = np.random.default_rng(3)
    for _ in range(20):
        text, _points, _ = reader.detectAndDecode(negatives.code_grid(rng))
        assert text == ""  # code-like module grids, never a real QR code (the bench shows real ones)


def test_only_odd_bare_photos_are_tiled_the_bench_tiles_the_even_ones():
    names = [f"b{i:03d}.jpg" for i in range(10)] + [f"m{i:03d}.jpg" for i in range(4)]
    labels = ["no"] * 10 + ["yes"] * 4
    paths = [Path("without_mask" if lab == "no" else "with_mask") / n for n, lab in zip(names, labels)]
    order = np.random.default_rng(0).permutation(len(paths))  # the order photos are listed in does not matter
    allowed = negatives.tile_sources([paths[i] for i in order], [labels[i] for i in order])
    chosen = {paths[order[n]].name for n in allowed}
    bench_bare = {p.name for p in sorted(p for p in paths if p.parent.name == "without_mask")[::2]}
    assert chosen.isdisjoint(bench_bare) and len(chosen) == 5
    assert not any(name.startswith("m") for name in chosen)  # an eye over mask fabric is a masked face, not a non-face


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_any_seed_makes_a_gate_frame_and_the_same_seed_the_same_frame(seed):
    a = negatives.scene(np.random.default_rng(seed))
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8
    assert np.array_equal(a, negatives.scene(np.random.default_rng(seed)))


def test_shuffled_tiles_keep_every_pixel():
    img = np.random.default_rng(5).integers(0, 256, (101, 83, 3), dtype=np.uint8)
    out = negatives.tiles(img, np.random.default_rng(1))
    kept = img[:100, :80]
    assert out.shape == kept.shape and sorted(out.reshape(-1).tolist()) == sorted(kept.reshape(-1).tolist())
