"""A checkpoint written in STAR's layout (random weights) loads exactly and predicts the same."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.mm.hourglass import STARHourglass
from harness.mm.star_checkpoint import load_star_checkpoint, star_inputs, star_nme, star_predict


def _tiny(seed: int) -> STARHourglass:
    torch.manual_seed(seed)
    model = STARHourglass(scheme="cofw", num_stacks=2, num_levels=2, channels=32, heatmap_act="in+relu")
    model.eval()
    return model


def _write_star_layout(model: STARHourglass, path) -> None:
    """What STAR's trainer and an AveragedModel leave: 'module.' keys, the EMA counter, unused skips."""
    net = {f"module.{k}": v.clone() for k, v in model.state_dict().items()}
    net["module.n_averaged"] = torch.tensor(1234)
    # STAR builds a skip conv in every residual block; equal-width ones are never run.
    net["module.hgs.0.up1.skip_layer.conv.weight"] = torch.randn(32, 32, 1, 1)
    net["module.hgs.0.up1.skip_layer.conv.bias"] = torch.randn(32)
    torch.save({"net": net, "optimizer": {"state": {}, "param_groups": []}, "epoch": 7}, path)


def test_star_layout_loads_exactly_and_predictions_equal_the_modules_own(tmp_path):
    source, target = _tiny(0), _tiny(1)
    path = tmp_path / "best_model.pkl"
    _write_star_layout(source, path)
    weights = load_star_checkpoint(path, target)
    assert weights.n_averaged == 1234
    assert weights.dropped == ("hgs.0.up1.skip_layer.conv.bias", "hgs.0.up1.skip_layer.conv.weight")
    for key, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[key]), key

    images = np.random.default_rng(0).integers(0, 256, size=(2, 64, 64, 3), dtype=np.uint8)
    inputs = star_inputs(images)
    assert inputs.min() >= -1 and inputs.max() <= 1
    assert inputs[0, 0, 0, 0] == pytest.approx((images[0, 0, 0, 0] - 127.5) / 127.5)  # channel 0 stays B
    pred = star_predict(target, inputs)
    torch.testing.assert_close(pred, star_predict(source, inputs), rtol=0, atol=0)
    assert tuple(pred.shape) == (2, 29, 2) and (pred > -0.5).all() and (pred < 63.5).all()
    nme = star_nme(pred.numpy(), pred.numpy() + 1.0, "cofw")
    assert nme.shape == (2,) and (nme > 0).all()


def test_star_prediction_uses_align_corners_false_pixels():
    class OnePeak(torch.nn.Module):
        def forward(self, x):
            maps = torch.zeros(1, 1, 5, 5)
            maps[0, 0, 4, 0] = 1.0  # last row, first column: u = -1, v = +1 on the map grid
            return [type("S", (), {"fused": maps})()]

    pred = star_predict(OnePeak(), torch.zeros(1, 3, 20, 20))
    # px = ((u + 1) * 20 - 1) / 2
    torch.testing.assert_close(pred, torch.tensor([[[-0.5, 19.5]]]))


def test_a_file_of_another_layout_or_model_is_one_line_naming_it(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"state_dict": {"backbone.x": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match=r"other\.pth: not a STAR checkpoint: entry 'state_dict' of 'net' is a dict"):
        load_star_checkpoint(path, _tiny(0))
    wider = STARHourglass(scheme="cofw", num_stacks=2, num_levels=2, channels=64)
    _write_star_layout(wider, path)
    with pytest.raises(ValueError, match=r"other\.pth: does not fit the hourglass: 0 missing, 0 unexpected, \d+ of"):
        load_star_checkpoint(path, _tiny(0))
