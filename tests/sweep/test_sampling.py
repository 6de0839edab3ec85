"""Searches with several worker processes: distinct, reproducible configurations.

Every worker process used to build its sampler from the spec's seed alone, so N workers
replayed one random stream and trained each configuration N times, concurrently, in one
work dir. The trainer here is the record-only launcher (writes a finished result record,
holding the work-dir lock like a real trainer), so only the orchestrator is under test:
real Optuna journal storage, real worker processes, a real SQLite MLflow store.
"""
from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from harness.contracts import Attr
from harness.sweep.launchers import plan_slots
from harness.sweep.orchestrator import resolve_context, run_sweep
from harness.sweep.spec import load_spec
from harness.sweep.storage import open_storage

SPACE = {"optim_wrapper.optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
         "model.head.loss.eps": {"type": "float", "low": 0.1, "high": 2.0}}


def _search(root: Path, write_spec, base_spec, tmp_path: Path, sampler: str, name: str):
    spec_path = write_spec(base_spec(
        name=name, sampler={"type": sampler, "seed": 3}, budget={"epochs": 1, "n_trials": 8},
        arms=[{"name": "a", "method": "structured", "config": "cfg/a.py", "search_space": SPACE}],
        resources={"workers": 2}, work_dir=str(tmp_path / name)), name=f"{name}.yaml")
    spec = load_spec(spec_path, root=root)
    ctx = resolve_context(spec, root=root, host="h", python=sys.executable,
                          env={"HARNESS_RECORD_ONLY_SECONDS": "0.3"}, launcher="record-only")
    status = run_sweep(ctx, plan_slots(spec.resources, cpu_count=2), poll_seconds=0.1)
    study = optuna.load_study(study_name=name, storage=open_storage(ctx.storage_url))
    return status, study


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_workers_draw_distinct_configurations_and_a_rerun_draws_the_same(
        sampler, root, write_spec, base_spec, tmp_path) -> None:
    status, study = _search(root, write_spec, base_spec, tmp_path, sampler, f"{sampler}1")
    assert not status.missing
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == len(study.trials) == 8
    configs = {tuple(sorted(t.params.items())) for t in trials}
    assert len(configs) == 8  # was 4 before: workers drew identical pairs
    work_dirs = {t.user_attrs[Attr.WORK_DIR] for t in trials}
    assert len(work_dirs) == 8
    assert not any(Attr.REUSED_FROM in t.user_attrs for t in trials)
    # Same spec seed, fresh study: the same configuration for every trial number,
    # whichever worker happened to claim it.
    _, again = _search(root, write_spec, base_spec, tmp_path, sampler, f"{sampler}2")
    assert {t.number: t.params for t in again.trials} == {t.number: t.params for t in study.trials}


def test_a_configuration_drawn_twice_is_trained_once(root, write_spec, base_spec, tmp_path) -> None:
    # Two choices, six slots: the sampler must repeat itself; the work-dir record is reused.
    spec_path = write_spec(base_spec(
        name="dup", sampler={"type": "random", "seed": 0}, budget={"epochs": 1, "n_trials": 6},
        seeds=[0],
        arms=[{"name": "a", "method": "structured", "config": "cfg/a.py", "search_space": {
            "model.head.loss.target": {"type": "categorical", "choices": ["nearest", "gaussian"]}}}],
        resources={"workers": 2}, work_dir=str(tmp_path / "dup")), name="dup.yaml")
    spec = load_spec(spec_path, root=root)
    ctx = resolve_context(spec, root=root, host="h", python=sys.executable,
                          env={"HARNESS_RECORD_ONLY_SECONDS": "0.2"}, launcher="record-only")
    status = run_sweep(ctx, plan_slots(spec.resources, cpu_count=2), poll_seconds=0.1)
    assert not status.missing
    study = optuna.load_study(study_name="dup", storage=open_storage(ctx.storage_url))
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 6
    by_dir: dict[str, list] = {}
    for t in trials:
        by_dir.setdefault(t.user_attrs[Attr.WORK_DIR], []).append(t)
    assert len(by_dir) == 2
    for group in by_dir.values():
        trained = [t for t in group if Attr.REUSED_FROM not in t.user_attrs]
        assert len(trained) == 1  # the others reused its record
        assert {t.value for t in group} == {trained[0].value}
        assert {t.user_attrs[Attr.REUSED_FROM] for t in group if t is not trained[0]} \
            <= {trained[0].number}
