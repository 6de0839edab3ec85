"""MLflow -> tidy frames, read back from the real SQLite store of conftest.py."""
import pytest

from harness.report import records
from harness.report.published import published_frame


def test_load_records_reads_the_contract(store):
    client = records.open_client(store["uri"])
    recs = records.load_records(client, "main", sweep="demo")
    assert len(recs.runs) == 8  # 6 finished + failed + pruned; the parent is not a training run
    assert set(recs.runs["label"]) == {"star", "structured"}
    assert recs.parent is not None and recs.parent.info.run_id == store["parent"]
    # 6 runs x 5 epochs x (val/nme, train/loss, time/elapsed_seconds) + 2 epochs of the pruned one
    assert len(recs.history) == 92
    assert len(recs.images) == 6 * 4
    star = recs.landmarks.merge(recs.runs[["run_id", "label"]])
    # every point of star's images is off by nme * d, so each landmark's error is mean(4,5,6,7)
    assert star.loc[star["label"] == "star", "error"].tolist() == pytest.approx([5.5] * 15)
    assert recs.mean_faces["synth-wflw"].shape == (5, 2)


def test_missing_experiment_is_a_records_error(store):
    client = records.open_client(store["uri"])
    with pytest.raises(records.RecordsError, match="does not exist"):
        records.load_records(client, "no-such-experiment")
    with pytest.raises(records.RecordsError, match="no training runs"):
        records.load_records(client, "main", sweep="other")


def test_published_numbers_carry_their_normaliser():
    wflw = published_frame("wflw")
    star = wflw[wflw["method"] == "STAR"].iloc[0]
    assert (star["nme"], star["fr"], star["auc"], star["normalizer"]) == (4.02, 2.32, 0.605, "inter-ocular")
    cofw = published_frame("cofw")
    assert set(cofw["normalizer"]) == {"inter-pupil", "inter-ocular", "not stated (likely inter-pupil)"}
