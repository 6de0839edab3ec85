"""STAR's texture augmentation of the face crop, as a registered MMPose transform.

STAR's recipe (method.md section 7) applies, after the geometric crop, each with its own
probability: a black rectangle (occlusion 0.4), a box blur (0.3), a gamma curve (0.2),
a blend with uniform noise (0.2), then grey (0.2). MMPose has none of these for pose
(``PhotometricDistortion`` is brightness/contrast/hue; ``Albumentation`` needs a package
the project does not install), so they are written here from that description. Flip,
shift, rotation and scale are MMPose's own ``RandomFlip`` and ``RandomBBoxTransform``.
Randomness comes from numpy's global generator, which MMEngine seeds per worker.
"""
from __future__ import annotations

import cv2
import numpy as np
from mmcv.transforms import BaseTransform  # type: ignore[import-untyped]
from mmpose.registry import TRANSFORMS

__all__ = ["STARTextureAugment"]


def _occlude(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Black out a rectangle of 20-80 % of half the height (width a little less), anywhere."""
    h, w = img.shape[:2]
    rel_h = 0.2 + 0.6 * rng.rand()
    rel_w = rel_h - 0.2 + 0.4 * rng.rand()
    half_h, half_w = int(h / 2 * rel_h) // 2, int(w / 2 * rel_w) // 2
    cy, cx = int((h - 1) * rng.rand()), int((w - 1) * rng.rand())
    img[max(0, cy - half_h):min(h, cy + half_h + 1), max(0, cx - half_w):min(w, cx + half_w + 1)] = 0
    return img


def _blur(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Box blur with a kernel of up to 5 % of the mean side."""
    size = int(0.05 * rng.rand() * (img.shape[0] + img.shape[1]) / 2)
    return cv2.blur(img, (size, size)) if size > 1 else img


def _gamma(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Gamma in [0.25, 1) or [1, 4), each half of the time."""
    g = 0.25 + 0.75 * rng.rand() if rng.rand() < 0.5 else 1.0 + 3.0 * rng.rand()
    return ((img / 255.0) ** g * 255).astype(np.uint8)


def _noise(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Blend with uniform noise, noise share up to 50 %."""
    share = 0.5 * rng.rand()
    return ((1 - share) * img + share * rng.randint(0, 256, img.shape)).astype(np.uint8)


def _grey(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Grey in all three channels."""
    return np.repeat(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None], 3, axis=-1)


@TRANSFORMS.register_module()
class STARTextureAugment(BaseTransform):
    """Occlusion, blur, gamma, noise, grey on ``results['img']`` (H, W, 3) uint8, in that order.

    Args are the probabilities of each step (STAR's defaults). Keypoints are unchanged.
    """

    def __init__(self, occlusion: float = 0.4, blur: float = 0.3, gamma: float = 0.2, noise: float = 0.2,
                 grey: float = 0.2) -> None:
        self.steps = ((_occlude, occlusion), (_blur, blur), (_gamma, gamma), (_noise, noise), (_grey, grey))

    def transform(self, results: dict) -> dict:
        """Augment ``results['img']`` in place of the dict; returns it."""
        rng = np.random.mtrand._rand
        img = np.ascontiguousarray(results["img"]).copy()
        for step, prob in self.steps:
            if rng.rand() < prob:
                img = step(img, rng)
        results["img"] = img
        return results
