"""Released checkpoints of another code base: ``harness evaluate --arch star-hg4``.

A STAR / RwSA ``best_model.pkl`` (:mod:`harness.mm.star_checkpoint`) is scored with an
hourglass leaf of ``mm_configs`` (its architecture) under the released code's conventions,
not the leaf's training ones: the weights go to the model's ``backbone.`` keys (the head
has none), the input is BGR scaled to [-1, 1], the decoded map cells become pixels with
STAR's align_corners=False step (:class:`~harness.mm.star_checkpoint.StarPixelCodec`), and
NME takes the paper's normaliser of the scored set (inter-pupil on COFW).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmengine.config import Config

from harness.evaluate.data import EvalSplit
from harness.evaluate.weights import register_layout
from harness.train.errors import BadRequest

__all__ = ["ARCHS", "arch_config", "default_leaf"]

ARCHS = {"star-hg4": "star"}  # --arch -> its checkpoint layout (harness.evaluate.weights.LAYOUTS)
_CONFIGS = Path(__file__).resolve().parents[2] / "mm_configs"


@register_layout("star")
def _star(checkpoint: Any) -> dict[str, Any]:
    from harness.mm.star_checkpoint import star_state_dict

    return {f"backbone.{k}": v for k, v in star_state_dict(checkpoint).state.items()}


def default_leaf(arch: str, data: EvalSplit) -> Path:
    """The STAR-loss hourglass leaf of the scored set's scheme (what STAR released)."""
    leaf = _CONFIGS / data.scheme / f"star_star-hg4_4xb32-200e_{data.scheme}-256x256.py"
    if not leaf.is_file():
        raise BadRequest(f"{data.root}: no hourglass config for scheme {data.scheme!r} ({leaf} not found): "
                         f"give --arch {arch} a --config")
    return leaf


def arch_config(cfg: Config, arch: str, config_name: str, data: EvalSplit) -> Config:
    """``cfg`` (an hourglass leaf) with the released code's input, decoding and NME conventions.

    Raises:
        BadRequest: ``arch`` unknown, or ``cfg`` not a model of that architecture.
    """
    from harness.mm.star_checkpoint import PAPER_NORMALIZERS

    if arch not in ARCHS:
        raise BadRequest(f"unknown --arch {arch!r} (known: {', '.join(sorted(ARCHS))})")
    if cfg.model.get("backbone", {}).get("type") != "STARHourglass":
        raise BadRequest(f"{config_name}: not an hourglass config (backbone {cfg.model.backbone.get('type')!r}): "
                         f"--arch {arch} takes an mm_configs/*/*_star-hg4_* leaf")
    cfg = cfg.copy()
    cfg.model.data_preprocessor = dict(type="PoseDataPreprocessor", mean=[127.5] * 3, std=[127.5] * 3,
                                       bgr_to_rgb=False)
    cfg.model.head.per_stack.decoder.type = "StarPixelCodec"
    cfg.test_evaluator.normalizer = PAPER_NORMALIZERS.get(data.scheme, cfg.test_evaluator.get("normalizer"))
    return cfg
