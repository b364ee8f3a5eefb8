"""Attacks on the mask check's "not a face" (issue 17): a pupil holds a card up to the camera, with or without a bare
face behind it; odd pixels reach the network; the record's floor is missing."""
import json
import shutil

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gate.mask.cnn import FACE_MIN, MODEL, CnnMaskModel, record_path
from sim.camera import default_face_folder
from tests.support import run_gate

FACES = default_face_folder()


def _card(text: str, angle: float) -> np.ndarray:
    """A 640x480 frame: a white student card with a QR code, tilted, held in front of a grey wall."""
    frame = np.full((480, 640, 3), 150, np.uint8)
    qr = cv2.QRCodeEncoder.create().encode(text)
    qr = cv2.resize(qr, (150, 150), interpolation=cv2.INTER_NEAREST)
    card = np.full((200, 320, 3), 250, np.uint8)
    card[25:175, 15:165] = cv2.cvtColor(qr, cv2.COLOR_GRAY2BGR)
    cv2.putText(card, "PUPIL 3B", (175, 100), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    m = cv2.getRotationMatrix2D((160, 100), angle, 1.0)
    m[:, 2] += (160, 140)
    cover = cv2.warpAffine(np.full((200, 320), 255, np.uint8), m, (640, 480)) > 0
    frame[cover] = cv2.warpAffine(card, m, (640, 480))[cover]
    return frame


@pytest.mark.parametrize("angle", [-20, 0, 15])
def test_a_tilted_student_card_alone_is_no_face_never_a_masked_face(tmp_path, angle):
    path = tmp_path / "card.png"
    cv2.imwrite(str(path), _card("20240117", angle))
    out = run_gate("mask", path, "--json")
    line = json.loads(out.stdout)
    assert out.returncode == 0 and line["mask"] != "yes", line
    assert line["mask"] == "unknown" or line["face"] is True, line  # at worst a face judged, never a card passed


@pytest.mark.skipif(FACES is None, reason="no face photos (../shared/mask-data) on this machine")
def test_a_card_held_up_beside_a_bare_face_does_not_make_it_masked(tmp_path):
    from tests.functional.test_mask import held_out_sample

    passed = denied = 0
    for n, photo in enumerate(held_out_sample("without_mask", 12)):
        face = cv2.resize(cv2.imread(str(photo)), (240, 240))
        frame = _card(f"S{n}", 10)
        frame[20:260, 390:630] = face  # the pupil's bare face, the card at chest height beside it
        path = tmp_path / f"{n}.png"
        cv2.imwrite(str(path), frame)
        line = json.loads(run_gate("mask", path, "--json").stdout)
        passed += line["mask"] == "yes"
        denied += line["mask"] == "no"
    assert passed == 0 and denied >= 10, (passed, denied)  # the face was found and judged bare, the card ignored


@settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, (64, 64, 3)))
def test_any_pixels_give_probabilities_and_never_nan(crop):
    model = _shipped()
    p_mask, p_face = model.scores([crop])
    assert 0 <= p_mask[0] <= 1 and 0 <= p_face[0] <= 1


def test_a_record_without_its_floor_falls_back_to_the_strictest_floor(tmp_path):
    model = tmp_path / "mask_cnn.onnx"
    shutil.copy(MODEL, model)
    rec = json.loads(record_path(MODEL).read_text(encoding="utf-8"))
    rec.pop("face_min")
    record_path(model).write_text(json.dumps(rec), encoding="utf-8")
    assert CnnMaskModel(model).face_min == FACE_MIN == 0.5  # the highest floor ever chosen, not "every crop a face"


_MODEL = []


def _shipped() -> CnnMaskModel:
    if not _MODEL:
        _MODEL.append(CnnMaskModel.load())
    return _MODEL[0]
