"""A checkpoint written in STAR's layout (random weights) loads exactly and predicts the same."""
from __future__ import annotations

import re
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]
HRNET_LEAF = ROOT / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"
STAR_LEAF = ROOT / "mm_configs/wflw/star_star-hg4_4xb32-200e_wflw-256x256.py"


def _small_leaf(tmp_path):
    """The wflw STAR hourglass leaf at 2 stacks, 2 levels, 32 channels (fast on CPU), and its model."""
    from harness import compat

    compat.apply()
    import harness.mm  # noqa: F401, I001  (right after compat)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    leaf = tmp_path / "star_small_wflw.py"
    leaf.write_text(f"_base_ = [{str(STAR_LEAF)!r}]\n"
                    "model = dict(backbone=dict(num_stacks=2, num_levels=2, channels=32), head=dict(num_stacks=2))\n")
    init_default_scope("mmpose")
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(leaf)).model)
    model.eval()
    return leaf, model


def _own_predictions(eval_config, backbone):
    """The eval's test images through the hourglass and ``star_predict`` directly.

    Returns image ids and a function of (N, K, 2) crop pixels -> image pixels, and the crop pixels.
    """
    from mmengine.config import Config
    from mmpose.registry import DATASETS

    dataset = DATASETS.build(Config.fromfile(str(eval_config)).test_dataloader.dataset)
    samples = [dataset[i] for i in range(len(dataset))]
    crops = torch.stack([s["inputs"] for s in samples]).permute(0, 2, 3, 1).numpy()
    pred = star_predict(backbone, star_inputs(crops)).numpy()
    meta = [s["data_samples"].metainfo for s in samples]
    size = np.array([m["input_size"] for m in meta], np.float64)[:, None]
    scale = np.array([m["input_scale"] for m in meta], np.float64)[:, None]
    centre = np.array([m["input_center"] for m in meta], np.float64)[:, None]
    ids = np.array([m["id"] for m in meta])
    return ids, lambda px: px / size * scale + centre - 0.5 * scale, pred  # MMPose's crop -> image step


@pytest.mark.slow
def test_harness_evaluate_arch_star_loads_exactly_and_predicts_as_the_module(tmp_path, tiny_sets, capsys):
    from harness.cli.main import main

    leaf, source = _small_leaf(tmp_path)
    path = tmp_path / "best_model.pkl"
    _write_star_layout(source.backbone, path)
    code = main(["evaluate", "--checkpoint", str(path), "--arch", "star-hg4", "--config", str(leaf),
                 "--data", str(tiny_sets["wflw"]), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}",
                 "--out", str(tmp_path / "out"), "--threads", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "inter_ocular NME" in out and re.search(r"NME \d+\.\d{4}%", out)

    _, direct = _small_leaf(tmp_path)  # another random init, then the file through the plain loader
    load_star_checkpoint(path, direct.backbone)
    for key, value in source.state_dict().items():
        assert torch.equal(value, direct.state_dict()[key]), key
    (work,) = (tmp_path / "out").glob("eval-*")
    saved = np.load(work / "predictions" / "eval_predictions.npz")
    ids, to_image, crop = _own_predictions(work / "eval_config.py", direct.backbone)
    order = np.argsort(ids)
    assert list(saved["image_ids"]) == list(ids[order]) and len(ids) == 3
    diff = np.abs(saved["pred"] - to_image(crop)[order]).max()
    print(f"max abs difference of predictions: {diff:.3g} px")
    assert diff < 1e-3  # float32 rounding of two routes, in image pixels
    # the trained codec's pixels (grid cell g times the stride 4) would not have matched
    trained = to_image((crop + 0.5) * (63 / 256) * 4)[order]
    assert np.abs(saved["pred"] - trained).max() > 0.1


@pytest.mark.parametrize("case", ["no --arch", "not an hourglass"])
def test_star_checkpoint_without_arch_or_with_another_config_is_one_line(case, tmp_path, tiny_sets, capsys):
    from harness.cli.main import main

    path = tmp_path / "best_model.pkl"
    _write_star_layout(_tiny(0), path)
    args = {"no --arch": ["--config", str(STAR_LEAF)],
            "not an hourglass": ["--arch", "star-hg4", "--config", str(HRNET_LEAF)]}[case]
    expected = {"no --arch": r"best_model\.pkl: not a mmengine checkpoint \(ValueError: its weights are under "
                             r"'net', STAR's layout: pass --arch star-hg4\)",
                "not an hourglass": r"structured_hrnet-tiny.*\.py: not an hourglass config \(backbone 'HRNet'\)"}[case]
    code = main(["evaluate", "--checkpoint", str(path), *args, "--data", str(tiny_sets["wflw"]),
                 "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and re.search(expected, err[0]), err


def test_without_config_the_sets_star_hourglass_leaf_is_taken(tiny_sets):
    from harness.evaluate.arch import default_leaf
    from harness.evaluate.data import open_split

    for scheme in ("wflw", "cofw", "300w"):
        leaf = default_leaf("star-hg4", open_split(tiny_sets[scheme], "test"))
        assert leaf.is_file() and leaf.parent.name == scheme and leaf.name.startswith("star_star-hg4_")
