"""The landmarks file `harness predict` writes (``landmarks.json``), and its validator.

::

    {"schema": "harness.landmarks/1",
     "model": {"source": str, "checkpoint": str, "config": str, "scheme": "300w", "num_keypoints": 68},
     "faces": [{"image": str, "width": int, "height": int, "face": int,
                "box": [x1, y1, x2, y2], "keypoints": [[x, y], ...], "scores": [float, ...]}]}

One record per face; pixel coordinates of the original image, origin at the top-left
pixel's corner as MMPose's (continuous x, y); ``keypoints`` has ``num_keypoints`` points
in the scheme's order; ``scores`` (one per point) are the decoder's heatmap scores,
comparable within one model only. :func:`validate` reads a document back into the
dataclasses and fails with one line naming the place (``faces[2].keypoints``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["SCHEMA", "ModelInfo", "FaceRecord", "Landmarks", "validate"]

SCHEMA = "harness.landmarks/1"


@dataclass(frozen=True)
class ModelInfo:
    source: str
    checkpoint: str
    config: str
    scheme: str
    num_keypoints: int


@dataclass(frozen=True)
class FaceRecord:
    image: str
    width: int
    height: int
    face: int
    box: tuple[float, float, float, float]
    keypoints: tuple[tuple[float, float], ...]
    scores: tuple[float, ...]


@dataclass(frozen=True)
class Landmarks:
    model: ModelInfo
    faces: tuple[FaceRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "model": asdict(self.model), "faces": [asdict(f) for f in self.faces]}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    return value


def _field(node: Any, key: str, where: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise ValueError(f"{where}: missing {key!r}")
    return node[key]


def _face(node: Any, where: str, k: int) -> FaceRecord:
    box = _field(node, "box", where)
    if not isinstance(box, list) or len(box) != 4:
        raise ValueError(f"{where}.box: expected [x1, y1, x2, y2]")
    b = tuple(_number(v, f"{where}.box[{i}]") for i, v in enumerate(box))
    if not (b[2] > b[0] and b[3] > b[1]):
        raise ValueError(f"{where}.box: x2 > x1 and y2 > y1 are required, got {list(b)}")
    points, scores = _field(node, "keypoints", where), _field(node, "scores", where)
    if not isinstance(points, list) or len(points) != k:
        raise ValueError(f"{where}.keypoints: expected {k} [x, y] pairs")
    if not isinstance(scores, list) or len(scores) != k:
        raise ValueError(f"{where}.scores: expected {k} numbers")
    pts = []
    for i, p in enumerate(points):
        if not isinstance(p, list) or len(p) != 2:
            raise ValueError(f"{where}.keypoints[{i}]: expected [x, y]")
        pts.append((_number(p[0], f"{where}.keypoints[{i}][0]"), _number(p[1], f"{where}.keypoints[{i}][1]")))
    image = _field(node, "image", where)
    if not isinstance(image, str) or not image:
        raise ValueError(f"{where}.image: expected a path")
    return FaceRecord(image, _int(_field(node, "width", where), f"{where}.width"),
                      _int(_field(node, "height", where), f"{where}.height"),
                      _int(_field(node, "face", where), f"{where}.face"), (b[0], b[1], b[2], b[3]), tuple(pts),
                      tuple(_number(s, f"{where}.scores[{i}]") for i, s in enumerate(scores)))


def validate(doc: Any) -> Landmarks:
    """Parse a landmarks document; ``ValueError`` naming the first wrong place."""
    if _field(doc, "schema", "document") != SCHEMA:
        raise ValueError(f"document: schema {doc.get('schema')!r} is not {SCHEMA!r}")
    m = _field(doc, "model", "document")
    source, checkpoint, config, scheme = (str(_field(m, key, "model"))
                                          for key in ("source", "checkpoint", "config", "scheme"))
    model = ModelInfo(source, checkpoint, config, scheme,
                      _int(_field(m, "num_keypoints", "model"), "model.num_keypoints"))
    faces = _field(doc, "faces", "document")
    if not isinstance(faces, list):
        raise ValueError("faces: expected a list")
    return Landmarks(model, tuple(_face(f, f"faces[{i}]", model.num_keypoints) for i, f in enumerate(faces)))
