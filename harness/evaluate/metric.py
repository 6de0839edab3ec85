"""The training metric, scoring a model of one landmark scheme on a set of another.

``FaceLandmarkMetric`` compares (K, 2) predictions with (K, 2) ground truth. A 98-point
(WFLW) model on a 68-point (300W) or 29-point (COFW) set is scored after mapping its
predictions to the set's scheme (:data:`harness.data.mapping.SCHEME_MAPS`); the same
scheme maps to itself, so an unmapped evaluation runs exactly training's code.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from mmpose.registry import METRICS

from harness.data.mapping import map_points
from harness.mm.metric import FaceLandmarkMetric

__all__ = ["MappedFaceLandmarkMetric"]


@METRICS.register_module()
class MappedFaceLandmarkMetric(FaceLandmarkMetric):
    """``FaceLandmarkMetric`` on predictions mapped from ``model_scheme`` to ``scheme``.

    Args:
        model_scheme: the scheme the model predicts ("wflw", "300w", "cofw").
        scheme: the data set's scheme (the metric's own argument, required here).
        **kwargs: ``FaceLandmarkMetric``'s arguments (normalizer, threshold, predictions_file).
    """

    def __init__(self, model_scheme: str, scheme: str, **kwargs: Any) -> None:
        super().__init__(scheme=scheme, **kwargs)
        self.model_scheme = model_scheme

    def process(self, data_batch: Any, data_samples: Sequence[dict[str, Any]]) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        for result in self.results[start:]:
            result["pred"] = np.asarray(map_points(result["pred"], self.model_scheme, str(self.scheme)))
