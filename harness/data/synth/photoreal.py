"""Photo-real renderer: the textured face scan ``james`` of the menpo3d 0.8.6 sdist.

The scan (BSD-3, Imperial College London; not shipped here) is read at run time from
the ``menpo3d-0.8.6.tar.gz`` a user downloaded (``pip download --no-deps menpo3d==0.8.6``)
or from its extracted ``menpo3d/data`` folder. It is posed like the procedural faces,
drawn triangle by triangle far to near (painter's algorithm, flat Lambert shading of the
texture colour) with a depth buffer that decides each landmark's self-occlusion.
"""
from __future__ import annotations

import json
import logging
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from harness.data.synth.procedural import _background, _occlude
from harness.data.synth.shapes import FaceSample, rotation_matrix

__all__ = ["MENPO_TO_IBUG", "load_scan", "ScanModel", "landmarks_from_ljson"]

log = logging.getLogger(__name__)

# james.ljson lists its 68 points by groups: chin 0-16, left eye 17-22, right eye 23-28,
# left brow 29-33, nose 34-42, right brow 43-47, mouth 48-67. iBUG order is chin, brows,
# nose, eyes, mouth ("left" is image-left in both).
MENPO_TO_IBUG = (tuple(range(17)) + tuple(range(29, 34)) + tuple(range(43, 48)) + tuple(range(34, 43))
                 + tuple(range(17, 29)) + tuple(range(48, 68)))


def landmarks_from_ljson(text: str) -> np.ndarray:
    """(68, 3) landmarks of a menpo LJSON v3 document, in iBUG order."""
    doc = json.loads(text)
    group = next(iter(doc["groups"].values()))
    pts = np.asarray(group["landmarks"]["points"], dtype=np.float64)
    return pts[list(MENPO_TO_IBUG)]


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tar.extractfile(member)
    if f is None:  # a directory or a link, not a file
        raise OSError(f"{member.name} in the menpo3d archive is not a regular file")
    return f.read()


def _read_files(scan: Path) -> dict[str, bytes] | None:
    names = ("james.obj", "james.jpg", "james.ljson")
    if scan.is_file() and tarfile.is_tarfile(scan):
        with tarfile.open(scan) as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.name.endswith(names)}
            if all(n in members for n in names):
                return {n: _member_bytes(tar, members[n]) for n in names}
        return None
    for folder in (scan, scan / "menpo3d" / "data"):
        if all((folder / n).is_file() for n in names):
            return {n: (folder / n).read_bytes() for n in names}
    return None


@dataclass
class ScanModel:
    """A normalised scan: nose tip at 0, half the jaw width = 1, x right, y up, z to camera.

    Attributes:
        vertices: (V, 3); triangles: (T, 3) vertex indices; colours: (T, 3) BGR texture colour.
        landmarks: (68, 3) in iBUG order.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    colours: np.ndarray
    landmarks: np.ndarray

    def render(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, FaceSample]:
        """Draw the scan at a random pose over clutter: (image, occluded (68,), FaceSample)."""
        yaw = float(np.clip(rng.normal(0, 20), -40, 40))
        pitch = float(np.clip(rng.normal(0, 10), -20, 20))
        roll = float(np.clip(rng.normal(0, 10), -20, 20))
        rot = rotation_matrix(yaw, pitch, roll)
        c3 = np.array([0.0, 0.0, -0.5])
        cam = rng.uniform(3.0, 9.0)
        allp = (np.concatenate([self.vertices, self.landmarks]) - c3) @ rot.T + c3
        depth = cam - allp[:, 2]
        xy = allp[:, :2] * (cam / depth)[:, None] * np.array([1.0, -1.0])
        lm = xy[-68:]
        scale = rng.uniform(0.40, 0.75) * size / (lm.max(0) - lm.min(0)).max()
        xy *= scale
        lo, hi = xy[-68:].min(0), xy[-68:].max(0)
        m = 0.06 * size
        xy += np.array([rng.uniform(m - lo[i], size - m - hi[i]) for i in range(2)])
        v2, vd = xy[:-68], depth[:-68]
        tri = self.triangles
        p = v2[tri]  # (T, 3, 2)
        area = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
        keep = area < 0  # front faces wind clockwise once y points down (checked on the frontal scan)
        normals = np.cross(allp[tri[:, 1]] - allp[tri[:, 0]], allp[tri[:, 2]] - allp[tri[:, 0]])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.3, 0.6), 1.0])
        light /= np.linalg.norm(light)
        shade = np.clip(0.35 + 0.75 * np.abs(normals @ light), 0, 1.3)
        img = _background(rng, size)
        zbuf = np.full((size, size), np.inf, np.float32)
        tdepth = vd[tri].mean(axis=1)
        order = np.argsort(-tdepth)  # far to near
        fx = np.round(p * 16).astype(np.int32)
        for t in order[keep[order]]:
            colour = tuple(float(min(255.0, c * shade[t])) for c in self.colours[t])
            cv2.fillConvexPoly(img, fx[t], colour, cv2.LINE_AA, 4)
            cv2.fillConvexPoly(zbuf, fx[t], float(tdepth[t]), cv2.LINE_8, 4)
        pts, ldepth = xy[-68:], depth[-68:]
        xi = np.clip(np.round(pts[:, 0]).astype(int), 0, size - 1)
        yi = np.clip(np.round(pts[:, 1]).astype(int), 0, size - 1)
        facing = ldepth <= zbuf[yi, xi] + 0.05  # nothing of the scan in front of the landmark
        occluded = _occlude(rng, img, pts, scale, size) if rng.random() < 0.3 else np.zeros(68, bool)
        face = FaceSample("300w", pts, ldepth, facing, yaw, pitch, roll, 0.0, np.ones(2), pts.mean(0), scale)
        return img, occluded, face


def load_scan(scan: str | Path | None) -> ScanModel | None:
    """Load the scan from ``scan`` (sdist or folder); None, with a warning, if unavailable."""
    files = _read_files(Path(scan)) if scan else None
    if files is None:
        log.warning("photo-real renderer: no menpo3d james scan at %s; falling back to procedural "
                    "(get it with `pip download --no-deps menpo3d==0.8.6` and pass --scan)", scan)
        return None
    vert_rows: list[list[float]] = []
    uv_rows: list[list[float]] = []
    tri_rows: list[list[int]] = []
    tuv: list[list[int]] = []
    for line in files["james.obj"].decode().splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "v":
            vert_rows.append([float(v) for v in rest.split()[:3]])
        elif tag == "vt":
            uv_rows.append([float(v) for v in rest.split()[:2]])
        elif tag == "f":
            corners = [c.split("/") for c in rest.split()[:3]]
            tri_rows.append([int(c[0]) - 1 for c in corners])
            tuv.append([int(c[1]) - 1 for c in corners])
    verts, uvs, tris = np.array(vert_rows), np.array(uv_rows), np.array(tri_rows)
    tex = cv2.imdecode(np.frombuffer(files["james.jpg"], np.uint8), cv2.IMREAD_COLOR)
    if tex is None:
        raise OSError(f"james.jpg of the scan at {scan} is not a readable image")
    muv = uvs[np.array(tuv)].mean(axis=1)  # texture colour at each triangle's centre
    tx = np.clip((muv[:, 0] * tex.shape[1]).astype(int), 0, tex.shape[1] - 1)
    ty = np.clip(((1 - muv[:, 1]) * tex.shape[0]).astype(int), 0, tex.shape[0] - 1)
    lms = landmarks_from_ljson(files["james.ljson"].decode())
    origin, unit = lms[30], (lms[16, 0] - lms[0, 0]) / 2
    return ScanModel((verts - origin) / unit, tris, tex[ty, tx].astype(np.float64), (lms - origin) / unit)
