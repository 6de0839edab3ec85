"""Search spaces -> grid points / suggestions, and deterministic trial identity."""
from __future__ import annotations

import optuna

from harness.sweep.identity import resolved_overrides, trial_id, trial_work_dir
from harness.sweep.space import grid_points, parse_search_space, suggest


def test_grid_is_the_product_of_value_lists() -> None:
    space = parse_search_space({
        "m.loss.target": {"type": "categorical", "choices": ["nearest", "gaussian"]},
        "m.loss.eps": {"type": "float", "low": 0.1, "high": 2.0, "values": [0.5, 1.0]},
        "m.k": {"type": "int", "low": 1, "high": 3, "step": 2},
    })
    points = grid_points(space)
    assert len(points) == 2 * 2 * 2
    assert {"m.loss.target": "gaussian", "m.loss.eps": 1.0, "m.k": 3} in points


def test_suggest_uses_every_distribution_and_respects_enqueued_values() -> None:
    space = parse_search_space({
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "n": {"type": "int", "low": 1, "high": 4},
        "t": {"type": "categorical", "choices": ["a", "b"]},
    })
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"lr": 0.01, "n": 2, "t": "b"})
    assert suggest(study.ask(), space) == {"lr": 0.01, "n": 2, "t": "b"}
    free = suggest(study.ask(), space)
    assert 1e-4 <= free["lr"] <= 1e-1 and free["n"] in range(1, 5) and free["t"] in "ab"


def test_trial_id_is_deterministic_and_sensitive() -> None:
    o = resolved_overrides({"a.b": 1}, {"lr": 0.1}, epochs=3)
    assert o == {"a.b": 1, "lr": 0.1, "train_cfg.max_epochs": 3}
    tid = trial_id("cfg/a.py", o, 0)
    assert tid == trial_id("cfg/a.py", dict(reversed(list(o.items()))), 0)
    assert len(tid) == 16
    assert tid != trial_id("cfg/a.py", o, 1)
    assert tid != trial_id("cfg/b.py", o, 0)
    assert tid != trial_id("cfg/a.py", {**o, "lr": 0.1000001}, 0)
    assert trial_work_dir("/w", "arm", tid).as_posix() == f"/w/trials/arm-{tid}"
