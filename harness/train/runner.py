"""One training run: one MMEngine Runner, recorded as one MLflow run.

The run is resumable: the same work dir continues from its last checkpoint into the
same MLflow run. Failures (bad input, NaN loss, pruning, any exception, Ctrl-C) close
the MLflow run with a status and the error as a tag; what was logged stays.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import compat
from harness.contracts import ExitCode, Metric, Outcome, Tag, outcome_of_exit
from harness.train.config import PREDICTIONS_FILE, load_config
from harness.train.describe import describe_config
from harness.train.distributed import finish_process_group, init_cpu_process_group, rank_zero_decides
from harness.train.errors import BadRequest
from harness.train.preempt import stop_on_signals
from harness.train.preflight import check_data
from harness.train.request import TrainRequest
from harness.train.result import TrainResult, read_result, reduce_objective, write_result
from harness.train.workdir import hold_work_dir

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mmengine.config import Config
    from mmengine.runner import Runner

    from harness.tracking.run import RunHandle

__all__ = ["run_training", "TrainResult"]

logger = logging.getLogger(__name__)
_REPO_DIR = Path(__file__).resolve().parents[2]


def _write_predictions_csv(npz_path: Path) -> Path:
    from harness.tracking.predictions import write_per_image_csv

    return write_per_image_csv(npz_path, npz_path.with_name("test_per_image.csv"))


def _best_val(client: MlflowClient, run_id: str) -> tuple[float | None, int | None]:
    history = client.get_metric_history(run_id, Metric.VAL_NME)
    if not history:
        return None, None
    best = min(history, key=lambda m: (m.value, m.step))
    return best.value, best.step


def _log_provenance(handle: RunHandle, cfg: Config, request: TrainRequest,
                    files: list[tuple[str, Path, Path]]) -> None:
    from harness.tracking.provenance import file_sha256, git_state, hardware, package_versions

    work = Path(cfg.work_dir)
    prov = work / "provenance"
    prov.mkdir(parents=True, exist_ok=True)
    cfg.dump(str(work / "resolved_config.py"))
    git = git_state(_REPO_DIR)
    (prov / "git_diff.patch").write_text(git.pop("diff") or "")
    (prov / "git.json").write_text(json.dumps(git, indent=2))
    (prov / "packages.json").write_text(json.dumps(package_versions(), indent=2))
    (prov / "hardware.json").write_text(json.dumps(hardware(), indent=2))
    (prov / "request.json").write_text(json.dumps(asdict(request), indent=2, default=str))
    handle.client.log_artifact(handle.run_id, str(work / "resolved_config.py"), "config")
    handle.client.log_artifacts(handle.run_id, str(prov), "provenance")
    dataset = cfg.get("harness_data", {}).get("dataset", "data")
    handle.log_datasets(
        (f"{dataset}/{split}", file_sha256(ann), str(ann), "training" if split == "train" else split)
        for split, ann, _ in files
    )


def run_training(request: TrainRequest, rank: int = 0) -> TrainResult | None:
    """Train, validate every epoch, test, and record everything in MLflow.

    ``rank`` is this process's rank under a distributed launcher: only rank 0 records
    anything in MLflow, and only rank 0 returns a result.

    Raises:
        BadRequest: before training, for a bad config, override or data set.
        TrainingDiverged: on a non-finite loss (the run is marked FAILED).
    """
    if rank != 0:
        return _run(request, rank)
    # Held from before the resume decision (made when the config loads) to the record.
    with hold_work_dir(request.work_dir):
        return _run(request, rank)


def _run(request: TrainRequest, rank: int) -> TrainResult | None:
    compat.apply()
    import harness.mm  # noqa: F401, I001  (registers the project's MMPose modules, right after compat)
    import torch
    from mmengine.runner import Runner

    from harness.mm.preempt import PreemptionHook

    if request.cpu_threads:
        torch.set_num_threads(request.cpu_threads)
    # Deterministic mode also NaN-fills every new tensor, which costs about a fifth of a
    # CPU step here; the kernels stay deterministic without it.
    # A module attribute behind a property of the module's class: torch's stubs do not declare it.
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    cfg = load_config(request)
    files = check_data(cfg)
    if request.launcher != "none":
        init_cpu_process_group()
    if rank != 0:
        # Only rank 0 can tell (from MLflow) that this work dir already finished.
        if not rank_zero_decides(None):
            with stop_on_signals() as stop:
                runner = _build_runner(Runner, cfg, request, PreemptionHook(stop))
                runner.train()
            runner.test()
        finish_process_group()
        return None
    return _train_rank_zero(Runner, cfg, request, files)


def _train_rank_zero(runner_cls: type[Runner], cfg: Config, request: TrainRequest,
                     files: list[tuple[str, Path, Path]]) -> TrainResult:
    """Rank 0 (or the only process), holding the work dir: MLflow run, training, record."""
    from mlflow import MlflowClient

    from harness.mm.preempt import PreemptionHook
    from harness.tracking.hook import MLflowEpochLoggerHook
    from harness.tracking.provenance import provenance_tags
    from harness.tracking.run import open_run
    from harness.tracking.store import StoreUnreachable, check_reachable, default_tracking_uri

    params, tags = describe_config(cfg, seed=request.seed, config_path=request.config)
    tags.update(request.tags)
    if request.description:
        tags[Tag.NOTE] = request.description
    if Tag.ARM in tags:
        params.setdefault("arm", tags[Tag.ARM])
    work_dir = Path(cfg.work_dir)
    tracking_uri = request.tracking_uri or default_tracking_uri()
    try:
        check_reachable(tracking_uri)
    except StoreUnreachable as exc:
        raise BadRequest(str(exc)) from exc
    client = MlflowClient(tracking_uri=tracking_uri)
    run_name = request.run_name or f"{params['method']}-{params['dataset']}-s{request.seed}"
    handle = open_run(
        client, work_dir=work_dir, experiment=request.experiment, run_name=run_name,
        tags=tags, parent_run_id=request.parent_run_id,
    )
    previous = read_result(work_dir)
    if rank_zero_decides(handle.previous_status == "FINISHED" and previous is not None
                         and previous.outcome == Outcome.COMPLETE):
        client.set_terminated(handle.run_id, status="FINISHED")
        logger.info("work dir %s already finished (run %s); nothing to do", work_dir, handle.run_id)
        finish_process_group()
        assert previous is not None  # rank 0's own decision, which needed the record
        return previous
    if not handle.resumed:
        handle.log_params(params)
        _log_provenance(handle, cfg, request, files)
    handle.set_tags({**tags, **provenance_tags(_REPO_DIR)})
    logger.info("MLflow run %s (%s) in %s", handle.run_id, "resumed" if handle.resumed else "new", tracking_uri)
    try:
        hook = MLflowEpochLoggerHook(tracking_uri=tracking_uri, run_id=handle.run_id)
        with stop_on_signals() as stop:  # SIGUSR1/SIGTERM: checkpoint, record, ExitCode.REQUEUE
            runner = _build_runner(runner_cls, cfg, request, hook, PreemptionHook(stop))
            runner.train()
        test_metrics = runner.test()
    except BaseException as exc:
        status = getattr(exc, "mlflow_status", "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:1000]
        code = ExitCode.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else getattr(exc, "exit_code", ExitCode.ERROR)
        outcome = outcome_of_exit(code)
        # The record first: a kill between the two leaves the outcome known, and the run
        # RUNNING is what the sweep's recovery closes anyway.
        write_result(work_dir, TrainResult(
            outcome=outcome, run_id=handle.run_id, trial_id=request.trial_id,
            trial_number=request.trial_number, objective=_objective(client, handle.run_id, request)
            if outcome == Outcome.PRUNED else None,
            objective_metric=request.objective.metric, error=error))
        handle.set_tags({Tag.OUTCOME: outcome.value})
        handle.finish(status, error=error)
        raise
    result = _record_results(handle, work_dir, request, test_metrics)
    handle.set_tags({Tag.OUTCOME: Outcome.COMPLETE.value})
    handle.finish("FINISHED")
    finish_process_group()
    return result


def _objective(client: MlflowClient, run_id: str, request: TrainRequest) -> float | None:
    history = client.get_metric_history(run_id, request.objective.metric)
    return reduce_objective(((m.step, m.value) for m in history), request.objective)


def _build_runner(runner_cls: type[Runner], cfg: Config, request: TrainRequest, *hooks: object) -> Runner:
    runner = runner_cls.from_cfg(cfg)
    for hook in (*hooks, *(dict(h) for h in request.extra_hooks)):
        runner.register_hook(hook)
    return runner


def _record_results(handle: RunHandle, work_dir: Path, request: TrainRequest,
                    test_metrics: dict[str, Any] | None) -> TrainResult:
    """Artifacts and summary metrics of a finished run; also written to RESULT_FILE."""
    client = handle.client
    predictions = work_dir / PREDICTIONS_FILE
    if predictions.exists():
        client.log_artifact(handle.run_id, str(predictions), "predictions")
        client.log_artifact(handle.run_id, str(_write_predictions_csv(predictions)), "predictions")
    if request.save_best_checkpoint:
        for ckpt in sorted(work_dir.glob("best_*.pth")):
            client.log_artifact(handle.run_id, str(ckpt), "checkpoints")
    best_nme, best_epoch = _best_val(client, handle.run_id)
    if best_nme is not None and best_epoch is not None:  # both or neither
        client.log_metric(handle.run_id, Metric.BEST_VAL_NME, best_nme, step=best_epoch)
        client.log_metric(handle.run_id, Metric.BEST_EPOCH, best_epoch, step=best_epoch)
    from harness.tracking.models import log_trained_models  # best and last checkpoints as LoggedModels

    log_trained_models(client, handle.run_id, work_dir)
    latest = client.get_run(handle.run_id).data.metrics
    val_last = {k.split("/", 1)[1]: v for k, v in latest.items() if k.startswith("val/")}
    result = TrainResult(
        outcome=Outcome.COMPLETE, run_id=handle.run_id, trial_id=request.trial_id,
        trial_number=request.trial_number,
        objective=_objective(client, handle.run_id, request),
        objective_metric=request.objective.metric,
        test={k.split("/")[-1]: float(v) for k, v in (test_metrics or {}).items() if isinstance(v, (int, float))},
        val=val_last, best_val_nme=best_nme, best_epoch=best_epoch,
    )
    write_result(work_dir, result)
    return result
