"""What a gate camera does to a face, for training: low light, backlight, motion blur, JPEG artefacts, small faces,
grey frames, glasses; and things over the mouth that are not masks (a hand, a scarf), labelled "no mask".

Works on the aligned face with MARGIN pixels around it (``align(img, face, SIZE, MARGIN)``), then cuts a slightly
jittered SIZE square, as the detector's eye points wander a little from frame to frame. Numpy and OpenCV only.
"""
from __future__ import annotations

import cv2
import numpy as np

from gate.mask.cnn import SIZE

MARGIN = 16
CANVAS = SIZE + 2 * MARGIN
# Landmarks on the canvas (eyes at 40 % of SIZE, eye distance 0.3 * SIZE): where a hand or scarf goes.
EYE_Y = MARGIN + 0.4 * SIZE
EYE_DX = 0.15 * SIZE
MOUTH_Y = EYE_Y + 0.26 * SIZE
CX = CANVAS / 2


def centre_crop(canvas: np.ndarray) -> np.ndarray:
    return canvas[MARGIN:MARGIN + SIZE, MARGIN:MARGIN + SIZE]


def jitter_crop(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle, scale = rng.uniform(-10, 10), rng.uniform(0.9, 1.1)
    m = cv2.getRotationMatrix2D((CX, EYE_Y), angle, scale)
    m[:, 2] += rng.uniform(-3, 3, 2) - MARGIN
    out = cv2.warpAffine(canvas, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def low_light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark, noisy frame: gamma > 1, gain down, sensor noise."""
    x = (img / 255.0) ** rng.uniform(1.3, 2.5) * rng.uniform(0.3, 0.7)
    x = x + rng.normal(0, rng.uniform(0.01, 0.04), x.shape)
    return np.clip(x * 255, 0, 255).astype(np.uint8)


def backlight(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bright sky or doorway behind the person: the face darkens, the edges blow out."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - w / 2) / (w * 0.32), (yy - h * 0.55) / (h * 0.42))
    face_gain = rng.uniform(0.35, 0.7)
    glow = np.clip(r - 0.8, 0, 1)[..., None]
    x = img / 255.0 * face_gain * (1 - glow) + glow * rng.uniform(0.85, 1.0)
    return np.clip(x * 255, 0, 255).astype(np.uint8)


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(3, 10))
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0 / n
    k = cv2.warpAffine(k, cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0), (n, n))
    return cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(8, 40))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img


def small_face(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A face far from the camera: few pixels, scaled back up."""
    side = int(rng.integers(14, 32)) * CANVAS // SIZE
    small = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, img.shape[1::-1], interpolation=cv2.INTER_LINEAR)


def grey(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def glasses(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = img.copy()
    dark = rng.random() < 0.4  # sunglasses, else clear lenses with a frame
    colour = tuple(int(c) for c in rng.integers(0, 90, 3))
    ry, rx = int(rng.uniform(0.07, 0.1) * SIZE), int(rng.uniform(0.09, 0.12) * SIZE)
    for sx in (-1, 1):
        c = (int(CX + sx * EYE_DX), int(EYE_Y + rng.uniform(-1, 2)))
        if dark:
            cv2.ellipse(out, c, (rx, ry), 0, 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(out, c, (rx, ry), 0, 0, 360, colour, int(rng.integers(1, 3)), cv2.LINE_AA)
    y = int(EYE_Y)
    cv2.line(out, (int(CX - EYE_DX + rx), y), (int(CX + EYE_DX - rx), y), colour, 1, cv2.LINE_AA)
    return out


def _skin(img: np.ndarray) -> np.ndarray:
    """The face's own skin colour: the median of the cheeks under the eyes."""
    y0, y1 = int(EYE_Y + 0.08 * SIZE), int(EYE_Y + 0.2 * SIZE)
    patch = np.concatenate([img[y0:y1, int(CX - 2 * EYE_DX):int(CX - EYE_DX)].reshape(-1, 3),
                            img[y0:y1, int(CX + EYE_DX):int(CX + 2 * EYE_DX)].reshape(-1, 3)])
    return np.median(patch, axis=0)


def hand(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand over the mouth, in the person's skin colour, with fingers and soft shading: not a mask."""
    mask = np.zeros(img.shape[:2], np.uint8)
    cx, cy = CX + rng.uniform(-6, 6), MOUTH_Y + rng.uniform(-4, 6)
    w, tilt = rng.uniform(0.22, 0.32) * SIZE, rng.uniform(-35, 35)
    cv2.ellipse(mask, (int(cx), int(cy + w * 0.3)), (int(w), int(w * 0.6)), tilt, 0, 360, 255, -1)
    side = rng.choice([-1, 1])
    for f in range(4):  # fingers reach across the face from one side
        y = cy - w * 0.35 + f * w * 0.22
        x0, x1 = cx - side * w * 0.2, cx + side * w * rng.uniform(0.9, 1.3)
        cv2.line(mask, (int(x0), int(y)), (int(x1), int(y + rng.uniform(-3, 3))), 255, max(2, int(w * 0.18)))
    mask = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32)[..., None] / 255
    skin = _skin(img) * rng.uniform(0.85, 1.15)
    yy = np.mgrid[0:img.shape[0], 0:img.shape[1]][0][..., None]
    shade = 1 - 0.25 * (yy - cy) / img.shape[0]
    layer = np.clip(skin * shade + rng.normal(0, 4, img.shape), 0, 255)
    return (img * (1 - mask) + layer * mask).astype(np.uint8)


def scarf(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A knitted or striped scarf pulled up over the mouth and chin, wider than the face: not a mask."""
    h, w = img.shape[:2]
    top = MOUTH_Y - rng.uniform(2, 8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    edge = top + rng.uniform(-4, 4) * np.cos(xx / w * np.pi * rng.uniform(1, 3)) + 0.006 * (xx - w / 2) ** 2 * \
        rng.uniform(-0.3, 0.3)
    cover = np.clip((yy - edge) / 2.0, 0, 1)[..., None]
    base, other = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    pattern = rng.integers(0, 3)
    if pattern == 0:  # stripes
        t = (np.sin(yy / rng.uniform(2, 5)) > 0)[..., None]
    elif pattern == 1:  # check
        t = ((np.sin(yy / 3) > 0) ^ (np.sin(xx / 3) > 0))[..., None]
    else:  # knit
        t = (np.sin(xx * 1.6 + np.sin(yy * 1.2) * 2) > 0.3)[..., None]
    layer = np.where(t, base, other).astype(np.float32) * (0.75 + 0.25 * rng.random((h, w, 1)))
    return (img * (1 - cover) + layer * cover).astype(np.uint8)


CAMERA = (low_light, backlight, motion_blur, jpeg, small_face, grey)
NOT_A_MASK = (hand, scarf)


def augment(canvas: np.ndarray, label: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One training crop from an aligned canvas; label 1 = mask, 0 = no mask (occluders only on bare faces)."""
    img = canvas
    if label == 0 and rng.random() < 0.15:
        img = NOT_A_MASK[int(rng.integers(len(NOT_A_MASK)))](img, rng)
    elif label == 1 and rng.random() < 0.05:
        img = hand(img, rng)  # a hand in front of a mask is still a mask: the hand alone must not decide
    if rng.random() < 0.15:
        img = glasses(img, rng)
    for f in CAMERA:
        if rng.random() < 0.15:
            img = f(img, rng)
    if rng.random() < 0.5:  # colour of the light: white balance and brightness
        img = np.clip(img * rng.uniform(0.8, 1.2, 3) * rng.uniform(0.75, 1.25), 0, 255).astype(np.uint8)
    return jitter_crop(img, rng), label
