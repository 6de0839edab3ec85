"""Evaluation cores (numpy only); the MMEngine metric wrapper lives in ``harness.mm``."""
from .metrics import NORMALIZERS, ced_curve, face_metrics, normalizer_distances, per_image_nme, per_landmark_nme

__all__ = ["NORMALIZERS", "ced_curve", "face_metrics", "normalizer_distances", "per_image_nme", "per_landmark_nme"]
