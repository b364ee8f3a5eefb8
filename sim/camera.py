"""The simulated camera, in step with the simulated sensor.

``SimulatedCamera`` returns 640x480 frames showing the person in front of the sensor: a photo of someone with or
without a mask, as the scenario says, pasted on a plain background (from a folder with ``with_mask/`` and
``without_mask/``, e.g. ../shared/mask-data). ``SimulatedMask`` is the scene's ground truth, for demos and tests with no
face photos at hand; its results say source="simulated" so nobody mistakes them for a classifier's.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from domain import MaskResult, MaskState
from sim.scenarios import Person
from sim.simulator import Simulator

FRAME_W, FRAME_H = 640, 480
SUFFIXES = {".jpg", ".jpeg", ".png"}


def default_face_folder() -> Path | None:
    """GATE_SIM_FACES, else the shared mask photos beside the repository, if either exists."""
    env = os.environ.get("GATE_SIM_FACES")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "mask-data")
    return next((p for p in candidates if (p / "with_mask").is_dir() and (p / "without_mask").is_dir()), None)


def _who(sim: Simulator) -> Person | None:
    now = sim.now()
    person = sim.scene.person_at(now)
    if person is None:
        # The reading is judged a moment after the person stepped away: it is still their turn.
        people = sim.scene.people_until(now)
        person = people[-1] if people else None
    return person


class SimulatedCamera:
    def __init__(self, sim: Simulator, faces: str | Path):
        import cv2  # here, not at the top: OpenCV costs ~0.2 s and only the simulated camera needs it

        self._cv2 = cv2
        self.sim = sim
        root = Path(faces)
        self.faces = {
            True: sorted(p for p in (root / "with_mask").iterdir() if p.suffix.lower() in SUFFIXES),
            False: sorted(p for p in (root / "without_mask").iterdir() if p.suffix.lower() in SUFFIXES),
        }
        if not self.faces[True] or not self.faces[False]:
            raise ValueError(f"{root} needs photos in with_mask/ and without_mask/")

    def background(self) -> np.ndarray:
        ramp = np.linspace(90, 150, FRAME_W, dtype=np.uint8)
        return np.repeat(np.repeat(ramp[None, :, None], FRAME_H, axis=0), 3, axis=2)

    def read(self) -> np.ndarray:
        frame = self.background()
        person = _who(self.sim)
        if person is None:
            return frame
        photos = self.faces[person.mask]
        photo = self._cv2.imread(str(photos[int(person.arrive * 1000) % len(photos)]))
        if photo is None:
            return frame
        h, w = photo.shape[:2]
        scale = min(360 / h, 480 / w)
        photo = self._cv2.resize(photo, (int(w * scale), int(h * scale)))
        h, w = photo.shape[:2]
        y, x = (FRAME_H - h) // 2, (FRAME_W - w) // 2
        frame[y:y + h, x:x + w] = photo
        return frame

    def close(self) -> None:
        pass


class SimulatedMask:
    def __init__(self, sim: Simulator):
        self.sim = sim

    def current(self) -> MaskResult:
        person = _who(self.sim)
        if person is None:
            return MaskResult(MaskState.UNKNOWN, source="simulated")
        return MaskResult(MaskState.YES if person.mask else MaskState.NO, score=0.99, source="simulated")
