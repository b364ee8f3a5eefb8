"""The mask check: detector decoding, the classifier, the `gate mask` command, the station with a camera, and the
duty screen's confirm / override. Photos of real faces come from ../shared/mask-data when it exists (CI has it);
everything else uses images the test makes."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from gate.config import Config
from domain import Decision, MaskState
from gate.mask import dataset
from gate.mask.camera import CameraMask, FolderSource
from gate.mask.check import MaskCheck
from gate.mask.classifier import LinearMaskModel, judge
from gate.mask.detector import _anchors
from sim.camera import default_face_folder
from storage.log import ScreeningLog
from tests.conftest import env_with_root

FACES = default_face_folder()
needs_faces = pytest.mark.skipif(FACES is None, reason="no face photos (../shared/mask-data) on this machine")


@pytest.fixture(scope="module")
def check():
    return MaskCheck()


def held_out_sample(label_dir: str, n: int) -> list[Path]:
    return [p for p in sorted((FACES / label_dir).glob("*.jpg")) if dataset.held_out(p)][:n]


def test_anchor_layout_matches_the_short_range_model():
    a = _anchors()
    assert a.shape == (896, 2) and a.min() > 0 and a.max() < 1
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_no_face_means_unknown(check):
    blank = np.full((480, 640, 3), 128, np.uint8)
    r = check.check(blank)
    assert (r.face, r.mask, r.score, r.box) == (False, "unknown", None, None)
    noise = np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    assert check.check(noise).mask in ("unknown", "yes", "no")
    gray = np.zeros((100, 100), np.uint8)  # odd inputs do not crash
    assert check.check(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)).face is False


def test_low_confidence_is_unknown_and_weights_are_small():
    assert judge(0.5).mask == "unknown" and judge(0.9).mask == "yes" and judge(0.1).mask == "no"
    model = LinearMaskModel.load()
    assert model is not None and model.w.shape == model.mean.shape
    assert Path("gate/mask/weights.npz").stat().st_size < 100_000
    assert model.meta["held_out"]["accuracy"] >= 0.95


def test_gate_mask_reports_each_file_and_goes_on_after_a_bad_one(tmp_path):
    good = tmp_path / "empty.png"
    cv2.imwrite(str(good), np.full((240, 320, 3), 200, np.uint8))
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    out = subprocess.run([sys.executable, "-m", "gate.cli", "mask", str(bad), str(good), str(tmp_path / "gone.png"),
                          "--json"], capture_output=True, text=True, env=env_with_root())
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert [x["image"] for x in lines] == [str(bad), str(good), str(tmp_path / "gone.png")]
    assert "error" in lines[0] and "error" in lines[2]
    assert lines[1]["face"] is False and lines[1]["mask"] == "unknown" and "score" in lines[1] and lines[1]["ms"] > 0


def test_dataset_errors_say_what_the_folder_should_hold(tmp_path):
    with pytest.raises(dataset.DatasetError, match="with_mask"):
        dataset.load(tmp_path)
    (tmp_path / "labels.csv").write_text("file,label\na.jpg,maybe\n", encoding="utf-8")
    with pytest.raises(dataset.DatasetError, match="line 2"):
        dataset.load(tmp_path)


@needs_faces
def test_a_sample_of_held_out_photos_is_classified_right(check):
    photos = [(p, "yes") for p in held_out_sample("with_mask", 40)] + [(p, "no") for p in
                                                                      held_out_sample("without_mask", 40)]
    right = sum(check.check(cv2.imread(str(p))).mask == label for p, label in photos)
    assert right / len(photos) >= 0.9, right


@needs_faces
def test_training_command_writes_weights_and_reports_held_out_figures(tmp_path):
    data = tmp_path / "data"
    for label in ("with_mask", "without_mask"):
        (data / label).mkdir(parents=True)
        for p in sorted((FACES / label).glob("*.jpg"))[:60]:
            shutil.copy(p, data / label / p.name)
    out = subprocess.run([sys.executable, "-m", "gate.cli", "mask", "train", "--data", str(data), "--out",
                          str(tmp_path / "w.npz")], capture_output=True, text=True, env=env_with_root(), timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["held_out"]["photos"] > 0 and 0 <= report["held_out"]["accuracy"] <= 1
    model = LinearMaskModel.load(tmp_path / "w.npz")
    assert model is not None and model.meta["c"] in (0.0003, 0.001, 0.003, 0.01, 0.1)


@needs_faces
def test_camera_mask_source_and_no_frames_stored(tmp_path, db_path):
    from drivers.base import Reading
    from gate.station import Station

    folder = tmp_path / "cam"
    folder.mkdir()
    shutil.copy(held_out_sample("without_mask", 1)[0], folder / "a.jpg")
    source = CameraMask(FolderSource(folder))
    with ScreeningLog(db_path) as log:
        s = Station(Config(), log, mask_source=source).screen(
            [Reading(object_c=36.5, body_c=36.5, source="manual", operator="t")], source.current())
        assert s.decision is Decision.DENY and "no-mask" in s.reasons and s.mask.source == "camera/svm"
        stored = log.get(s.id).mask.to_dict()
    assert set(stored) == {"state", "score", "source", "operator"}  # the result only, never the frame
    assert db_path.stat().st_size < 200_000


@needs_faces
async def test_pilot_no_mask_denies_and_staff_override_admits(tmp_path, db_path):
    from gate.ui.app import build_app

    folder = tmp_path / "cam"
    folder.mkdir()
    shutil.copy(held_out_sample("without_mask", 1)[0], folder / "a.jpg")
    with ScreeningLog(db_path) as log:
        app = build_app(Config(language="en"), log, mask_source=CameraMask(FolderSource(folder)), operator="Chen")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f2")
            await pilot.pause()
            for ch in "36.6":
                await pilot.press(ch)
            await pilot.press("enter")
            for _ in range(100):
                await pilot.pause(0.05)
                if app.latest is not None:
                    break
            denied = app.latest
            assert denied.decision is Decision.DENY and denied.mask.state is MaskState.NO
            assert "no-mask" in denied.reasons and "NO MASK" in str(app.query_one("#mask").render())
            await pilot.press("f3")
            for _ in range(100):
                await pilot.pause(0.05)
                if app.latest is not denied:
                    break
            admitted = log.get(app.latest.id)
            assert admitted.decision is Decision.ADMIT and admitted.follows == denied.id
            assert admitted.mask.source == "staff" and admitted.mask.operator == "Chen"


@needs_faces
def test_simulated_camera_shows_the_person_the_sensor_sees(sim_factory, check):
    from sim.camera import SimulatedCamera

    sim = sim_factory(scenario="normal-morning", seed=12, pace=3.0)
    cam = SimulatedCamera(sim, FACES)
    seen = 0
    import time

    deadline = time.monotonic() + 8
    while seen < 3 and time.monotonic() < deadline:
        person = sim.scene.person_at(sim.now())
        if person is None:
            time.sleep(0.05)
            continue
        frame = cam.read()
        assert frame.shape == (480, 640, 3)
        r = check.check(frame)
        assert r.face
        seen += 1
        time.sleep(person.leave - sim.now() + 0.05)
    assert seen == 3


def test_a_qr_code_shown_to_the_camera_is_the_entrant_id(tmp_path, db_path):
    import threading

    from drivers.measurement import Measurement
    from gate.config import SensorConfig
    from gate.station import Station

    qr = cv2.QRCodeEncoder.create().encode("20240117")
    img = cv2.resize(qr, (qr.shape[1] * 8, qr.shape[0] * 8), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640), 255, np.uint8)
    frame[100:100 + img.shape[0], 100:100 + img.shape[1]] = img
    (tmp_path / "cam").mkdir()
    cv2.imwrite(str(tmp_path / "cam" / "qr.png"), cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    source = CameraMask(FolderSource(tmp_path / "cam"))
    result = source.current()
    assert source.last_qr == "20240117" and result.state is MaskState.UNKNOWN  # a QR code, no face
    (tmp_path / "cam" / "qr.png").unlink()
    cv2.imwrite(str(tmp_path / "cam" / "blank.png"), np.full((480, 640, 3), 200, np.uint8))
    blank = CameraMask(FolderSource(tmp_path / "cam"))
    blank.current()
    assert blank.last_qr is None
