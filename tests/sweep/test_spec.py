"""Spec validation: every shipped spec loads; each kind of mistake gives one precise line."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.sweep.spec import SpecError, load_spec

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((REPO / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_specs_validate(path: Path) -> None:
    spec = load_spec(path, root=REPO)
    assert spec.arms and spec.seeds


def test_defaults(root, write_spec, base_spec) -> None:
    spec = load_spec(write_spec(base_spec()), root=root)
    assert spec.sampler.type == "grid" and spec.pruner.type == "none"
    assert spec.objective.metric == "val/nme" and spec.objective.direction == "minimize"
    assert spec.seeds == (0, 1) and spec.arm("b").method == "softargmax"


def _arm(**changes) -> list:
    return [{"name": "a", "method": "structured", "config": "cfg/a.py", **changes}]


def _mistakes(base_spec) -> dict:
    return {
        "unknown top key": (base_spec(epochs=3), "spec.yaml: epochs: unknown key"),
        "unknown nested key": (base_spec(budget={"epochs": 2, "trials": 3}), "budget.trials: unknown key"),
        "wrong type": (base_spec(budget={"epochs": "two"}), "budget.epochs: expected int, got str"),
        "bool is not int": (base_spec(seeds=[0, True]), "seeds: expected a non-empty list"),
        "unknown method": (base_spec(arms=_arm(method="softmax")),
                           "arms[0].method: unknown value 'softmax' (known: structured"),
        "missing config file": (base_spec(arms=_arm(config="cfg/nope.py")),
                                "arms[0].config: config file not found: cfg/nope.py"),
        "missing required": (base_spec(arms=[{"name": "a", "config": "cfg/a.py"}]),
                             "arms[0].method: not given, and cfg/a.py sets no known harness_method"),
        "unknown sampler": (base_spec(sampler={"type": "cmaes"}), "sampler.type: unknown value 'cmaes'"),
        "unknown pruner": (base_spec(pruner={"type": "patient"}), "pruner.type: unknown value"),
        "bad range": (base_spec(sampler={"type": "tpe"}, budget={"epochs": 1, "n_trials": 2},
                                arms=_arm(search_space={"x.lr": {"type": "float", "low": 1, "high": 0}})),
                      "arms[0].search_space: x.lr: need low <= high"),
        "bad param type": (base_spec(arms=_arm(search_space={"x.lr": {"type": "loguniform"}})),
                           "arms[0].search_space: x.lr: type must be float, int or categorical"),
        "range under grid": (base_spec(arms=_arm(search_space={"x.lr": {"type": "float", "low": 0.1,
                                                                        "high": 1}})),
                             "arms[0].search_space: x.lr: a grid sampler needs 'choices' or 'values'"),
        "tpe without n_trials": (base_spec(sampler={"type": "tpe"}), "budget.n_trials: required"),
        "duplicate arms": (base_spec(arms=_arm() + _arm()), "arms: arm names must be unique"),
        "override searched": (base_spec(arms=_arm(overrides={"x.lr": 1},
                                                  search_space={"x.lr": {"type": "categorical",
                                                                         "choices": [1, 2]}})),
                              "keys both overridden and searched"),
        "cuda without gpus": (base_spec(resources={"device": "cuda"}), "resources.gpus: device: cuda"),
        "odd gpu groups": (base_spec(resources={"device": "cuda", "gpus": 3, "gpus_per_trial": 2}),
                           "resources.gpus_per_trial: 3 GPUs do not split into trials of 2 GPUs"),
        "zero workers": (base_spec(resources={"workers": 0}), "resources.workers: must be >= 1"),
    }


MISTAKES = _mistakes(lambda **c: c)  # only the case names, for parametrize


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_one_line_error_per_mistake(case, root, write_spec, base_spec) -> None:
    data, expected = _mistakes(base_spec)[case]
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data), root=root)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(root / "spec.yaml") + ": ")
    assert expected in message, message


def test_invalid_yaml_names_line(root) -> None:
    path = root / "bad.yaml"
    path.write_text("name: t\narms: [\n")
    with pytest.raises(SpecError, match=r"bad.yaml: line \d+: invalid YAML"):
        load_spec(path, root=root)


def test_yaml_exponent_without_dot_is_a_number(root, write_spec, base_spec) -> None:
    spec = load_spec(write_spec(base_spec(sampler={"type": "random"}, budget={"epochs": 1, "n_trials": 1},
                                          arms=_arm(search_space={"lr": {"type": "float", "low": "1e-4",
                                                                         "high": "1e-2", "log": True}}))),
                     root=root)
    assert spec.arms[0].search_space[0].distribution.low == pytest.approx(1e-4)


def test_every_mistake_at_once(root, write_spec, base_spec) -> None:
    data = base_spec(epochs=3, budget={"epochs": "two", "trials": 1},
                     arms=_arm(method="softmax") + _arm(name="b", config="cfg/nope.py"),
                     resources={"workers": 0})
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data), root=root)
    problems = info.value.problems
    assert str(info.value).splitlines() == list(problems)
    expected = ["epochs: unknown key", "arms[0].method: unknown value 'softmax'",
                "arms[1].config: config file not found", "budget.epochs: expected int, got str",
                "budget.trials: unknown key", "resources.workers: must be >= 1"]
    assert len(problems) == len(expected), problems
    assert all(line.startswith(str(root / "spec.yaml") + ": ") for line in problems)
    for part in expected:
        assert sum(part in line for line in problems) == 1, (part, problems)


def test_arms_without_a_mistake_are_handed_on(root, write_spec, base_spec) -> None:
    data = base_spec(arms=_arm(method="softmax") + [{"name": "b", "method": "star",
                                                     "config": "cfg/b.py"}])
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(data), root=root)
    assert [(i, arm.name) for i, arm in info.value.arms] == [(1, "b")]


def test_new_keys_are_declared_with_a_plus(root, write_spec, base_spec) -> None:
    spec = load_spec(write_spec(base_spec(arms=_arm(overrides={"+model.head.loss.flag": 1}))),
                     root=root)
    assert spec.arms[0].overrides == {"+model.head.loss.flag": 1}  # hashed as written
    with pytest.raises(SpecError, match=r"arms\[0\]\.overrides\.\+: override keys are"):
        load_spec(write_spec(base_spec(arms=_arm(overrides={"+": 1}))), root=root)


def test_declared_key_searched_and_overridden_clashes(root, write_spec, base_spec) -> None:
    arms = _arm(overrides={"+x.flag": 1},
                search_space={"x.flag": {"type": "categorical", "choices": [1, 2]}})
    with pytest.raises(SpecError, match="keys both overridden and searched"):
        load_spec(write_spec(base_spec(arms=arms)), root=root)
