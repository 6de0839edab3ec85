"""The exit-status contract of `harness sweep run` / `status`, and the retry command.

A sweep whose data set is missing cannot finish: it must say so (exit 1, a table naming
the trial, its failure and log, and the command that retries it), keep saying so on a
re-run, and finish (exit 0) once the data exists and the retry is asked for.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import sweep_e2e as e2e
from optuna.trial import TrialState

from harness.contracts import SweepExit

pytestmark = pytest.mark.slow


def _status(spec) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli.main", "sweep", "status", str(spec)],
                          cwd=e2e.REPO, capture_output=True, text=True, timeout=120)


def test_incomplete_sweep_exits_1_with_its_table_until_retried(tmp_path, synth) -> None:
    data = tmp_path / "data"  # not there yet
    spec = e2e.spec(tmp_path, "gone", [e2e.arm("a", data)], seeds=[0], epochs=1, max_retry=0)
    first = e2e.sweep(spec)
    out, _ = first.communicate(timeout=600)
    assert first.returncode == SweepExit.INCOMPLETE, out[-3000:]
    assert "INCOMPLETE: 1 planned trial(s) without a result" in out
    row = next(line for line in out.splitlines() if line.startswith("a ") and "bad_input" in line)
    assert " 0 " in row and "trial-0.log" in row  # seed, and the log to read
    assert f"retry: harness sweep run {spec} --retry-failed" in out  # budget (0 retries) spent
    status = _status(spec)
    assert status.returncode == SweepExit.INCOMPLETE and "bad_input" in status.stdout
    # A plain re-run has nothing left to try: still incomplete, no new attempt.
    again = e2e.sweep(spec)
    out, _ = again.communicate(timeout=600)
    assert again.returncode == SweepExit.INCOMPLETE, out[-3000:]
    url = f"journal:{tmp_path / 'work' / 'optuna.journal'}"
    assert len(e2e.study(url, "gone").trials) == 1
    # The data arrives; --retry-failed gives the trial one more attempt, which completes.
    shutil.copytree(synth, data)
    retry = e2e.sweep(spec, "--retry-failed")
    out = e2e.done(retry)
    assert "INCOMPLETE" not in out
    states = [t.state for t in e2e.study(url, "gone").trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]
    assert _status(spec).returncode == SweepExit.COMPLETE


def test_bad_spec_exits_2_and_creates_nothing(tmp_path, synth) -> None:
    spec = e2e.spec(tmp_path, "typo", [e2e.arm("a", synth, **{"model.head.loss.epz": 1.0})],
                    seeds=[0])
    proc = e2e.sweep(spec)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == SweepExit.BAD_INPUT
    assert "model.head.loss.epz: unknown config key (did you mean 'eps'?" in out
    assert not (tmp_path / "work").exists() and not (tmp_path / "mlflow.db").exists()
