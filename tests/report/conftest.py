"""A real MLflow SQLite store with known runs, built once per test session.

Values are chosen so every expected number in the tests can be worked out by hand
(see the comments in test_generate.py). Experiments:
  main       - sweep "demo": parent run + 6 finished children (star, structured x seeds 0-2)
               + 1 failed and 1 pruned child; predictions artifacts; WFLW subsets; an Optuna study.
  single     - one seed per method (no CI possible).
  nometrics  - training runs with tags but no metrics.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

SEEDS = (0, 1, 2)
# val/nme per epoch (percent), per method and seed.
VAL = {
    "star": {0: [10, 8, 6, 5, 4.0], 1: [10, 8.5, 6.5, 5, 4.2], 2: [11, 9, 7, 5.5, 4.4]},
    "structured": {0: [8, 5, 4.3, 4.0, 3.9], 1: [7, 4.5, 4.2, 4.0, 3.8], 2: [6, 4.0, 3.9, 3.85, 3.8]},
}
SECONDS_PER_EPOCH = {"star": 10.0, "structured": 11.0}
TEST = {  # test/nme, test/fr, test/auc per seed
    "star": {"nme": [4.1, 4.3, 4.5], "fr": [2.0, 3.0, 4.0], "auc": [0.5, 0.6, 0.7]},
    "structured": {"nme": [3.9, 4.05, 4.2], "fr": [1.0, 1.0, 1.0], "auc": [0.6, 0.6, 0.6]},
}
PER_IMAGE = {"star": [0.04, 0.05, 0.06, 0.07], "structured": [0.03, 0.045, 0.04, 0.072]}  # fractions
SUBSET_NME = {"star": 7.0, "structured": 6.5}
K = 5
SUBSETS = ("pose", "expression", "illumination", "makeup", "occlusion", "blur")


def _npz(path: Path, nme: list[float]) -> Path:
    gt = np.stack([np.stack([np.arange(K) * 3.0 + 10, np.array([5, 5, 9, 12, 12.0])], -1)] * len(nme))
    normalizer = np.full(len(nme), 10.0)
    pred = gt.copy()
    pred[..., 0] += np.asarray(nme)[:, None] * normalizer[:, None]  # every point off by nme * d
    np.savez(path, image_ids=np.array([f"img{i}" for i in range(len(nme))]), pred=pred, gt=gt,
             normalizer=normalizer, per_image_nme=np.asarray(nme))
    return path


def _tags(method: str, seed: int, sweep: str | None, parent: str | None) -> dict[str, str]:
    tags = {"harness.kind": "train", "harness.method": method, "harness.dataset": "synth-wflw",
            "harness.dataset_kind": "synthetic", "harness.scheme": "wflw", "harness.seed": str(seed),
            "harness.config": f"mm_configs/{method}.py", "mlflow.source.git.commit": "abc123",
            "harness.git_commit": "abc123"}
    if sweep:
        tags |= {"harness.sweep": sweep, "harness.arm": method, "optuna.study": sweep}
    if parent:
        tags["mlflow.parentRunId"] = parent
    return tags


def _provenance(client, rid: str, seed: int, tmp: Path) -> None:
    """What the trainer logs: package versions and hardware as artifacts (seed 2 on another CPU)."""
    prov = tmp / f"provenance-{rid}"
    prov.mkdir()
    (prov / "packages.json").write_text(json.dumps({"torch": "2.13.0", "python": "3.11.9"}))
    (prov / "hardware.json").write_text(json.dumps({"cpu": "cpu-a" if seed < 2 else "cpu-b", "gpu_count": "0"}))
    client.log_artifacts(rid, str(prov), "provenance")


def _train_run(client, exp_id, method, seed, tmp: Path, sweep=None, parent=None, metrics=True, index=None):
    run = client.create_run(exp_id, run_name=f"{method}-s{seed}", tags=_tags(method, seed, sweep, parent))
    rid = run.info.run_id
    _provenance(client, rid, seed, tmp)
    params = {"method": method, "arm": method, "seed": str(seed), "dataset": "synth-wflw", "decoder": "argmax",
              "eval.normalizer": "inter-ocular", "eval.threshold": "0.1", "flip_test": "False", "lr": "0.002"}
    client.log_batch(rid, params=[Param(k, v) for k, v in params.items()])
    if metrics:
        i = SEEDS.index(seed) if index is None else index
        ms = []
        for epoch, v in enumerate(VAL[method][seed], start=1):
            ms += [Metric("val/nme", v, 0, epoch), Metric("train/loss", v / 10, 0, epoch),
                   Metric("time/elapsed_seconds", SECONDS_PER_EPOCH[method] * epoch, 0, epoch)]
        last = len(VAL[method][seed])
        ms += [Metric(f"test/{k}", TEST[method][k][i], 0, last) for k in ("nme", "fr", "auc")]
        ms += [Metric(f"test/nme_{s}", SUBSET_NME[method], 0, last) for s in SUBSETS]
        client.log_batch(rid, metrics=ms)
        client.log_artifact(rid, str(_npz(tmp / "test_predictions.npz", PER_IMAGE[method])), "predictions")
    client.set_terminated(rid, "FINISHED")
    return rid


def _optuna_study(storage: str, name: str) -> None:
    """Five fixed trials (one pruned) added directly, so the study needs no sampler."""
    import optuna
    from optuna.distributions import FloatDistribution

    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    dists = {"lr": FloatDistribution(1e-4, 1e-1, log=True), "eps": FloatDistribution(0.1, 3.0)}
    for i, (lr, eps) in enumerate([(1e-3, 0.5), (2e-3, 1.0), (5e-3, 2.0), (1e-2, 0.7), (3e-3, 1.5)]):
        curve = {step: 10 - step - 100 * lr + eps for step in (1, 2, 3)}
        state = optuna.trial.TrialState.PRUNED if i == 3 else optuna.trial.TrialState.COMPLETE
        study.add_trial(optuna.trial.create_trial(
            params={"lr": lr, "eps": eps}, distributions=dists, intermediate_values=curve,
            value=None if i == 3 else curve[3], state=state))


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> dict:
    """Build the store; returns its tracking URI, paths and the parent run id."""
    root = tmp_path_factory.mktemp("mlstore")
    uri = f"sqlite:///{root / 'mlruns.db'}"
    client = MlflowClient(tracking_uri=uri)
    art = (root / "artifacts").as_uri()
    main = client.create_experiment("main", artifact_location=f"{art}/main")
    storage = f"sqlite:///{root / 'optuna.db'}"
    _optuna_study(storage, "demo")
    parent = client.create_run(main, run_name="sweep-demo", tags={"harness.kind": "sweep", "harness.sweep": "demo"})
    pid = parent.info.run_id
    client.log_batch(pid, params=[Param("optuna.storage", storage), Param("optuna.study", "demo")])
    for method in ("star", "structured"):
        for seed in SEEDS:
            _train_run(client, main, method, seed, root, sweep="demo", parent=pid)
    failed = client.create_run(main, run_name="structured-s3", tags=_tags("structured", 3, "demo", pid)
                               | {"harness.failure": "\x1b[1mdiverged\x1b[0m: NaN loss at epoch 2"})
    client.set_terminated(failed.info.run_id, "FAILED")
    pruned = client.create_run(main, run_name="star-s4", tags=_tags("star", 4, "demo", pid)
                               | {"harness.error": "TrialPruned: trial 7 pruned at epoch 2",
                                  "harness.outcome": "pruned"})
    client.log_batch(pruned.info.run_id, metrics=[Metric("val/nme", v, 0, e) for e, v in ((1, 12.0), (2, 11.0))])
    client.set_terminated(pruned.info.run_id, "FAILED")
    client.set_terminated(pid, "FINISHED")

    single = client.create_experiment("single", artifact_location=f"{art}/single")
    for method in ("star", "structured"):
        _train_run(client, single, method, 0, root)
    nometrics = client.create_experiment("nometrics", artifact_location=f"{art}/nometrics")
    for seed in SEEDS:
        _train_run(client, nometrics, "star", seed, root, metrics=False)
    return {"uri": uri, "root": root, "parent": pid, "optuna": storage}


@pytest.fixture(scope="session")
def sweep_report(store, tmp_path_factory) -> dict:
    """`harness report generate --sweep SPEC` on the main experiment, run once."""
    from harness.cli.main import main

    root = tmp_path_factory.mktemp("report")
    spec = root / "demo.yaml"
    # Extra keys stand for the rest of a real spec, which the report must ignore.
    spec.write_text(f"name: demo\nmlflow:\n  tracking_uri: {store['uri']}\n  experiment: main\n"
                    "arms:\n  - {name: star}\nsearch: {n_trials: 5}\n")
    out = root / "out"
    rc = main(["report", "generate", "--sweep", str(spec), "--out", str(out)])
    return {"rc": rc, "out": out, "parent": store["parent"]}
