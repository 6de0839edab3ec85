"""A procedural face painter: flat-shaded parts drawn with OpenCV from the landmarks.

Not photo-real, but it has what a landmark detector must learn to look at: skin with a
directional light, hair, eyes with sclera, iris and pupil, brows, nose, lips and an
open mouth, plus textured clutter behind the head, occluders in front of it, and blur,
noise, JPEG and greyscale. Everything is drawn at sub-pixel precision (``shift=4``) so
the labels (the projected landmarks) sit exactly on the drawn parts.
"""
from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from harness.data.synth.layout import LAYOUTS
from harness.data.synth.shapes import FaceSample

__all__ = ["render_procedural", "finish_image"]

_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA


def _fx(points: npt.ArrayLike) -> np.ndarray:
    """(N, 2) float pixels -> fixed-point int32 for OpenCV's ``shift`` argument."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def _pt(point: npt.ArrayLike) -> tuple[int, int]:
    """One (x, y) float pixel as OpenCV's fixed-point point (see :func:`_fx`)."""
    x, y = _fx(point)
    return int(x), int(y)


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    b, g, r = (int(v) for v in rng.integers(lo, hi, 3))
    return b, g, r


# BGR skin tones from dark to light; a face's tone is a random mix of two neighbours.
_SKIN_TONES = np.array([[45, 65, 100], [70, 100, 150], [95, 140, 195], [135, 175, 225], [175, 205, 240]], float)


def _skin_tone(rng: np.random.Generator) -> tuple[int, int, int]:
    i = int(rng.integers(len(_SKIN_TONES) - 1))
    t = rng.random()
    tone = (1 - t) * _SKIN_TONES[i] + t * _SKIN_TONES[i + 1] + rng.normal(0, 8, 3)
    b, g, r = (int(v) for v in np.clip(tone, 0, 255))
    return b, g, r


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, size, 3) uint8 clutter: smooth colour noise, stripes and blobs."""
    grid = rng.integers(0, 256, (rng.integers(2, 9), rng.integers(2, 9), 3)).astype(np.uint8)
    img = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.integers(2, 9)):
        kind = rng.integers(3)
        c = _colour(rng)
        p = rng.uniform(-0.2, 1.2, 4) * size
        if kind == 0:
            cv2.line(img, _pt(p[:2]), _pt(p[2:]), c, int(rng.integers(1, 6)), _AA, _SHIFT)
        elif kind == 1:
            cv2.rectangle(img, _pt(p[:2]), _pt(p[2:]), c, -1, _AA, _SHIFT)
        else:
            cv2.circle(img, _pt(p[:2]), int(rng.uniform(0.03, 0.3) * size * _ONE), c, -1, _AA, _SHIFT)
    return img


def _skin_outline(pts: np.ndarray, jaw: tuple[int, ...], brows: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """(M, 2) face outline: the jaw, closed over the forehead by a cubic Bezier arc."""
    jw = pts[list(jaw)]
    brow_mid = pts[list(brows[0]) + list(brows[1])].mean(axis=0)
    chin = jw[len(jw) // 2]
    up = brow_mid - chin
    length = np.linalg.norm(up) + 1e-6
    up /= length
    a, d = jw[-1], jw[0]
    b, c = a + up * 0.75 * length, d + up * 0.75 * length
    t = np.linspace(0, 1, 16)[:, None]
    arc = (1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t**2 * c + t**3 * d
    return np.concatenate([jw, arc[1:-1]])


def render_procedural(rng: np.random.Generator, face: FaceSample, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Paint ``face`` into a new image.

    Returns:
        image: (size, size, 3) uint8 BGR, before :func:`finish_image`.
        occluded: (K,) bool, True where an occluder covers the landmark.
    """
    lay = LAYOUTS[face.native]
    p = face.points
    u = face.px_per_unit  # pixels per mean-face unit: line widths scale with the face
    img = _background(rng, size)
    skin = _skin_tone(rng)
    outline = _skin_outline(p, lay.jaw, lay.brows)
    chin = p[lay.chin]
    # neck, hair behind the head, then the face
    neck_w = 0.35 * u
    cv2.fillConvexPoly(img, _fx([chin + (-neck_w, -0.2 * u), chin + (neck_w, -0.2 * u),
                                 chin + (neck_w * 1.2, size), chin + (-neck_w * 1.2, size)]),
                       tuple(int(v * 0.8) for v in skin), _AA, _SHIFT)
    hair = _colour(rng, 0, 200)
    if rng.random() < 0.85:
        axes = (int(1.05 * u * _ONE * rng.uniform(0.95, 1.25)), int(1.05 * u * _ONE * rng.uniform(0.9, 1.2)))
        cv2.ellipse(img, _pt(face.head_centre), axes, face.roll, 0, 360, hair, -1, _AA, _SHIFT)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [_fx(outline)], 255, _AA, _SHIFT)
    face_layer = np.empty_like(img)
    face_layer[:] = skin
    # directional light across the face: brighter on one side, shade on the other
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    light = 1.0 + rng.uniform(0.1, 0.5) * (np.cos(ang) * xx + np.sin(ang) * yy) * 2
    face_layer = np.clip(face_layer * light[..., None], 0, 255).astype(np.uint8)
    m = (mask.astype(np.float32) / 255)[..., None]
    img = (img * (1 - m) + face_layer * m).astype(np.uint8)
    dark = tuple(int(v * 0.55) for v in skin)
    # brows
    thick = max(1, int(round(0.07 * u)))
    for brow in lay.brows:
        if lay.brows_closed:
            cv2.fillPoly(img, [_fx(p[list(brow)])], hair, _AA, _SHIFT)
        else:
            cv2.polylines(img, [_fx(p[list(brow)])], False, hair, thick, _AA, _SHIFT)
    # eyes: sclera, iris and pupil clipped to the lids, then the upper lash line
    iris_c = _colour(rng, 20, 160)
    for side in range(2):
        eye = p[list(lay.eyes[side])]
        x0, y0 = np.floor(eye.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(eye.max(axis=0)).astype(int) + 2
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)
        if x1 <= x0 or y1 <= y0:
            continue
        roi = img[y0:y1, x0:x1].copy()
        local = eye - (x0, y0)
        emask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(emask, [_fx(local)], 255, _AA, _SHIFT)
        paint = roi.copy()
        paint[:] = (225, 230, 235)
        centre = p[lay.pupils[side]] if lay.pupils else eye.mean(axis=0)
        r_iris = 0.2 * np.linalg.norm(p[lay.eye_corners[side][0]] - p[lay.eye_corners[side][1]])
        cv2.circle(paint, _pt(centre - (x0, y0)), int(r_iris * _ONE), iris_c, -1, _AA, _SHIFT)
        cv2.circle(paint, _pt(centre - (x0, y0)), int(0.45 * r_iris * _ONE), (15, 15, 15), -1, _AA, _SHIFT)
        em = (emask.astype(np.float32) / 255)[..., None]
        img[y0:y1, x0:x1] = (roi * (1 - em) + paint * em).astype(np.uint8)
        half = len(eye) // 2 + 1
        cv2.polylines(img, [_fx(eye[:half])], False, (30, 30, 30), max(1, thick // 2), _AA, _SHIFT)
    # nose: bridge shadow, nostrils, base line
    cv2.polylines(img, [_fx(p[list(lay.nose_bridge)])], False, dark, max(1, thick // 2), _AA, _SHIFT)
    base = p[list(lay.nose_base)]
    cv2.polylines(img, [_fx(base)], False, dark, max(1, thick // 2), _AA, _SHIFT)
    for k in (1, -2):
        cv2.circle(img, _pt(base[k] - (0, 0.02 * u)), int(0.035 * u * _ONE), (25, 25, 35), -1, _AA, _SHIFT)
    # mouth: dark interior when open, then the lips
    if face.mouth_open > 0:
        cv2.fillPoly(img, [_fx(p[list(lay.mouth_inner)])], (20, 15, 40), _AA, _SHIFT)
    lip = (int(skin[0] * 0.6), int(skin[1] * 0.55), int(min(255, skin[2] * 0.95 + 30)))
    if rng.random() < 0.3:
        lip = _colour(rng, 20, 230)  # make-up
    cv2.fillPoly(img, [_fx(p[list(lay.upper_lip_polygon)])], lip, _AA, _SHIFT)
    cv2.fillPoly(img, [_fx(p[list(lay.lower_lip_polygon)])], lip, _AA, _SHIFT)
    occluded = np.zeros(len(p), bool)
    if rng.random() < 0.3:
        occluded = _occlude(rng, img, p, u, size)
    return img, occluded


def _occlude(rng: np.random.Generator, img: np.ndarray, p: np.ndarray, u: float, size: int) -> np.ndarray:
    """Draw a textured occluder over part of the face; (K,) True for the covered landmarks."""
    mask = np.zeros(img.shape[:2], np.uint8)
    c = p[rng.integers(len(p))] + rng.normal(0, 0.2 * u, 2)
    w, h = rng.uniform(0.15, 0.55, 2) * u  # covers a part, never the whole face
    ang = rng.uniform(0, 180)
    if rng.random() < 0.5:
        cv2.ellipse(mask, _pt(c), (int(w * _ONE), int(h * _ONE)), ang, 0, 360, 255, -1, _AA, _SHIFT)
    else:
        box = cv2.boxPoints(((float(c[0]), float(c[1])), (float(2 * w), float(2 * h)), float(ang)))
        cv2.fillConvexPoly(mask, _fx(box), 255, _AA, _SHIFT)
    tex = _background(rng, size)
    m = (mask.astype(np.float32) / 255)[..., None]
    img[:] = (img * (1 - m) + tex * m).astype(np.uint8)
    xi = np.clip(np.round(p[:, 0]).astype(int), 0, size - 1)
    yi = np.clip(np.round(p[:, 1]).astype(int), 0, size - 1)
    covered: np.ndarray = mask[yi, xi] >= 128
    return covered


def finish_image(rng: np.random.Generator, img: np.ndarray) -> tuple[np.ndarray, int]:
    """Camera effects: blur, sensor noise, greyscale. Returns the image and a JPEG quality."""
    if rng.random() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.6))
    if rng.random() < 0.5:
        noise = rng.normal(0, rng.uniform(2, 10), img.shape)
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.1:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return img, int(rng.integers(40, 96))
