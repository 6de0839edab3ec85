"""The orchestration path without training: a dry-run launcher over a real journal study."""
from __future__ import annotations

import sys
from pathlib import Path

import optuna
from optuna.trial import TrialState

from harness.sweep.launchers import plan_slots
from harness.sweep.orchestrator import resolve_context, run_sweep
from harness.sweep.spec import load_spec
from harness.sweep.storage import open_storage
from harness.sweep.trials import claim
from harness.train.request import TrainRequest


def _ctx(root: Path, spec_path: Path, tmp_path: Path):
    spec = load_spec(spec_path, root=root)
    return resolve_context(spec, root=root, host="h", python=sys.executable, env={},
                           storage=f"journal:{tmp_path / 'dry.journal'}", launcher="dry-run")


def test_grid_dry_run_builds_one_request_per_trial(root, write_spec, base_spec, tmp_path) -> None:
    spec_path = write_spec(base_spec(
        arms=[{"name": "a", "method": "structured", "config": "cfg/a.py",
               "overrides": {"model.head.loss.eps": 0.5},
               "search_space": {"model.head.loss.target": {"type": "categorical",
                                                           "choices": ["nearest", "gaussian"]}}}],
        pruner={"type": "median", "warmup_epochs": 1}, work_dir=str(tmp_path / "w")))
    ctx = _ctx(root, spec_path, tmp_path)
    status = run_sweep(ctx, plan_slots(ctx.spec.resources, cpu_count=2), poll_seconds=0.1)
    assert status.counts["FAIL"] == 4 and status.n_left == 0  # 2 targets x 2 seeds, none trained
    requests = [TrainRequest.from_json(p) for p in sorted((tmp_path / "w").glob("trials/*/request-*.json"))]
    assert len(requests) == 4 and len({r.work_dir for r in requests}) == 4
    r = requests[0]
    assert r.cfg_options["model.head.loss.eps"] == 0.5 and r.cfg_options["train_cfg.max_epochs"] == 2
    assert r.cfg_options["model.head.loss.target"] in ("nearest", "gaussian")
    assert set(r.tags) == {"harness.sweep", "harness.arm", "harness.trial_id", "optuna.study",
                           "optuna.trial_number"}
    assert r.work_dir.endswith(r.tags["harness.trial_id"])
    (hook,) = r.extra_hooks
    assert hook["type"] == "OptunaPruningHook"
    assert hook["pruner"] == {"type": "MedianPruner", "n_warmup_steps": 1}
    assert hook["storage"] == ctx.storage_url and hook["metric"] == "face/nme"
    assert sorted(r.seed for r in requests) == [0, 0, 1, 1]


def test_tpe_slots_are_sampled_at_claim_and_queue_never_grows(root, write_spec, base_spec,
                                                              tmp_path) -> None:
    spec_path = write_spec(base_spec(
        sampler={"type": "tpe", "seed": 1}, budget={"epochs": 1, "n_trials": 3},
        arms=[{"name": "a", "method": "structured", "config": "cfg/a.py",
               "search_space": {"optim_wrapper.optimizer.lr": {"type": "float", "low": 1e-4,
                                                               "high": 1e-2, "log": True}}}]))
    ctx = _ctx(root, spec_path, tmp_path)
    ctx = type(ctx)(**{**ctx.__dict__, "work_dir": tmp_path / "w"})
    status = run_sweep(ctx, plan_slots(ctx.spec.resources, cpu_count=2), poll_seconds=0.1)
    storage = open_storage(ctx.storage_url)
    study = optuna.load_study(study_name="t", storage=storage)
    assert len(study.trials) == 3 == status.counts["FAIL"]
    lrs = [t.params["optim_wrapper.optimizer.lr"] for t in study.trials]
    assert len(set(lrs)) == 3 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    # An empty queue gives no trial, and asking did not create one.
    assert claim(ctx, study, storage, plan_slots(ctx.spec.resources, cpu_count=2)[0]) is None
    assert len(study.trials) == 3
    assert not study.get_trials(states=(TrialState.RUNNING,))


def test_ddp_slot_requests_torchrun_launch(root, write_spec, base_spec, tmp_path) -> None:
    spec_path = write_spec(base_spec(seeds=[0], work_dir=str(tmp_path / "w"),
                                     resources={"device": "cuda", "gpus": [2, 3], "gpus_per_trial": 2}))
    ctx = _ctx(root, spec_path, tmp_path)
    slots = plan_slots(ctx.spec.resources, cpu_count=8)
    assert [(s.env["CUDA_VISIBLE_DEVICES"], s.nproc) for s in slots] == [("2,3", 2)]
    run_sweep(ctx, slots, poll_seconds=0.1)
    requests = [TrainRequest.from_json(p) for p in (tmp_path / "w").glob("trials/*/request-*.json")]
    assert len(requests) == 2
    assert {(r.launcher, r.device, r.cpu_threads) for r in requests} == {("pytorch", "cuda", 4)}
