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
        ("a0", "d", "structured", "structured", "0", "eps=1", 1),
        ("a1", "d", "structured", "structured", "1", "eps=1", 2),
        ("b0", "d", "structured", "structured", "0", "eps=2", 3),
        ("b1", "d", "structured", "structured", "1", "eps=2", 4),
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
        "outcome": ["complete", "complete", "diverged", "pruned", "complete"],
    })
    history = pd.DataFrame({"run_id": ["ok", "stale", "dead", "pruned"], "key": "val/nme", "step": 1, "value": 5.0})
    usable, excluded = tables.split_usable(runs, history)
    assert usable["run_id"].tolist() == ["ok", "stale"]
    assert excluded.set_index("run_id")["why"].to_dict() == {
        "dead": "status FAILED (diverged)", "pruned": "pruned (TrialPruned: at epoch 3)", "empty": "no test/nme metric"}


def test_published_numbers_only_beside_a_real_set_of_their_scheme():
    from harness.report.published import published_for

    runs = pd.DataFrame({"dataset": ["wflw", "synth-300w", "own"], "scheme": ["wflw", "300w", "68pt"],
                         "dataset_kind": ["real", "synthetic", "real"]})
    table, why = published_for(runs)
    assert set(table["dataset"]) == {"wflw"} and set(table["scheme"]) == {"wflw"}
    assert _star(table)["nme"] == 4.02
    assert why == ["No published numbers for the landmark scheme of own (68pt).",
                   ("Published numbers (method.md section 5) are for the real benchmarks: not shown beside "
                    "synth-300w, which is synthetic.")]


def _star(table):
    return table[table["method"] == "STAR"].iloc[0]


def test_display_has_one_missing_mark_and_human_labels():
    from harness.report.present import MISSING, display

    frame = pd.DataFrame({"dataset": ["d", "d"], "method": ["star", "ours"], "n_seeds": pd.array([3, pd.NA], "Int64"),
                          "nme": [4.3, float("nan")], "nme_ci_low": [3.8, float("nan")], "nme_ci_high": [4.8, None],
                          "fr": [3.0, None], "auc": [0.6, float("nan")], "best_epoch": [5.0, None],
                          "best_val_nme": [4.2, None]})
    shown = display("summary", frame)
    assert list(shown.columns) == ["Method", "Seeds", "Test NME % (95% CI)", "FR %", "AUC", "Best epoch",
                                   "Best val NME %"]
    assert shown.iloc[0].tolist() == ["star", "3", "4.30 (3.80 to 4.80)", "3.00", "0.600", "5.0", "4.20"]
    assert set(shown.iloc[1].tolist()[1:]) == {MISSING}
