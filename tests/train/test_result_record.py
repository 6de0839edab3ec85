"""The trainer's result record and the work-dir lock: the pieces exactly-once rests on."""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from harness.contracts import RESULT_FILE, Outcome
from harness.sweep.outcome import outcome_of
from harness.train.result import Objective, TrainResult, read_result, reduce_objective, write_result
from harness.train.workdir import LOCK_FILE, hold_work_dir, is_held


def test_record_round_trips_and_is_replaced_whole(tmp_path: Path) -> None:
    first = TrainResult(Outcome.ERROR, run_id="r", trial_id="t", trial_number=3, error="boom")
    write_result(tmp_path, first)
    got = read_result(tmp_path)
    assert got is not None and got.outcome == Outcome.ERROR and got.error == "boom"
    assert got.written_at > 0
    write_result(tmp_path, TrainResult(Outcome.COMPLETE, run_id="r", objective=4.5))
    again = read_result(tmp_path)
    assert again is not None and again.finished and again.objective == 4.5
    assert [p.name for p in tmp_path.iterdir()] == [RESULT_FILE]  # no temporary left


def test_unreadable_or_missing_record_reads_as_none(tmp_path: Path) -> None:
    assert read_result(tmp_path) is None
    (tmp_path / RESULT_FILE).write_text('{"outcome": "compl')
    assert read_result(tmp_path) is None


def test_objective_last_and_best_skip_non_finite_values() -> None:
    history = [(1, 9.0), (2, 5.0), (3, 6.0), (4, float("nan"))]
    assert reduce_objective(history, Objective(reduce="last")) == 6.0
    assert reduce_objective(history, Objective(reduce="best")) == 5.0
    assert reduce_objective(history, Objective(reduce="best", direction="maximize")) == 9.0
    assert reduce_objective([], Objective()) is None


def test_outcome_uses_this_attempts_record_else_the_exit_code() -> None:
    t0 = time.time()
    mine = TrainResult(Outcome.COMPLETE, run_id="r", trial_number=5, objective=3.0, written_at=t0 + 1)
    assert outcome_of(mine, trial_number=5, exit_code=0, started=t0).value == 3.0
    # An older attempt's failure record says nothing about this attempt's SIGKILL.
    old = TrainResult(Outcome.ERROR, trial_number=2, written_at=t0 - 10)
    killed = outcome_of(old, trial_number=5, exit_code=-9, started=t0)
    assert (killed.state, killed.failure) == (TrialState.FAIL, "killed:9")
    # A finished record found before training is reused, naming whose it was.
    done = TrainResult(Outcome.COMPLETE, trial_number=2, objective=7.0, written_at=t0 - 10)
    reused = outcome_of(done, trial_number=5, exit_code=None, started=None)
    assert (reused.state, reused.value, reused.reused_from) == (TrialState.COMPLETE, 7.0, 2)
    pruned = outcome_of(TrainResult(Outcome.PRUNED, trial_number=5, written_at=t0 + 1),
                        trial_number=5, exit_code=4, started=t0)
    assert (pruned.state, pruned.value) == (TrialState.PRUNED, None)
    no_value = outcome_of(TrainResult(Outcome.COMPLETE, trial_number=5, written_at=t0 + 1),
                          trial_number=5, exit_code=0, started=t0)
    assert (no_value.state, no_value.failure) == (TrialState.FAIL, "no_metric")
    assert outcome_of(None, trial_number=5, exit_code=3, started=t0).failure == "diverged"
    assert outcome_of(None, trial_number=5, exit_code=77, started=t0).failure == "exit:77"


def _hold(work_dir: str, seconds: float, log: str) -> None:
    with hold_work_dir(work_dir):
        with open(log, "a") as f:
            f.write(f"in {time.time()}\n")
        time.sleep(seconds)
        with open(log, "a") as f:
            f.write(f"out {time.time()}\n")


def test_one_trainer_per_work_dir_and_a_killed_holder_frees_it(tmp_path: Path) -> None:
    mp = multiprocessing.get_context("spawn")
    log = tmp_path / "log"
    procs = [mp.Process(target=_hold, args=(str(tmp_path), 1.0, str(log))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert events == ["in", "out", "in", "out"]  # never two inside at once
    holder = mp.Process(target=_hold, args=(str(tmp_path), 60.0, str(log)))
    holder.start()
    deadline = time.time() + 30
    while not is_held(tmp_path) and time.time() < deadline:
        time.sleep(0.05)
    assert is_held(tmp_path)
    holder.kill()
    holder.join()
    assert not is_held(tmp_path)  # the kernel dropped it with its holder
    assert (tmp_path / LOCK_FILE).exists()


@pytest.mark.parametrize("code,outcome", [(0, Outcome.COMPLETE), (2, Outcome.BAD_INPUT),
                                          (3, Outcome.DIVERGED), (4, Outcome.PRUNED),
                                          (1, Outcome.ERROR), (130, Outcome.ERROR)])
def test_exit_codes_map_to_outcomes(code: int, outcome: Outcome) -> None:
    from harness.contracts import outcome_of_exit

    assert outcome_of_exit(code) is outcome
