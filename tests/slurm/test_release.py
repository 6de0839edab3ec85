"""An attempt stopped on a signal goes back to the queue as the same trial; the trainer's flag."""
from __future__ import annotations

import os
import signal

import optuna
import pytest
from optuna.trial import TrialState

from harness.contracts import Attr, ExitCode, Outcome, outcome_of_exit
from harness.storage import default_storage_url, open_storage
from harness.sweep.plan import attempts_by_slot, needs_attempt
from harness.sweep.recovery import release_interrupted
from harness.train.preempt import stop_on_signals


@pytest.fixture
def study(tmp_path) -> optuna.Study:
    s = optuna.create_study(storage=open_storage(default_storage_url(tmp_path)), study_name="r")
    s.enqueue_trial({"x": 1.0}, user_attrs={Attr.SLOT: "slot-0", Attr.SEED: 0})
    return s


def _claim(study: optuna.Study) -> optuna.Trial:
    waiting = study.get_trials(states=(TrialState.WAITING,))[0]
    assert study._storage.set_trial_state_values(waiting._trial_id, TrialState.RUNNING)
    return optuna.Trial(study, waiting._trial_id)


def test_a_released_trial_is_the_same_trial_again_and_spends_no_retry(study):
    trial = _claim(study)
    assert release_interrupted(study, trial)
    (again,) = study.get_trials()
    assert again.number == trial.number and again.state == TrialState.WAITING
    assert again.user_attrs[Attr.PREEMPTIONS] == 1
    # Nothing to queue: the planned trial still has a queued attempt, and no failure counts.
    assert not needs_attempt(attempts_by_slot(study.get_trials())["slot-0"], max_retry=0)
    resumed = _claim(study)
    assert resumed.number == trial.number
    study.tell(resumed, 0.5)
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE]
    assert not release_interrupted(study, resumed)  # a finished trial stays finished


def test_stop_signals_set_the_flag_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGUSR1)
        assert stop() and stop.signal == signal.SIGUSR1
        with stop_on_signals() as inner:  # the trainer's inner block shares the worker's request
            assert inner is stop
    assert signal.getsignal(signal.SIGTERM) is before
    assert outcome_of_exit(ExitCode.REQUEUE) == Outcome.PREEMPTED and not Outcome.PREEMPTED.final
