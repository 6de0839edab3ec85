"""`harness evaluate` against a real MLflow store, on a run trained in this session."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from mlflow import MlflowClient

from harness.cli.main import main
from harness.evaluate import EvalRequest, evaluate
from harness.tracking.models import find_run_model

CONFIG_68 = (Path(__file__).resolve().parents[2]
             / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py")

pytestmark = pytest.mark.slow


def _runs(client: MlflowClient, kind: str) -> list:
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, f"tags.`harness.kind` = '{kind}'")


def test_own_test_split_equals_the_training_runs_test_metrics(trained, tmp_path):
    client = MlflowClient(trained.tracking_uri)
    before = len(_runs(client, "eval"))
    result = evaluate(EvalRequest(target=trained.run_id, data=trained.data, split="test", which="last",
                                  out=tmp_path, tracking_uri=trained.tracking_uri))
    assert result.scores == trained.test  # exactly: same weights, pipeline, metric and thread count
    assert result.matches_own_test is True and not result.config.mapped
    evals = _runs(client, "eval")
    assert len(evals) == before + 1
    run = client.get_run(result.run_id)
    tags = run.data.tags
    assert run.info.status == "FINISHED"
    assert tags["harness.source_run_id"] == trained.run_id == tags["mlflow.parentRunId"]
    assert tags["harness.dataset"] == "synth-wflw" and tags["harness.eval_split"] == "test"
    assert tags["harness.source_model_id"] == result.source.model_id
    assert run.data.metrics["eval/nme"] == trained.test["nme"]
    (data_input,) = run.inputs.dataset_inputs
    assert data_input.dataset.name == "synth-wflw/test" and result.data.digest.startswith(data_input.dataset.digest)
    assert [m.model_id for m in run.inputs.model_inputs] == [result.source.model_id]
    artifacts = {f.path for f in client.list_artifacts(result.run_id, "predictions")}
    assert artifacts == {"predictions/eval_predictions.npz", "predictions/eval_per_image.csv"}
    assert result.per_image_csv.read_text().splitlines()[0] == "image_id,nme_percent"


def test_a_mapped_other_scheme_set_gets_its_own_run_and_leaves_training_alone(trained, converted_300w, tmp_path):
    client = MlflowClient(trained.tracking_uri)
    train_before = client.get_run(trained.run_id).data.metrics
    result = evaluate(EvalRequest(target=trained.run_id, data=converted_300w, split="test_full", out=tmp_path,
                                  tracking_uri=trained.tracking_uri))
    assert result.config.mapped and (result.config.model_scheme, result.config.data_scheme) == ("wflw", "300w")
    assert result.num_images == 3 and result.matches_own_test is None
    tags = client.get_run(result.run_id).data.tags
    assert tags["harness.scheme_map"] == "wflw->300w" and tags["harness.trained_on"] == "synth-wflw"
    assert tags["harness.dataset"] == "300w" and tags["harness.dataset_kind"] == "real"
    assert client.get_run(trained.run_id).data.metrics == train_before
    model = client.get_logged_model(result.source.model_id)
    assert {(m.key, m.dataset_name) for m in model.metrics} >= {("eval/nme", "300w/test_full")}


def test_a_checkpoint_and_config_pair_needs_no_mlflow_record(trained, tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = evaluate(EvalRequest(target=None, checkpoint=str(trained.last_checkpoint), config=str(trained.config),
                                  data=trained.data, out=tmp_path, tracking_uri=uri, threads=1))
    assert result.scores == trained.test
    tags = MlflowClient(uri).get_run(result.run_id).data.tags
    assert tags["harness.kind"] == "eval" and "harness.source_run_id" not in tags


def test_a_logged_model_id_finds_its_checkpoint(trained, tmp_path):
    client = MlflowClient(trained.tracking_uri)
    model = find_run_model(client, trained.run_id, "last")
    assert model is not None and model.source_run_id == trained.run_id
    assert {f.path for f in client.list_logged_model_artifacts(model.model_id)} == {
        model.tags["harness.checkpoint_file"], "resolved_config.py"}
    # The metrics it reached are linked to it, and linking added no second point to the run's history.
    assert {m.key for m in model.metrics} >= {"test/nme"}
    for key in ("val/nme", "test/nme"):
        steps = [m.step for m in client.get_metric_history(trained.run_id, key)]
        assert len(steps) == len(set(steps)), (key, steps)
    result = evaluate(EvalRequest(target=f"models:/{model.model_id}", data=trained.data, out=tmp_path,
                                  tracking_uri=trained.tracking_uri))
    assert result.source.run_id == trained.run_id and result.scores == trained.test


def _untrained_68_checkpoint(path: Path) -> Path:
    import torch

    from harness import compat

    compat.apply()
    import harness.mm  # noqa: F401, I001  (right after compat)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    torch.save({"state_dict": MODELS.build(Config.fromfile(str(CONFIG_68)).model).state_dict()}, path)
    return path


@pytest.mark.parametrize("case", ["missing checkpoint", "config of another model", "unknown split", "no mapping"])
def test_bad_input_is_one_line_and_leaves_no_run(case, trained, tiny_sets, tmp_path, capsys):
    k68 = _untrained_68_checkpoint(tmp_path / "k68.pth") if case == "no mapping" else None
    args = {
        "missing checkpoint": ["--checkpoint", str(tmp_path / "nope.pth"), "--config", str(trained.config),
                               "--data", str(trained.data)],
        "config of another model": ["--checkpoint", str(trained.last_checkpoint), "--config", str(CONFIG_68),
                                    "--data", str(tiny_sets["300w"])],
        "unknown split": [trained.run_id, "--data", str(trained.data), "--split", "tset"],
        "no mapping": ["--checkpoint", str(k68), "--config", str(CONFIG_68), "--data", str(trained.data)],
    }[case]
    expected = {"missing checkpoint": r"nope.pth: checkpoint file not found",
                "config of another model": r"epoch_2.pth: does not fit the model of .*: 2 of another shape .*"
                                           r"checkpoint \(98,.*model \(68,",
                "unknown split": r"synth-wflw: no split 'tset' \(splits: test, train, val\)",
                "no mapping": r"a 300w model \(68 points\) cannot be scored on .*synth-wflw \(wflw, 98 points\): "
                              r"no mapping from 300w to wflw"}[case]
    client = MlflowClient(trained.tracking_uri)
    before = len(_runs(client, "eval"))
    code = main(["evaluate", *args, "--tracking-uri", trained.tracking_uri, "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and re.search(expected, err[0]), err
    assert len(_runs(client, "eval")) == before
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert not client.search_runs(experiments, "attributes.status = 'RUNNING'")
