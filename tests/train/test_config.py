"""How a request turns into an MMEngine config (fast: no training)."""
from __future__ import annotations

from pathlib import Path

from harness.train.config import load_config


def test_resume_only_what_an_earlier_attempt_left(make_request):
    request = make_request("fresh")
    assert load_config(request).resume is False
    # A fresh run must not re-read its own checkpoint in Runner.test(): under DDP rank 0
    # rewrites it after validation while other ranks read it.
    work_dir = load_config(request).work_dir
    Path(work_dir).mkdir(parents=True)
    (Path(work_dir) / "last_checkpoint").write_text(work_dir + "/epoch_1.pth")
    assert load_config(request).resume is False  # a pointer to nothing is not resumed
    import torch

    torch.save({"meta": {"epoch": 1}}, Path(work_dir) / "epoch_1.pth")
    assert load_config(request).resume is True


STRUCTURED = Path(__file__).resolve().parents[2] / \
    "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"


def _load(tmp_path, **options):
    from harness.train.request import TrainRequest

    return load_config(TrainRequest(config=str(STRUCTURED), work_dir=str(tmp_path / "w"),
                                    cfg_options=options))


def test_unknown_override_key_is_rejected_with_a_close_match(tmp_path):
    import pytest

    from harness.train.errors import BadRequest

    with pytest.raises(BadRequest) as info:
        _load(tmp_path, **{"model.head.loss.epz": 1.0})
    assert str(info.value) == (
        f"{STRUCTURED}: model.head.loss.epz: unknown config key (did you mean 'eps'? "
        "a new key is declared as '+model.head.loss.epz')")
    with pytest.raises(BadRequest, match=r"model\.haed\.loss\.eps: unknown config key 'model\.haed' "
                                         r"\(did you mean 'head'\?\)"):
        _load(tmp_path, **{"model.haed.loss.eps": 1.0})
    with pytest.raises(BadRequest, match=r"param_scheduler\.5\.end: unknown config key 'param_scheduler\.5'"):
        _load(tmp_path, **{"param_scheduler.5.end": 8})
    with pytest.raises(BadRequest, match=r"\+model\.head\.loss\.eps: 'model\.head\.loss\.eps' already exists"):
        _load(tmp_path, **{"+model.head.loss.eps": 1.0})


def test_declared_new_keys_merge_without_the_plus(tmp_path):
    cfg = _load(tmp_path, **{"+train_dataloader.dataset.indices": 8, "model.head.loss.eps": 0.5,
                             "+model.head.extra": {"a": 1}, "model.head.extra.a": 2,
                             "param_scheduler.0.end": 3})
    assert cfg.train_dataloader.dataset.indices == 8 and cfg.model.head.loss.eps == 0.5
    assert cfg.model.head.extra == {"a": 2} and cfg.param_scheduler[0].end == 3
    assert not any(str(k).startswith("+") for k in cfg)
    assert "+model" not in cfg and "+train_dataloader" not in cfg
