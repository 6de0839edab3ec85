"""Random 3D face shapes and their projection into an image.

The mean faces are SPIGA's 3D models of the 68- and 98-point schemes (assets/CREDITS.md):
units of roughly half a face width, x to the image right, y up, z towards the camera,
nose tip at the origin. A sample adds identity (proportions, eye, mouth and jaw size),
expression (brow raise, blink, smile, mouth opening, gaze), a 3D head rotation and a
perspective camera. Labels are the projected 3D points, so they are exact by construction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from harness.data.synth.layout import LAYOUTS, FaceLayout

__all__ = ["mean_face", "FaceSample", "sample_face", "rotation_matrix", "NATIVE_SCHEME"]

# The scheme a face is built and drawn in; COFW's 29 points are mapped from WFLW's 98.
NATIVE_SCHEME = {"300w": "300w", "wflw": "wflw", "cofw": "wflw"}
_MEAN_FILE = {"300w": "mean_face_3D_68.txt", "wflw": "mean_face_3D_98.txt"}
# A point's outward normal is taken from this head centre: a crude ellipsoid head that
# hides far-side jaw points from about 25 degrees of yaw and the eyes only past 60.
_HEAD_CENTRE = np.array([0.0, 0.2, -1.2])


@cache
def mean_face(native: str) -> np.ndarray:
    """(K, 3) mean face of "300w" (68) or "wflw" (98), in the benchmark's order."""
    assets = resources.files("harness.data") / "assets"
    ids = json.loads((assets / "spiga_landmark_ids.json").read_text())[native]
    rows = np.loadtxt(str(assets / _MEAN_FILE[native]), delimiter="|")
    by_id = {int(r[0]): r[1:] for r in rows}
    pts = np.array([by_id[i] for i in ids], dtype=np.float64)
    pts.setflags(write=False)
    return pts


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) rotation, angles in degrees: yaw about y, pitch about x, roll about z."""
    y, p, r = np.deg2rad([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    rotation: np.ndarray = rz @ rx @ ry
    return rotation


@dataclass
class FaceSample:
    """One posed face in image coordinates.

    Attributes:
        native: "300w" or "wflw", the scheme of ``points``.
        points: (K, 2) pixel coordinates (x right, y down).
        depth: (K,) distance from the camera (larger is farther).
        facing: (K,) bool, False where the point faces away (self-occluded).
        yaw, pitch, roll: head rotation in degrees.
        mouth_open: lower-lip drop in mean-face units (0 = closed).
        eye_open: (2,) eyelid opening factors (about 1 open, near 0 blinking).
        head_centre: (2,) pixel position of the head centre (for hair and ears).
        px_per_unit: image scale of one mean-face unit at the nose.
    """

    native: str
    points: np.ndarray
    depth: np.ndarray
    facing: np.ndarray
    yaw: float
    pitch: float
    roll: float
    mouth_open: float
    eye_open: np.ndarray
    head_centre: np.ndarray
    px_per_unit: float


def _deform(rng: np.random.Generator, pts: np.ndarray, lay: FaceLayout) -> tuple[np.ndarray, float, np.ndarray]:
    """Identity and expression on a (K, 3) mean face; returns points, mouth_open, eye_open."""
    p = pts.copy()
    p[:, 0] *= rng.uniform(0.88, 1.12)  # face width
    p[:, 1] *= rng.uniform(0.9, 1.1)  # face height
    jaw = np.array(lay.jaw)
    low = np.clip(-p[jaw, 1] / 0.7, 0, 1)  # 0 at cheekbones, 1 at the chin
    p[jaw, 0] *= 1 + (rng.uniform(0.88, 1.1) - 1) * low
    # eyes: size about their centres, then lids towards the corner line (blink)
    eye_open = np.where(rng.random(2) < 0.12, rng.uniform(0.05, 0.4, 2), rng.uniform(0.75, 1.25, 2))
    eye_open[:] = eye_open[0] if rng.random() < 0.8 else eye_open  # blinks are mostly both eyes
    size = rng.uniform(0.85, 1.2)
    for side in range(2):
        idx = list(lay.eyes[side]) + ([lay.pupils[side]] if lay.pupils else [])
        c = p[list(lay.eye_corners[side])].mean(axis=0)
        p[idx, :2] = c[:2] + (p[idx, :2] - c[:2]) * size
        lids = list(lay.eyes[side])
        p[lids, 1] = c[1] + (p[lids, 1] - c[1]) * eye_open[side]
        if lay.pupils:  # gaze
            p[lay.pupils[side], 0] += rng.uniform(-0.04, 0.04) * size
    for brow in lay.brows:
        p[list(brow), 1] += rng.uniform(-0.04, 0.09)
    mouth = np.array(lay.mouth_outer + lay.mouth_inner)
    mc = p[mouth].mean(axis=0)
    p[mouth, 0] = mc[0] + (p[mouth, 0] - mc[0]) * rng.uniform(0.85, 1.2)
    smile = rng.uniform(-0.3, 1.0)
    corners = np.array(lay.mouth_corners)
    p[corners, 1] += 0.06 * smile
    p[corners, 0] += 0.03 * smile * np.sign(p[corners, 0] - mc[0])
    mouth_open = float(rng.uniform(0.03, 0.25)) if rng.random() < 0.35 else 0.0
    if mouth_open:
        p[list(lay.lower_lip), 1] -= mouth_open
        # the jaw drops with the lower lip: fully at the chin, not at all above the mouth
        w = np.clip((mc[1] - p[jaw, 1]) / (mc[1] - p[lay.chin, 1]), 0, 1)
        p[jaw, 1] -= mouth_open * 0.8 * w
    return p, mouth_open, eye_open


def sample_face(
    rng: np.random.Generator,
    native: str,
    size: int,
    *,
    max_yaw: float = 40.0,
    max_pitch: float = 20.0,
    max_roll: float = 20.0,
) -> FaceSample:
    """Draw one face of scheme ``native`` posed in a ``size`` x ``size`` image."""
    lay = LAYOUTS[native]
    p3, mouth_open, eye_open = _deform(rng, mean_face(native), lay)
    # mostly moderate poses, a tail of large ones, as in the in-the-wild benchmarks
    yaw = float(np.clip(rng.normal(0, max_yaw / 2), -max_yaw, max_yaw))
    pitch = float(np.clip(rng.normal(0, max_pitch / 2), -max_pitch, max_pitch))
    roll = float(np.clip(rng.normal(0, max_roll / 2), -max_roll, max_roll))
    rot = rotation_matrix(yaw, pitch, roll)
    centre3 = np.array([0.0, 0.0, -0.5])  # rotate about the middle of the head
    q = (p3 - centre3) @ rot.T + centre3
    normals = (p3 - _HEAD_CENTRE) @ rot.T
    cam_dist = rng.uniform(3.0, 9.0)  # perspective from close-up to almost orthographic
    to_cam = np.array([0.0, 0.0, cam_dist]) - q
    facing = np.einsum("kd,kd->k", normals, to_cam) > 0
    depth = cam_dist - q[:, 2]
    xy = q[:, :2] * (cam_dist / depth)[:, None]
    xy[:, 1] *= -1  # image y points down
    # scale so the face box is 40-75% of the image, then shift it inside the frame
    span = (xy.max(axis=0) - xy.min(axis=0)).max()
    scale = rng.uniform(0.40, 0.75) * size / span
    xy *= scale
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = 0.06 * size
    shift = np.array([rng.uniform(margin - lo[i], size - margin - hi[i]) for i in range(2)])
    xy += shift
    hc = (np.array([0.0, 0.35, -0.5]) - centre3) @ rot.T + centre3
    head = hc[:2] * cam_dist / (cam_dist - hc[2])
    head = np.array([head[0], -head[1]]) * scale + shift
    return FaceSample(
        native=native,
        points=xy,
        depth=depth,
        facing=facing,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        mouth_open=mouth_open,
        eye_open=eye_open,
        head_centre=head,
        px_per_unit=float(scale * cam_dist / (cam_dist + 0.0)),
    )
