"""An arm against its config: unknown keys, wrong constructor arguments, all listed at once."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.sweep.spec import load_spec
from harness.sweep.validate import spec_problems

REPO = Path(__file__).resolve().parents[2]
STRUCTURED = str(REPO / "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py")
SOFTARGMAX = str(REPO / "mm_configs/synth300w/softargmax_hrnet-tiny_1xb32-12e_synth300w-128x128.py")


def _spec(tmp_path: Path, *arms: dict, **top) -> Path:
    data = {"name": "t", "seeds": [0], "budget": {"epochs": 1},
            "work_dir": str(tmp_path / "work"),
            "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}, **top,
            "arms": [{"name": f"a{i}", "method": "structured", "config": STRUCTURED, **arm}
                     for i, arm in enumerate(arms)]}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(path: Path) -> list[str]:
    return spec_problems(load_spec(path, root=path.parent), path.parent)


@pytest.mark.parametrize("path", sorted((REPO / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_specs_match_their_configs(path: Path) -> None:
    assert spec_problems(load_spec(path, root=REPO), REPO) == []


METHOD_CONFIGS = sorted(p for p in REPO.glob("mm_configs/*/*.py") if p.parent.name != "_base_")


@pytest.mark.parametrize("config", METHOD_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_config_loads_and_builds_its_model(config: Path) -> None:
    from mmengine.config import Config

    from harness.train.preflight_model import model_problems

    assert model_problems(Config.fromfile(str(config))) == []


def test_unknown_key_is_one_line_with_a_close_match(tmp_path) -> None:
    path = _spec(tmp_path, {"overrides": {"model.head.loss.epz": 1.0}})
    assert _problems(path) == [
        (f"{path}: arms[0] (a0): overrides.model.head.loss.epz: unknown config key "
         "(did you mean 'eps'? a new key is declared as '+model.head.loss.epz')")]


def test_declared_new_key_still_reaches_the_constructor(tmp_path) -> None:
    path = _spec(tmp_path, {"overrides": {"+model.head.loss.epz": 1.0,
                                          "+train_dataloader.dataset.indices": 8}})
    assert _problems(path) == [
        (f"{path}: arms[0] (a0): overrides.+model.head.loss.epz: StructuredHeatmapLoss has no "
         "argument 'epz' (did you mean 'eps'?)")]


def test_plus_on_an_existing_key_is_a_mistake(tmp_path) -> None:
    [line] = _problems(_spec(tmp_path, {"overrides": {"+model.head.loss.eps": 1.0}}))
    assert "overrides.+model.head.loss.eps: 'model.head.loss.eps' already exists" in line


def test_wrong_kind_of_argument_names_the_key(tmp_path) -> None:
    [line] = _problems(_spec(tmp_path, {"overrides": {"model.head.loss.alpha": "x"}}))
    assert line.endswith("arms[0] (a0): overrides.model.head.loss.alpha: "
                         "StructuredHeatmapLoss expects float, got str 'x'")


def test_constructor_error_names_the_part(tmp_path) -> None:
    [line] = _problems(_spec(tmp_path, {"overrides": {"model.head.loss.target": "image_aware",
                                                      "model.head.loss.sigma": None}}))
    assert ("arms[0] (a0): model.head.loss: StructuredHeatmapLoss cannot be built: ValueError: "
            "target='image_aware' needs sigma > 0") in line


def test_unregistered_type_names_its_key(tmp_path) -> None:
    [line] = _problems(_spec(tmp_path, {"overrides": {"model.head.loss.type": "StructuredHeatmapLos"}}))
    assert ("model.head.loss.type: unknown type 'StructuredHeatmapLos' "
            "(did you mean 'StructuredHeatmapLoss'?)") in line


def test_search_space_keys_and_every_value_are_checked(tmp_path) -> None:
    space = {"model.head.loss.epz": {"type": "categorical", "choices": [0.5, 1.0]},
             "model.head.loss.alpha": {"type": "categorical", "choices": [1.0, "big"]}}
    problems = _problems(_spec(tmp_path, {"search_space": space}))
    assert len(problems) == 2, problems
    assert "search_space.model.head.loss.epz: unknown config key (did you mean 'eps'?" in problems[0]
    assert problems[1].endswith("search_space.model.head.loss.alpha: value 'big': "
                                "StructuredHeatmapLoss expects float, got str 'big'")


def test_method_must_be_the_configs(tmp_path) -> None:
    [line] = _problems(_spec(tmp_path, {"method": "softargmax"}))
    assert f"arms[0] (a0): method: 'softargmax', but {STRUCTURED} trains 'structured'" in line


def _harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def _errors(proc: subprocess.CompletedProcess) -> list[str]:
    return [line.split(" ERROR harness.sweep: ", 1)[1] for line in proc.stderr.splitlines()
            if " ERROR harness.sweep: " in line]


def test_cli_validate_lists_every_mistake_once(tmp_path) -> None:
    """A YAML mistake, an unknown key in one arm and a bad argument in another: 3 lines."""
    path = _spec(tmp_path, {"overrides": {"model.head.loss.epz": 1.0}},
                 {"method": "softargmax", "config": SOFTARGMAX,
                  "overrides": {"model.head.beta": "x"}},
                 sampler={"type": "cmaes"})
    proc = _harness("sweep", "validate", str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = _errors(proc)
    assert len(errors) == 3, proc.stderr[-3000:]
    assert errors[0].startswith(f"{path}: sampler.type: unknown value 'cmaes'")
    assert errors[1].startswith(f"{path}: arms[0] (a0): overrides.model.head.loss.epz: unknown config key")
    assert errors[2] == (f"{path}: arms[1] (a1): overrides.model.head.beta: SoftArgmaxHead "
                         "expects float, got str 'x'")
    assert "ok" not in proc.stdout


def test_cli_run_rejects_before_creating_anything(tmp_path) -> None:
    path = _spec(tmp_path, {"overrides": {"model.head.loss.epz": 1.0}})
    proc = _harness("sweep", "run", str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(_errors(proc)) == 1 and "model.head.loss.epz" in _errors(proc)[0]
    assert not (tmp_path / "work").exists() and not (tmp_path / "mlflow.db").exists()
