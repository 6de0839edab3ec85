"""Score any checkpoint on any prepared set, and run a model on new images.

`harness evaluate` (:func:`evaluate`) and `harness predict` (:func:`predict`); the
checkpoint-loading seam is :func:`harness.evaluate.weights.load_weights`.
"""
from harness.evaluate.evaluate import EvalRequest, EvalResult, evaluate

__all__ = ["EvalRequest", "EvalResult", "evaluate"]
