"""MMEngine metric for face landmarks: per-image NME, FR and AUC with a named normaliser.

MMPose's own ``NME`` pools distances over keypoints and has no FR/AUC; this wraps the
project's pure :func:`harness.evaluation.face_metrics` instead. WFLW test annotations
that carry ``attributes`` (kept in ``raw_ann_info``) also give the six subset NMEs.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpose.registry import METRICS

from harness.evaluation import face_metrics

__all__ = ["FaceLandmarkMetric", "WFLW_SUBSETS"]

WFLW_SUBSETS = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")


@METRICS.register_module()
class FaceLandmarkMetric(BaseMetric):
    """Reports ``face/nme`` (%), ``face/fr`` (%), ``face/auc`` and ``face/nme_<subset>``.

    Args:
        normalizer: "inter_ocular", "inter_pupil" or "bbox" (sqrt of gt box area).
        scheme: landmark scheme ("wflw", "300w", "cofw"); inferred from K when None.
        threshold: FR/AUC cut-off as a fraction of the normaliser.
        predictions_file: when set, every evaluation writes the per-image predictions
            there as ``.npz`` (image_ids, pred, gt, normalizer, per_image_nme) for paired
            statistics later.
    """

    default_prefix: str | None = "face"

    def __init__(
        self,
        normalizer: str = "inter_ocular",
        scheme: str | None = None,
        threshold: float = 0.1,
        predictions_file: str | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.normalizer = normalizer
        self.scheme = scheme
        self.threshold = threshold
        self.predictions_file = predictions_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample["gt_instances"]
            box = np.asarray(gt["bboxes"], dtype=np.float64).reshape(-1, 4)[0]
            attributes = (sample.get("raw_ann_info") or {}).get("attributes") or {}
            self.results.append(
                dict(
                    id=sample.get("id", sample.get("img_id")),
                    pred=np.asarray(sample["pred_instances"]["keypoints"], dtype=np.float64)[0],
                    gt=np.asarray(gt["keypoints"], dtype=np.float64)[0],
                    box_size=float(np.sqrt(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))),
                    attributes={k: int(v) for k, v in attributes.items()},
                )
            )

    def compute_metrics(self, results: list) -> dict[str, float]:
        pred = np.stack([r["pred"] for r in results])
        gt = np.stack([r["gt"] for r in results])
        scheme = self.scheme or str(gt.shape[1])
        normalizer: np.ndarray | str = (
            np.array([r["box_size"] for r in results]) if self.normalizer == "bbox" else self.normalizer)
        out = face_metrics(pred, gt, normalizer=normalizer, scheme=scheme, threshold=self.threshold)
        metrics = {"nme": float(out["nme"]), "fr": float(out["fr"]), "auc": float(out["auc"])}
        per_image = np.asarray(out["per_image"], dtype=np.float64)
        for subset in WFLW_SUBSETS:
            member = np.array([r["attributes"].get(subset, 0) == 1 for r in results])
            if member.any():
                metrics[f"nme_{subset}"] = float(per_image[member].mean() * 100.0)
        if self.predictions_file:
            self._dump(Path(self.predictions_file), results, pred, gt, per_image,
                       np.asarray(out["normalizer"], dtype=np.float64))
        return metrics

    def _dump(self, path: Path, results: list, pred: np.ndarray, gt: np.ndarray, per_image: np.ndarray,
              normalizer: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            image_ids=np.array([r["id"] for r in results]),
            pred=pred.astype(np.float32),
            gt=gt.astype(np.float32),
            normalizer=normalizer,
            per_image_nme=per_image,
        )
