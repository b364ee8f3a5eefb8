"""`gate mask check IMAGE...` (short: `gate mask IMAGE...`) and `gate mask train --data DIR`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from domain.errors import CheckFailed, UsageError
from gate.cli.common import actions, json_option


def add_mask(p: argparse.ArgumentParser) -> None:
    add = actions(p, default="check")
    c = add("check", "Check photos for a masked face: one line per image (face, mask, p(mask), time). An unreadable "
                     "file gets its own error line, the rest go on, and the exit is 1. `gate mask IMAGE...` is short "
                     "for `gate mask check IMAGE...`.",
            "gate mask photo.jpg\ngate mask check a.jpg b.png --json", check)
    c.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, BMP ...)")
    json_option(c, "one JSON line per image: image, face, mask, score, box, ms")
    t = add("train", "Train the mask network on labelled photos, split by near-duplicate clusters into folds: one "
                     "network per fold is scored on the fold it never saw, the unknown band is chosen on those scores "
                     "for safety, and fold 0's network is written with a record of how it was made (JSON on stdout). "
                     "Needs PyTorch: pip install -e '.[train]'. --model svm trains the old linear SVM instead.",
            "gate mask train --data ../shared/mask-data\n"
            "gate mask train --data ../shared/mask-data --work /tmp/mask-folds   # keep and reuse the fold networks\n"
            "gate mask train --model svm --data photos/ --out /tmp/weights.npz", train)
    t.add_argument("--data", required=True, metavar="DIR",
                   help="a folder with with_mask/ and without_mask/, or a labels.csv")
    t.add_argument("--out", metavar="FILE", help="where to write the model (default: the package's mask_cnn.onnx, "
                                                 "or weights.npz with --model svm)")
    t.add_argument("--model", choices=("cnn", "svm"), default="cnn",
                   help="the network (default; needs the [train] extra) or the old linear SVM")
    t.add_argument("--folds", type=int, default=5, help="cluster-split folds (default 5)")
    t.add_argument("--seed", type=int, default=17, help="seed of the split and of training (default 17)")
    t.add_argument("--epochs", type=int, default=24, help="passes over the photos per fold (default 24)")
    t.add_argument("--work", metavar="DIR", help="keep the fold networks here, and reuse them when they match")


def check(args: argparse.Namespace) -> None:
    # OpenCV and the detector: loaded here, not at import, so `gate mask train --help` stays quick. The image
    # reader first: it sets OpenCV's pixel limit before OpenCV loads.
    from gate.mask.image_file import ImageRefused, read_image
    from gate.mask.check import MaskCheck

    checker = MaskCheck()
    failures = 0
    for image in args.images:
        try:
            img = read_image(image)
        except ImageRefused as exc:
            failures += 1
            why = str(exc)
            if args.json:
                print(json.dumps({"image": image, "error": why}, ensure_ascii=False), flush=True)
            print(f"gate: {image}: {why}; skipped", file=sys.stderr)
            continue
        r = checker.check(img)
        if args.json:
            print(json.dumps({"image": image, **r.to_dict()}, ensure_ascii=False), flush=True)
        else:
            score = "—" if r.score is None else f"{r.score:.2f}"
            print(f"{image}: face {'yes' if r.face else 'no'}, mask {r.mask} (p(mask) {score}, {r.ms:.1f} ms)")
    if failures:
        raise CheckFailed(f"{failures} of {len(args.images)} image(s) could not be read")


def train(args: argparse.Namespace) -> None:
    # OpenCV, numpy and PyTorch: loaded here, not at import, so `gate mask check --help` stays quick.
    progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.model == "svm":
        from gate.mask.classifier import WEIGHTS
        from gate.mask.train import train as train_classifier

        report = train_classifier(args.data, Path(args.out) if args.out else WEIGHTS, progress=progress)
    else:
        from gate.mask.cnn import MODEL
        from gate.mask.train_cnn import train as train_network

        if args.folds < 2:
            raise UsageError(f"--folds {args.folds}: give at least 2 (each fold is scored by a network that never "
                             "saw it)")
        if args.epochs < 1:
            raise UsageError(f"--epochs {args.epochs}: give at least 1")
        report = train_network(args.data, Path(args.out) if args.out else MODEL, k=args.folds, seed=args.seed,
                               epochs=args.epochs, work=Path(args.work) if args.work else None, progress=progress)
    print(json.dumps(report, ensure_ascii=False))


COMMANDS = {"mask": add_mask}
