"""Data layer: the built-in synthetic set, converters of the real benchmarks, checks.

Every set is written in MMPose's COCO-style face layout (``annotations/{split}.json``,
``images/``, ``card.json``); see :mod:`harness.data.coco`.
"""
from harness.data.check import check_annotation_file, check_dataset
from harness.data.errors import DataError

__all__ = ["DataError", "check_annotation_file", "check_dataset"]
