"""The pruning hook in a real (toy) MMEngine Runner, reporting to a real journal study."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import optuna
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import METRICS
from mmengine.runner import Runner
from optuna.trial import TrialState

from harness.mm.pruning import OptunaPruningHook, TrialPruned
from harness.sweep.storage import open_storage


class _Toy(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Linear(1, 1)

    def forward(self, x, y=None, mode="tensor"):
        out = self.w(x)  # default_collate stacked the batch: x, y are (B, 1)
        if mode == "loss":
            return {"loss": ((out - y) ** 2).mean()}
        return [out]


class _ScheduledNME(BaseMetric):
    """Reports ``face/nme`` from a fixed per-epoch schedule (what a trial "achieves")."""

    default_prefix = "face"
    schedule: ClassVar[list[float]] = []  # set by each test, consumed one epoch at a time

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        value = self.schedule.pop(0)
        return {"nme": value}


def _runner(tmp_path: Path, hook: dict, epochs: int) -> Runner:
    data = [dict(x=torch.tensor([float(i)]), y=torch.tensor([2.0 * i])) for i in range(4)]
    loader = dict(dataset=data, sampler=dict(type="DefaultSampler", shuffle=False),
                  batch_size=2, collate_fn=dict(type="default_collate"))
    METRICS.register_module(name="_ScheduledNME", module=_ScheduledNME, force=True)
    return Runner(
        model=_Toy(), work_dir=str(tmp_path / "run"), train_dataloader=loader,
        val_dataloader=loader, val_evaluator=dict(type="_ScheduledNME"),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=1), val_cfg=dict(),
        default_hooks=dict(checkpoint=None, logger=dict(type="LoggerHook", interval=1)),
        custom_hooks=[hook], experiment_name=f"toy-{tmp_path.name}",
    )


@pytest.fixture
def study(tmp_path: Path):
    url = f"journal:{tmp_path / 'optuna.journal'}"
    study = optuna.create_study(study_name="s", storage=open_storage(url))
    study.ask()  # trial 0, RUNNING, as a sweep worker would leave it
    return url, study


def _hook(url: str, pruner: dict) -> dict:
    return dict(type="OptunaPruningHook", storage=url, study_name="s",
                trial_number=0, metric="face/nme", pruner=pruner)


def test_reports_every_epoch_and_prunes(tmp_path: Path, study) -> None:
    url, study = study
    _ScheduledNME.schedule = [9.0, 8.0, 7.0, 6.0]
    runner = _runner(tmp_path, _hook(url, dict(type="ThresholdPruner", upper=7.5)), epochs=4)
    assert any(isinstance(h, OptunaPruningHook) for h in runner.hooks)
    with pytest.raises(TrialPruned) as info:
        runner.train()
    assert info.value.exit_code == 4  # ExitCode.PRUNED, read by the training worker
    trial = study.trials[0]
    # ThresholdPruner prunes after 9.0 > 7.5 only once its 0-step warm-up has passed.
    assert trial.intermediate_values == {1: 9.0}
    assert trial.state == TrialState.RUNNING  # the worker tells PRUNED, not the hook


def test_nop_pruner_reports_without_stopping(tmp_path: Path, study) -> None:
    url, study = study
    _ScheduledNME.schedule = [3.0, 2.0]
    _runner(tmp_path, _hook(url, dict(type="NopPruner")), epochs=2).train()
    assert study.trials[0].intermediate_values == {1: 3.0, 2: 2.0}


def _ddp_rank(rank: int, port: int, url: str, tmp: str) -> None:
    import json
    import os

    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    # MMEngine's launcher="pytorch" calls torch.cuda.set_device, impossible on a CPU box;
    # a gloo process group made here is what mmengine.dist (and so the hook) sees anyway.
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    _ScheduledNME.schedule = [9.0, 8.0, 7.0]
    runner = _runner(Path(tmp) / f"r{rank}", _hook(url, dict(type="ThresholdPruner", upper=7.5)), 3)
    hook = next(h for h in runner.hooks if isinstance(h, OptunaPruningHook))
    try:
        runner.train()
        outcome = "finished"
    except TrialPruned:
        outcome = "pruned"
    Path(tmp, f"rank{rank}.json").write_text(json.dumps(
        {"outcome": outcome, "epoch": runner.epoch, "talked_to_optuna": hook._trial is not None}))


@pytest.mark.slow
def test_ddp_only_rank0_reports_and_every_rank_stops(tmp_path: Path, study) -> None:
    import json
    import multiprocessing

    from harness.train.distributed import free_port

    url, study = study
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_ddp_rank, args=(r, port, url, str(tmp_path))) for r in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["outcome"] for r in results] == ["pruned", "pruned"]
    assert results[0]["epoch"] == results[1]["epoch"] == 1
    assert [r["talked_to_optuna"] for r in results] == [True, False]
    assert study.trials[0].intermediate_values == {1: 9.0}
