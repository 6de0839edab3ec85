"""Table helpers on tiny literal frames: configuration selection and baseline choice."""
import pandas as pd
import pytest

from harness.report import tables


def _runs(rows):
    return pd.DataFrame(rows, columns=["run_id", "dataset", "label", "method", "seed", "config", "start_time"])


def _history(finals):
    return pd.DataFrame([{"run_id": r, "key": "val/nme", "step": 1, "value": v} for r, v in finals.items()])


def test_select_configs_keeps_the_best_validation_config():
    runs = _runs([
        ("a0", "d", "structured", "structured", "0", "eps=1", 1), ("a1", "d", "structured", "structured", "1", "eps=1", 2),
        ("b0", "d", "structured", "structured", "0", "eps=2", 3), ("b1", "d", "structured", "structured", "1", "eps=2", 4),
        ("s0", "d", "star", "star", "0", "w=1", 5),
    ])
    # eps=1 mean val 5.0, eps=2 mean val 4.5 -> eps=2 kept
    kept, notes = tables.select_configs(runs, _history({"a0": 5, "a1": 5, "b0": 4, "b1": 5, "s0": 6}))
    assert sorted(kept["run_id"]) == ["b0", "b1", "s0"]
    assert len(notes) == 1 and "2 configurations" in notes[0] and "4.500%" in notes[0]


def test_select_configs_keeps_the_newest_rerun_of_a_seed():
    runs = _runs([("old", "d", "star", "star", "0", "c", 1), ("new", "d", "star", "star", "0", "c", 9)])
    kept, _ = tables.select_configs(runs, _history({"old": 5, "new": 4}))
    assert kept["run_id"].tolist() == ["new"]


def test_pick_baseline():
    runs = _runs([("1", "d", "structured", "structured", "0", "", 0), ("2", "d", "sa-l1", "softargmax", "0", "", 0),
                  ("3", "d", "dsnt", "dsnt", "0", "", 0)])
    assert tables.pick_baseline(runs, None) == "sa-l1"  # no STAR: soft-argmax comes next
    assert tables.pick_baseline(runs, "softargmax") == "sa-l1"  # a method names its arm
    assert tables.pick_baseline(runs, "dsnt") == "dsnt"
    with pytest.raises(ValueError, match="matches no arm/method"):
        tables.pick_baseline(runs, "star")


def test_split_usable_explains_only_exclusions():
    runs = pd.DataFrame({
        "run_id": ["ok", "stale", "dead", "pruned", "empty"], "dataset": "d", "label": "m", "seed": "0",
        "status": ["FINISHED", "FINISHED", "FAILED", "FAILED", "FINISHED"],
        "test/nme": [4.0, 4.0, float("nan"), float("nan"), float("nan")],
        "reason": [None, "OSError: from an earlier attempt", "diverged", "TrialPruned: at epoch 3", None],
    })
    history = pd.DataFrame({"run_id": ["ok", "stale", "dead", "pruned"], "key": "val/nme", "step": 1, "value": 5.0})
    usable, excluded = tables.split_usable(runs, history)
    assert usable["run_id"].tolist() == ["ok", "stale"]
    assert excluded.set_index("run_id")["why"].to_dict() == {
        "dead": "status FAILED (diverged)", "pruned": "pruned (TrialPruned: at epoch 3)", "empty": "no test/nme metric"}
