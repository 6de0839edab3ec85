"""`harness sweep run` for a spec with a ``protocol: {kind: tune-then-confirm}`` section.

1. Tuning: each arm's single-arm sweep (:func:`~harness.sweep.protocol_plan.tune_spec`)
   in its own study ``<sweep>.tune.<arm>``, run by the ordinary orchestrator.
2. Selection, once every tuning trial has its answer: each arm's best configuration by
   val NME, from the tuning studies' values only, written once (under the confirmation
   study's lock) as that study's user attribute; a re-run or another machine reads it.
3. Confirmation in rounds, study ``<sweep>.confirm``: round k trains every arm still
   compared on the first ``looks[k]`` fresh seeds (a grid sweep; earlier seeds are
   already settled and never queued again). After the round, each open comparison is
   decided (:mod:`~harness.sweep.protocol_sequential`) from the test metric in the
   trials' result records, and the decisions are written once as a study attribute:
   a re-run replays them instead of deciding again.

Every stage shares the storage, the MLflow experiment and the sweep's parent run; runs
carry ``harness.stage``. A kill anywhere is recovered like any sweep: the next run
resumes the stage it was in.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import optuna
from mlflow import MlflowClient
from optuna.trial import TrialState

from harness.contracts import Attr, ProtocolAttr, Tag, confirm_study, tune_study
from harness.sweep import mlflow_parent
from harness.sweep.context import SweepContext
from harness.sweep.launchers import Slot
from harness.sweep.orchestrator import run_sweep
from harness.sweep.plan import PlannedTrial, planned_trials
from harness.sweep.protocol_plan import Choice, confirm_spec, select, tune_spec
from harness.sweep.protocol_sequential import METHOD, Decision, decide
from harness.sweep.status import MissingTrial, SweepStatus, summarize
from harness.sweep.storage import open_storage, redact, study_lock
from harness.sweep.trials import open_study
from harness.train.result import read_result

__all__ = ["Round", "run_protocol", "protocol_status", "read_choices", "read_rounds"]

_log = logging.getLogger(__name__)
StatusFn = Callable[[SweepStatus], None] | None


@dataclasses.dataclass(frozen=True)
class Round:
    """Round ``index`` at ``look`` seeds: the arms it trains, and its recorded decisions."""

    index: int
    look: int
    arms: tuple[str, ...]
    decisions: dict[str, Decision] | None = None  # None: not decided yet


def _stage(ctx: SweepContext, spec: Any, study: str, stage: str) -> SweepContext:
    return dataclasses.replace(ctx, spec=spec, study=study, stage=stage)


def read_choices(study: optuna.Study) -> dict[str, Choice] | None:
    raw = study.user_attrs.get(ProtocolAttr.SELECTION)
    return None if raw is None else {k: Choice.from_dict(v) for k, v in json.loads(raw).items()}


def read_rounds(study: optuna.Study, ctx: SweepContext) -> list[Round]:
    """The rounds so far: decided ones from the study's attributes, then the next one."""
    spec = ctx.spec
    assert spec.protocol is not None
    confirm = spec.protocol.confirm
    methods = [a.name for a in spec.arms if a.name != confirm.baseline]
    attrs, stopped, out = study.user_attrs, set(), []
    for k, look in enumerate(confirm.looks):
        open_ = [m for m in methods if m not in stopped]
        if not open_:
            break
        raw = attrs.get(f"{ProtocolAttr.ROUND}{k}")
        decisions = None if raw is None else {
            m: Decision(**d) for m, d in json.loads(raw)["decisions"].items()}
        out.append(Round(k, look, (confirm.baseline, *open_), decisions))
        if decisions is None:
            break
        stopped |= {m for m, d in decisions.items() if d.state != "continue"}
    return out


def _round_spec(ctx: SweepContext, choices: dict[str, Choice], r: Round) -> Any:
    spec = ctx.spec
    assert spec.protocol is not None
    return confirm_spec(spec, choices, r.arms, spec.protocol.confirm.seeds(spec.seeds)[: r.look])


def _metric_by_seed(trials: Sequence[optuna.trial.FrozenTrial], metric: str) -> dict[tuple[str, int], float]:
    """(arm, seed) -> the compared test metric, from each COMPLETE trial's result record."""
    key = metric.split("/", 1)[1]
    out = {}
    for t in trials:
        if t.state != TrialState.COMPLETE or Attr.WORK_DIR not in t.user_attrs:
            continue
        record = read_result(t.user_attrs[Attr.WORK_DIR])
        if record is not None and key in record.test:
            out[(str(t.user_attrs[Attr.ARM]), int(t.user_attrs[Attr.SEED]))] = float(record.test[key])
    return out


def _decide(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
            r: Round) -> dict[str, Decision]:
    """Decide round ``r`` once: under the study lock, the first writer's decisions win."""
    spec = ctx.spec
    assert spec.protocol is not None
    confirm = spec.protocol.confirm
    name = f"{ProtocolAttr.ROUND}{r.index}"
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        raw = study.user_attrs.get(name)
        if raw is not None:
            return {m: Decision(**d) for m, d in json.loads(raw)["decisions"].items()}
        values = _metric_by_seed(study.get_trials(deepcopy=False), confirm.metric)
        seeds = confirm.seeds(spec.seeds)[: r.look]
        decisions = {}
        for m in r.arms[1:]:
            diffs = [values[(m, s)] - values[(confirm.baseline, s)] for s in seeds
                     if (m, s) in values and (confirm.baseline, s) in values]
            decisions[m] = decide(diffs, confirm.looks, confirm.alpha, confirm.margin)
        study.set_user_attr(name, json.dumps({
            "look": r.look, "seeds": list(seeds), "method": METHOD, "alpha": confirm.alpha,
            "margin": confirm.margin, "baseline": confirm.baseline, "metric": confirm.metric,
            "decisions": {m: d.as_dict() for m, d in decisions.items()}}))
    for m, d in decisions.items():
        _log.info("confirmation round %d (%d seeds): %s vs %s: %s, difference %.4f (%.4f to %.4f)",
                  r.index, r.look, m, confirm.baseline, d.state, d.mean, d.low, d.high)
    return decisions


def _unselected(arm: str, state: str, *, retries_left: bool) -> MissingTrial:
    """The selection step as a row of the table of what is missing (no seed, no params)."""
    return MissingTrial(slot="selection", arm=arm, seed=-1, params={}, attempts=0, state=state,
                        last_failure=None, log=None, retries_left=retries_left)


def _select(ctx: SweepContext, study: optuna.Study, storage: optuna.storages.BaseStorage,
            devices: int) -> tuple[dict[str, Choice], list[MissingTrial]]:
    """Each arm's choice, recorded once; arms without a COMPLETE tuning trial are missing."""
    spec = ctx.spec
    with study_lock(ctx.storage_url, ctx.study_name, storage):
        known = read_choices(study)
        if known is not None:
            return known, []
        choices, missing = {}, []
        for arm in spec.arms:
            tuned = optuna.load_study(study_name=tune_study(spec.name, arm.name), storage=storage)
            c = select(arm, tuned.get_trials(deepcopy=False), direction=spec.objective.direction,
                       epochs=spec.budget.epochs, devices=devices)
            if c is None:
                missing.append(_unselected(arm.name, "no COMPLETE tuning trial", retries_left=False))
            else:
                choices[arm.name] = c
        if missing:
            return choices, missing
        study.set_user_attr(ProtocolAttr.SELECTION,
                            json.dumps({k: c.as_dict() for k, c in choices.items()}, default=str))
    for c in choices.values():
        _log.info("selected for %s: %s (val %.4f, %d configurations)", c.arm, c.params, c.val, c.configs)
    return choices, []


def _open_parent(ctx: SweepContext, storage: optuna.storages.BaseStorage) -> SweepContext:
    """Create the protocol's parent run first, so every stage finds it by the sweep's name."""
    if ctx.launcher == "dry-run":
        return ctx
    spec = ctx.spec
    assert spec.protocol is not None
    confirm = spec.protocol.confirm
    with study_lock(ctx.storage_url, spec.name, storage):
        client = MlflowClient(ctx.tracking_uri)
        parent = mlflow_parent.open_parent(
            client, mlflow_parent.experiment_id(client, ctx.experiment), sweep=spec.name,
            study=confirm_study(spec.name), storage_redacted=redact(ctx.storage_url),
            spec_file=spec.path, spec_text=spec.text,
            params={"protocol": spec.protocol.kind, "sampler": spec.sampler.type,
                    "pruner": spec.pruner.type, "arms": ",".join(a.name for a in spec.arms),
                    "tuning_trials_per_arm": spec.protocol.n_trials, "tuning_seeds":
                        ",".join(map(str, spec.seeds)), "baseline": confirm.baseline,
                    "confirm_seeds": f"{confirm.min_seeds}..{confirm.max_seeds}",
                    "max_epochs": spec.budget.epochs, "device": spec.resources.device})
        client.set_tag(parent, Tag.PROTOCOL, spec.protocol.kind)
    return dataclasses.replace(ctx, parent_run_id=parent)


def _merge(statuses: Sequence[SweepStatus], extra: Sequence[MissingTrial] = ()) -> SweepStatus:
    counts: Counter[str] = Counter()
    for s in statuses:
        counts.update(s.counts)
    last = statuses[-1] if statuses else None
    return SweepStatus(
        counts=dict(counts), best=last.best if last else None,
        running=[r for s in statuses for r in s.running], arms=last.arms if last else [],
        mean_trial_seconds=last.mean_trial_seconds if last else None,
        missing=[m for s in statuses for m in s.missing] + list(extra))


def _devices(ctx: SweepContext, slots: Sequence[Slot]) -> int:
    if not slots:
        return 1
    return slots[0].nproc if ctx.spec.resources.device == "cuda" else slots[0].cpu_threads


def run_protocol(ctx: SweepContext, slots: list[Slot], *, on_status: StatusFn = None,
                 poll_seconds: float = 2.0, retry_failed: bool = False) -> SweepStatus:
    """Run (or resume) every stage; the status's ``missing`` is what is not done yet."""
    spec = ctx.spec
    assert spec.protocol is not None
    storage = open_storage(ctx.storage_url, heartbeat_interval=int(ctx.heartbeat_interval),
                           grace_period=int(ctx.grace_period), max_retry=spec.budget.max_retry)
    ctx = _open_parent(ctx, storage)
    kw: dict[str, Any] = dict(on_status=on_status, poll_seconds=poll_seconds,
                              retry_failed=retry_failed, finish_parent=False)
    tuned = [run_sweep(_stage(ctx, tune_spec(spec, arm), tune_study(spec.name, arm.name), "tune"),
                       slots, **kw) for arm in spec.arms]
    if ctx.launcher == "dry-run":
        c = spec.protocol.confirm
        _log.info("dry run: the tuning stage only; confirmation then trains %d to %d fresh seeds per arm",
                  c.min_seeds, c.max_seeds)
    if any(s.missing for s in tuned) or ctx.launcher == "dry-run":
        return _merge(tuned)
    cctx = _stage(ctx, spec, confirm_study(spec.name), "confirm")
    study = open_study(cctx, storage)
    choices, unselected = _select(cctx, study, storage, _devices(ctx, slots))
    if unselected:
        return _merge(tuned, unselected)
    confirmed: list[SweepStatus] = []
    while True:
        rounds = read_rounds(study, cctx)
        r = rounds[-1] if rounds else None
        if r is None or r.decisions is not None:
            break  # every comparison stopped
        status = run_sweep(dataclasses.replace(cctx, spec=_round_spec(cctx, choices, r)), slots, **kw)
        confirmed.append(status)
        if status.missing:
            return _merge(tuned + confirmed)
        _decide(cctx, study, storage, r)
    final = protocol_status(cctx, study, choices)
    if ctx.parent_run_id is not None and not final.missing:
        client = MlflowClient(ctx.tracking_uri)
        client.log_text(ctx.parent_run_id, json.dumps(dict(study.user_attrs), indent=2, sort_keys=True),
                        "protocol/decisions.json")
        client.set_terminated(ctx.parent_run_id, status="FINISHED")
    return _merge(tuned + [final])


def protocol_status(cctx: SweepContext, study: optuna.Study, choices: dict[str, Choice]) -> SweepStatus:
    """The confirmation study against every round planned so far (decided or not)."""
    planned: dict[str, PlannedTrial] = {}
    for r in read_rounds(study, cctx):
        planned.update({p.slot: p for p in planned_trials(_round_spec(cctx, choices, r))})
    spec = cctx.spec
    return summarize(study.get_trials(deepcopy=False), spec.objective.direction,
                     planned=list(planned.values()), max_retry=spec.budget.max_retry)


def protocol_sweep_status(ctx: SweepContext) -> SweepStatus | None:
    """What `harness sweep status` shows for a protocol: every stage so far; None before any."""
    spec = ctx.spec
    storage = open_storage(ctx.storage_url)
    statuses = []
    try:
        for arm in spec.arms:
            tuned = optuna.load_study(study_name=tune_study(spec.name, arm.name), storage=storage)
            statuses.append(summarize(tuned.get_trials(deepcopy=False), spec.objective.direction,
                                      planned=planned_trials(tune_spec(spec, arm)),
                                      max_retry=spec.budget.max_retry))
    except KeyError:
        return _merge(statuses) if statuses else None
    if any(s.missing for s in statuses):
        return _merge(statuses)
    cctx = _stage(ctx, spec, confirm_study(spec.name), "confirm")
    try:
        study = optuna.load_study(study_name=cctx.study_name, storage=storage)
    except KeyError:
        study = None
    choices = read_choices(study) if study is not None else None
    if study is None or choices is None:
        return _merge(statuses, [_unselected("*", "not selected yet", retries_left=True)])
    return _merge(statuses + [protocol_status(cctx, study, choices)])
