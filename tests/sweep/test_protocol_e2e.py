"""One real tune-then-confirm sweep: real trainers (8 synthetic images, 1 epoch, 1 thread),
`harness sweep run` as a process, journal storage, SQLite MLflow; then `sweep status`.
"""
from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
import sweep_e2e as e2e
import yaml
from optuna.trial import TrialState

from harness.contracts import Attr, ProtocolAttr, Tag, confirm_study, tune_study

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def test_real_protocol_sweep_tunes_selects_and_confirms_on_fresh_seeds(tmp_path, synth) -> None:
    arms = [e2e.arm("structured", synth), e2e.arm("softargmax", synth, method="softargmax")]
    spec = {"name": "realproto", "arms": arms, "seeds": [0], "budget": {"epochs": 1},
            "resources": {"workers": 2, "cpu_threads_per_trial": 1}, "work_dir": str(tmp_path / "work"),
            "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}", "experiment": "e2e"},
            "protocol": {"kind": "tune-then-confirm",
                         "confirm": {"baseline": "softargmax", "seeds": 2, "first_seed": 7}}}
    path = tmp_path / "realproto.yaml"
    path.write_text(yaml.safe_dump(spec))
    e2e.done(e2e.sweep(path), timeout=1200)  # 6 tiny trainings in 4 waves
    url = f"journal:{tmp_path / 'work' / 'optuna.journal'}"
    confirm = e2e.study(url, confirm_study("realproto"))
    assert ProtocolAttr.SELECTION in confirm.user_attrs and f"{ProtocolAttr.ROUND}0" in confirm.user_attrs
    trials = confirm.get_trials(states=(TrialState.COMPLETE,))
    assert Counter((t.user_attrs[Attr.ARM], t.user_attrs[Attr.SEED]) for t in trials) == {
        (a, s): 1 for a in ("structured", "softargmax") for s in (7, 8)}
    for arm in ("structured", "softargmax"):  # no search space: the defaults, once per tuning seed
        tuned = e2e.study(url, tune_study("realproto", arm)).get_trials(states=(TrialState.COMPLETE,))
        assert [t.user_attrs[Attr.SEED] for t in tuned] == [0]
    _, parents, runs = e2e.children(tmp_path, "realproto")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert parents[0].data.tags[Tag.PROTOCOL] == "tune-then-confirm"
    assert Counter(r.data.tags[Tag.STAGE] for r in runs) == {"tune": 2, "confirm": 4}
    assert all("test/nme" in r.data.metrics for r in runs)
    status = subprocess.run([sys.executable, "-m", "harness.cli.main", "sweep", "status", str(path)],
                            cwd=e2e.REPO, capture_output=True, text=True)
    assert status.returncode == 0, status.stdout + status.stderr
