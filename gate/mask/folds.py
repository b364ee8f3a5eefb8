"""Near-duplicate clusters and cluster-split folds, so no photo is scored by a model that trained on its twin.

The web photos hold near-duplicates: the same picture re-encoded, resized, mirrored or lightly cropped. A split by file
name puts twins on both sides and flatters the held-out score. Each photo gets a 64-bit difference hash (dHash: is each
pixel of a 9x8 grey thumbnail brighter than its right neighbour); photos whose hashes differ in at most
``DUPLICATE_BITS`` bits (the photo or its mirror image) are joined, transitively, into one cluster, and whole
clusters go to folds. ``DUPLICATE_BITS`` comes from the distance histogram of ../shared/mask-data (README, "Mask
check").
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# From the shared photos (README, "Mask check"): pairs at 0-3 bits are the same picture; at 4-7 bits re-crops of one
# picture still occur among look-alike strangers; from 8 bits up sampled pairs are different photos. 8 joins every twin
# seen, while single linkage at 10 chains 564 photos (a whole fold) into one cluster.
DUPLICATE_BITS = 8
FOLDS = 5
SEED = 17


def dhash(bgr: np.ndarray) -> int:
    """64-bit difference hash of an image (grey, 9x8 thumbnail, left-right gradient signs)."""
    grey = bgr if bgr.ndim == 2 else cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(np.packbits(bits).view(">u8")[0])


def hashes(bgr: np.ndarray) -> tuple[int, int]:
    """The hash of the photo and of its mirror image (a mirrored copy is still the same person's photo)."""
    return dhash(bgr), dhash(cv2.flip(bgr, 1))


def distances(plain: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances (uint8, n x n), the smaller of photo-vs-photo and photo-vs-mirror."""
    a = plain.astype(np.uint64)
    same = np.bitwise_count(a[:, None] ^ a[None, :])
    flipped = np.bitwise_count(a[:, None] ^ mirror.astype(np.uint64)[None, :])
    d = np.minimum(same, flipped).astype(np.uint8)
    return np.minimum(d, d.T)


def clusters(dist: np.ndarray, threshold: int = DUPLICATE_BITS) -> np.ndarray:
    """Cluster id per photo: connected components of the graph "differ in at most threshold bits"."""
    n = len(dist)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(dist <= threshold, 1))):
        ri, rj = root(int(i)), root(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([root(i) for i in range(n)])
    _, ids = np.unique(roots, return_inverse=True)
    return ids


def assign_folds(cluster_ids: np.ndarray, labels: list[str], k: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold per photo; a cluster is never split. Big clusters first, each to the fold with fewest of its class."""
    rng = np.random.default_rng(seed)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(cluster_ids):
        members.setdefault(int(c), []).append(i)
    order = list(members)
    rng.shuffle(order)
    order.sort(key=lambda c: -len(members[c]))  # stable: equal sizes keep the seeded order
    per_class = {lab: np.zeros(k, int) for lab in set(labels)}
    total = np.zeros(k, int)
    fold = np.empty(len(labels), int)
    for c in order:
        idx = members[c]
        main = Counter(labels[i] for i in idx).most_common(1)[0][0]
        f = int(np.lexsort((total, per_class[main]))[0])
        fold[idx] = f
        total[f] += len(idx)
        for i in idx:
            per_class[labels[i]][f] += 1
    return fold


@dataclass(frozen=True)
class Split:
    """The photos, their clusters and folds, and a hash of the data so a record can tell which photos it used."""
    paths: list[Path]
    labels: list[str]
    cluster: np.ndarray
    fold: np.ndarray
    nearest: np.ndarray  # each photo's distance in bits to its nearest other photo
    data_sha256: str
    threshold: int
    k: int
    seed: int

    def split_sha256(self) -> str:
        text = "\n".join(f"{p.name},{f}" for p, f in zip(self.paths, self.fold))
        return hashlib.sha256(text.encode()).hexdigest()


def make_split(items: list[tuple[Path, str]], images: list[np.ndarray | None], threshold: int = DUPLICATE_BITS,
               k: int = FOLDS, seed: int = SEED) -> Split:
    """Cluster-split folds of labelled photos; unreadable photos (None) are their own clusters."""
    plain, mirror, digest = [], [], hashlib.sha256()
    for (path, label), img in zip(items, images):
        h = hashes(img) if img is not None else (0, 0)
        plain.append(h[0])
        mirror.append(h[1])
        digest.update(f"{path.name},{label},".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.exists() else b"-")
    dist = distances(np.array(plain, np.uint64), np.array(mirror, np.uint64))
    np.fill_diagonal(dist, 255)
    unreadable = [n for n, img in enumerate(images) if img is None]
    dist[unreadable, :] = 255
    dist[:, unreadable] = 255
    labels = [label for _, label in items]
    ids = clusters(dist, threshold)
    return Split([p for p, _ in items], labels, ids, assign_folds(ids, labels, k, seed), dist.min(1),
                 digest.hexdigest(), threshold, k, seed)
