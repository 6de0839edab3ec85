"""`harness predict`: a trained model's landmarks on new images, as JSON and overlay PNGs.

Each face box (from ``--boxes``, else the whole image) goes through the model's own test
pipeline (crop, affine warp to the input size) and decoder, as in evaluation; the points
come back in the original image's pixels. The landmarks file follows
:mod:`harness.evaluate.schema` and is validated before it is written.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.evaluate.config import load_model_config, model_scheme
from harness.evaluate.schema import FaceRecord, Landmarks, ModelInfo, validate
from harness.evaluate.source import ModelSource, resolve_source
from harness.evaluate.weights import load_weights
from harness.train.errors import BadRequest

__all__ = ["PredictRequest", "PredictResult", "predict", "read_boxes", "LANDMARKS_FILE"]

LANDMARKS_FILE = "landmarks.json"
Box = tuple[float, float, float, float]
# What MMPose's datasets add to every sample from their metainfo (flip test needs flip_indices).
_META_KEYS = ("dataset_name", "upper_body_ids", "lower_body_ids", "flip_pairs", "dataset_keypoint_weights",
              "flip_indices", "skeleton_links")


@dataclass(frozen=True)
class PredictRequest:
    """Images to run a model on; ``target``/``checkpoint``/``config`` as for ``harness evaluate``.

    ``boxes``: a JSON file ``{"<image as given, or its file name>": [[x1, y1, x2, y2], ...]}``
    in pixels, one box per face; an image without an entry is one face, the whole image.
    """

    target: str | None
    images: tuple[Path, ...]
    out: Path
    checkpoint: str | None = None
    config: str | None = None
    boxes: Path | None = None
    which: str = "best"
    tracking_uri: str = ""
    layout: str = "mmengine"
    threads: int | None = None
    progress: bool = True


@dataclass(frozen=True)
class PredictResult:
    landmarks: Landmarks
    json_path: Path
    overlays: tuple[Path, ...]


def _box(value: Any, where: str) -> Box:
    ok = isinstance(value, list) and len(value) == 4 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)
    if not ok or not (value[2] > value[0] and value[3] > value[1]):
        raise BadRequest(f"{where}: a box is [x1, y1, x2, y2] with x2 > x1 and y2 > y1, got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]), float(value[3]))


def read_boxes(path: Path, images: Sequence[Path]) -> dict[Path, list[Box]]:
    """The boxes file as image -> boxes; one-line :class:`BadRequest` naming the file and the entry."""
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the boxes file ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    if not isinstance(doc, dict):
        raise BadRequest(f"{path}: expected an object {{image: [[x1, y1, x2, y2], ...]}}")
    by_name = {}
    for image in images:
        by_name[str(image)] = image
        by_name.setdefault(image.name, image)
    out: dict[Path, list[Box]] = {}
    for key, boxes in doc.items():
        if key not in by_name:
            raise BadRequest(f"{path}: {key!r} is not one of the images given")
        if not isinstance(boxes, list) or not boxes:
            raise BadRequest(f"{path}: {key!r}: expected a non-empty list of boxes")
        out[by_name[key]] = [_box(b, f"{path}: {key!r}[{i}]") for i, b in enumerate(boxes)]
    return out


class _Predictor:
    """A built model with its test pipeline; ``__call__`` gives (keypoints (F, K, 2), scores (F, K))."""

    def __init__(self, source: ModelSource, layout: str) -> None:
        from harness import compat

        compat.apply()
        import harness.mm  # noqa: F401, I001  (the project's MMPose modules, right after compat)
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        from mmpose.registry import DATASETS, MODELS

        cfg = load_model_config(source.config)
        init_default_scope(cfg.get("default_scope", "mmpose"))
        self.scheme = model_scheme(cfg)
        self.model = MODELS.build(cfg.model)
        load_weights(self.model, source.checkpoint, layout=layout, against=str(source.config))
        self.model.eval()
        dataset_cls = DATASETS.get(cfg.test_dataloader.dataset.type)
        meta = parse_pose_metainfo(deepcopy(dataset_cls.METAINFO)) if dataset_cls is not None else {}
        self.meta = {k: meta[k] for k in _META_KEYS if k in meta}
        self.pipeline = Compose(cfg.test_dataloader.dataset.pipeline)

    def __call__(self, image: Path, boxes: list[Box]) -> tuple[np.ndarray, np.ndarray]:
        import torch
        from mmengine.dataset import pseudo_collate

        samples = [self.pipeline(dict(img_path=str(image), bbox=np.array([box], np.float32),
                                      bbox_score=np.ones(1, np.float32), **deepcopy(self.meta)))
                   for box in boxes]
        with torch.no_grad():
            results = self.model.test_step(pseudo_collate(samples))
        keypoints = np.stack([np.asarray(r.pred_instances.keypoints, np.float64)[0] for r in results])
        scores = np.stack([np.asarray(r.pred_instances.keypoint_scores, np.float64)[0] for r in results])
        return keypoints, scores


def _image_size(path: Path) -> tuple[int, int]:
    import cv2

    if not path.is_file():
        raise BadRequest(f"{path}: image file not found")
    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise BadRequest(f"{path}: not a readable image")
    return int(data.shape[1]), int(data.shape[0])


def draw_overlay(image: Path, faces: Sequence[FaceRecord], out: Path) -> Path:
    """The image with each face's box and points drawn (PNG)."""
    import cv2

    canvas = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if canvas is None:  # read once already (_image_size); gone or changed since
        raise BadRequest(f"{image}: not a readable image")
    scale = max(1, round(max(canvas.shape[:2]) / 256))
    for face in faces:
        x1, y1, x2, y2 = (round(v) for v in face.box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (255, 160, 0), scale)
        for x, y in face.keypoints:
            cv2.circle(canvas, (round(x), round(y)), scale + 1, (0, 220, 0), -1, lineType=cv2.LINE_AA)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), canvas)
    return out


def predict(request: PredictRequest) -> PredictResult:
    """Landmarks of every face of every image; raises :class:`BadRequest` before any output."""
    from rich.progress import track

    if not request.images:
        raise BadRequest("no images given")
    sizes = {image: _image_size(image) for image in request.images}
    boxes = read_boxes(request.boxes, request.images) if request.boxes else {}
    out = Path(request.out)
    source = resolve_source(request.target, checkpoint=request.checkpoint, config=request.config,
                            which=request.which, tracking_uri=request.tracking_uri or _default_uri(),
                            download_to=out / "model")
    if request.threads:
        import torch

        torch.set_num_threads(request.threads)
    predictor = _Predictor(source, request.layout)
    faces: list[FaceRecord] = []
    overlays = []
    for n, image in enumerate(track(request.images, description="predicting", disable=not request.progress)):
        w, h = sizes[image]
        own = boxes.get(image, [(0.0, 0.0, float(w), float(h))])
        keypoints, scores = predictor(image, own)
        mine = [FaceRecord(str(image), w, h, i, box, tuple((float(x), float(y)) for x, y in kp),
                           tuple(float(s) for s in sc)) for i, (box, kp, sc) in enumerate(zip(own, keypoints, scores,
                                                                                                strict=True))]
        faces += mine
        overlays.append(draw_overlay(image, mine, out / "overlays" / f"{n:04d}_{image.stem}.png"))
    from harness.schemes import get_scheme

    landmarks = Landmarks(ModelInfo(source.label, str(source.checkpoint), str(source.config), predictor.scheme,
                                    get_scheme(predictor.scheme).num_keypoints), tuple(faces))
    doc = landmarks.to_json()
    validate(json.loads(json.dumps(doc)))  # what a reader will parse, not the in-memory tuples
    json_path = out / LANDMARKS_FILE
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    return PredictResult(landmarks, json_path, tuple(overlays))


def _default_uri() -> str:
    from harness.tracking.store import default_tracking_uri

    return default_tracking_uri()
