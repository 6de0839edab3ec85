"""`harness evaluate`: score a checkpoint on a split of any prepared or synthetic set.

The model's resolved config runs MMEngine's own test loop (:mod:`harness.evaluate.config`)
with the training metric, so scoring a run on its own test split gives exactly the run's
``test/*`` metrics. Everything that can be wrong (source, files, split, scheme, weights
against config) is checked before the MLflow run opens; the run then ends FINISHED or
FAILED, never RUNNING.
"""
from __future__ import annotations

import logging
import shlex
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mlflow import MlflowClient
from mmengine.config import Config

from harness.contracts import Tag
from harness.evaluate.arch import ARCHS, arch_config, default_leaf
from harness.evaluate.config import EVAL_PREDICTIONS, EvalConfig, eval_config, load_model_config
from harness.evaluate.data import EvalSplit, open_split
from harness.evaluate.record import EvalRecord, open_eval_run
from harness.evaluate.source import ModelSource, resolve_source
from harness.evaluate.weights import load_weights
from harness.train.errors import BadRequest

__all__ = ["EvalRequest", "EvalResult", "evaluate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalRequest:
    """One evaluation.

    Attributes:
        target: a training run id or ``models:/<model_id>``; None with ``checkpoint``/``config``.
        data: a set's directory (``card.json``, ``annotations/<split>.json``, ``images/``).
        split: the split to score.
        out: where the eval config, predictions and logs go.
        which: "best" or "last" checkpoint of a run (ignored for a model id or a file pair).
        flip_test: force flip test on or off; None keeps the config's setting.
        tracking_uri: the MLflow store of the source run and of the evaluation run.
        experiment: the evaluation run's experiment; None: the source run's (else "harness-eval").
        layout: the checkpoint's state-dict layout (:data:`harness.evaluate.weights.LAYOUTS`).
        arch: a released checkpoint's architecture (:data:`harness.evaluate.arch.ARCHS`): its
            layout and conventions; ``config`` then defaults to the set's hourglass leaf.
        threads: torch CPU threads (None: torch's default).
    """

    target: str | None
    data: Path
    split: str = "test"
    out: Path = Path("work_dirs/evaluate")
    checkpoint: str | None = None
    config: str | None = None
    which: str = "best"
    flip_test: bool | None = None
    tracking_uri: str = ""
    experiment: str | None = None
    layout: str = "mmengine"
    arch: str | None = None
    threads: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["harness", *sys.argv[1:]]))


@dataclass(frozen=True)
class EvalResult:
    """Scores (``nme`` in percent, ``fr`` percent, ``auc`` 0..1, ``nme_<subset>``) and where they went."""

    scores: dict[str, float]
    run_id: str
    source: ModelSource
    data: EvalSplit
    config: EvalConfig
    predictions: Path
    per_image_csv: Path
    num_images: int
    own_test: dict[str, float] = field(default_factory=dict)

    @property
    def matches_own_test(self) -> bool | None:
        """Whether the scores equal the training run's ``test/*`` exactly (None: not its own test set)."""
        if not self.own_test:
            return None
        return all(self.scores.get(k) == v for k, v in self.own_test.items())


def _own_test_set(source: ModelSource, cfg_test_ann: Path | None, data: EvalSplit) -> bool:
    """Whether ``data`` is the split the run was tested on (same annotation file content)."""
    if source.test_digest:
        return data.digest.startswith(source.test_digest)
    if cfg_test_ann is not None and cfg_test_ann.is_file():
        from harness.tracking.provenance import file_sha256

        return file_sha256(cfg_test_ann) == data.digest
    return False


def _config_test_ann(cfg: Config) -> Path | None:
    dataset = cfg.test_dataloader.dataset
    root = dataset.get("data_root")
    return Path(root) / dataset.ann_file if root else None


def _params(source: ModelSource, ec: EvalConfig, data: EvalSplit, num_images: int, threads: int) -> dict[str, str]:
    from harness.train.describe import decoder_name

    evaluator = ec.cfg.test_evaluator
    return {
        "method": source.run_params.get("method", str(ec.cfg.get("harness_method", "unknown"))),
        "decoder": decoder_name(ec.cfg.model.head), "eval.normalizer": str(evaluator.normalizer),
        "eval.threshold": str(evaluator.threshold), "flip_test": str(ec.flip_test), "split": data.split,
        "data_dir": str(data.root), "n_images": str(num_images), "checkpoint": source.checkpoint.name,
        "checkpoint_which": source.which, "model_scheme": ec.model_scheme, "torch_threads": str(threads),
        "trained_on": source.run_tags.get(Tag.DATASET, str(ec.cfg.get("harness_data", {}).get("dataset", "unknown"))),
    }


def evaluate(request: EvalRequest) -> EvalResult:
    """Check everything, then test the checkpoint on the split and record one evaluation run.

    Raises:
        BadRequest: before any MLflow run is opened, one line naming the file and the problem.
    """
    from harness import compat

    compat.apply()
    import harness.mm  # noqa: I001  (the project's MMPose modules, right after compat)
    import harness.evaluate.metric  # noqa: F401  (registers MappedFaceLandmarkMetric)
    import torch
    from mmengine.runner import Runner

    from harness.tracking.run import open_client_for_reading
    from harness.tracking.store import default_tracking_uri

    tracking_uri = request.tracking_uri or default_tracking_uri()
    out = Path(request.out).resolve()
    tag = uuid.uuid4().hex[:8]
    work_dir = out / f"eval-{tag}"
    data = open_split(request.data, request.split)  # before any download
    config = request.config
    if request.arch and config is None and request.checkpoint:
        config = str(default_leaf(request.arch, data))
    source = resolve_source(request.target, checkpoint=request.checkpoint, config=config,
                            which=request.which, tracking_uri=tracking_uri, download_to=work_dir / "model")
    cfg = load_model_config(source.config)
    if request.arch:
        cfg = arch_config(cfg, request.arch, str(source.config), data)
    own = _own_test_set(source, _config_test_ann(cfg), data)
    ec = eval_config(cfg, str(source.config), data, work_dir, flip_test=request.flip_test, own_test_set=own,
                     name=f"eval-{tag}")
    threads = request.threads or source.threads
    if threads:
        # The training's count by default: CPU kernels sum in another order per thread count,
        # and own-split scores are to equal the run's test metrics exactly.
        torch.set_num_threads(threads)
    runner = Runner.from_cfg(ec.cfg)
    layout = ARCHS[request.arch] if request.arch else request.layout
    load_weights(getattr(runner.model, "module", runner.model), source.checkpoint, layout=layout,
                 against=str(source.config))
    num_images = len(runner.test_dataloader.dataset)
    subset = f" (the first {ec.indices}, the subset the run was tested on)" if ec.indices else ""
    log.info("evaluating %s on %s: %d images%s%s", source.label, data.label, num_images, subset,
             f", predictions mapped {ec.model_scheme}->{ec.data_scheme}" if ec.mapped else "")
    try:
        client = open_client_for_reading(tracking_uri) if request.target else _client(tracking_uri)
    except (ValueError, ConnectionError) as exc:
        raise BadRequest(str(exc)) from exc
    params = _params(source, ec, data, num_images, torch.get_num_threads())
    tags = {Tag.TRAINED_ON: params["trained_on"],
            Tag.SCHEME_MAP: f"{ec.model_scheme}->{ec.data_scheme}" if ec.mapped else "none",
            Tag.CONFIG: str(source.config), Tag.COMMAND: request.command}
    record = open_eval_run(client, experiment=request.experiment, source=source, data=data,
                           params=params, tags=tags)
    try:
        metrics = runner.test()
        scores = {k.split("/")[-1]: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
        record.log_scores(scores)
        predictions, csv = _log_artifacts(record, ec, work_dir)
    except BaseException as exc:
        record.finish("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED",
                      error=f"{type(exc).__name__}: {exc}".splitlines()[0][:1000])
        raise
    record.finish("FINISHED")
    # The training run's test scores are the last checkpoint's, with the config's flip setting.
    comparable = own and "last" in source.which.split(",") and request.flip_test in (None, ec.flip_test)
    own_test = {k.split("/", 1)[1]: v for k, v in source.run_metrics.items() if k.startswith("test/")}
    return EvalResult(scores, record.run_id, source, data, ec, predictions, csv, num_images,
                      own_test if comparable else {})


def _client(tracking_uri: str) -> MlflowClient:
    """A client of the evaluation's store, created when new (a file pair has no source store)."""
    from harness.tracking.store import check_reachable

    check_reachable(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri)


def _log_artifacts(record: EvalRecord, ec: EvalConfig, work_dir: Path) -> tuple[Path, Path]:
    from harness.tracking.predictions import write_per_image_csv

    config_file = work_dir / "eval_config.py"
    ec.cfg.dump(str(config_file))
    predictions = work_dir / EVAL_PREDICTIONS
    csv = write_per_image_csv(predictions, predictions.with_name("eval_per_image.csv"))
    record.log_artifact(config_file, "config")
    record.log_artifact(predictions, "predictions")
    record.log_artifact(csv, "predictions")
    return predictions, csv
