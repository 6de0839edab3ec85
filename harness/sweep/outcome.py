"""How one attempt ended, for Optuna: from the trainer's record, never from a search of MLflow.

The trainer writes its result record (:mod:`harness.train.result`) in the trial's work
dir. After the trainer exits, the worker reads it; when it is missing or belongs to an
older attempt, the trainer died before it could write one and the exit code is all there
is (e.g. ``killed:9``).
"""
from __future__ import annotations

from dataclasses import dataclass

from optuna.trial import TrialState

from harness.contracts import ExitCode, Outcome, outcome_of_exit
from harness.train.result import TrainResult

__all__ = ["TrialOutcome", "outcome_of"]

_STATES = {Outcome.COMPLETE: TrialState.COMPLETE, Outcome.PRUNED: TrialState.PRUNED}


@dataclass(frozen=True)
class TrialOutcome:
    """What the worker tells Optuna about one attempt.

    Attributes:
        state: COMPLETE, PRUNED or FAIL.
        value: the objective (COMPLETE only).
        failure: why it failed: an :class:`Outcome` value, ``no_metric``, ``killed:<sig>``
            or ``exit:<code>``; None unless FAIL.
        run_id: the attempt's MLflow run, when known.
        reused_from: the trial number whose finished record this attempt reused instead of
            training (a retry after the worker died, or a configuration drawn twice).
    """

    state: TrialState
    value: float | None = None
    failure: str | None = None
    run_id: str | None = None
    reused_from: int | None = None
    error: str | None = None


def _from_record(record: TrainResult, reused_from: int | None) -> TrialOutcome:
    state = _STATES.get(record.outcome, TrialState.FAIL)
    if state == TrialState.COMPLETE and record.objective is None:
        return TrialOutcome(TrialState.FAIL, failure="no_metric", run_id=record.run_id,
                            error=f"the run logged no finite {record.objective_metric}")
    return TrialOutcome(state, record.objective if state == TrialState.COMPLETE else None,
                        None if state != TrialState.FAIL else record.outcome.value,
                        record.run_id, reused_from, record.error)


def outcome_of(record: TrainResult | None, *, trial_number: int, exit_code: int | None,
               started: float | None) -> TrialOutcome:
    """The outcome of attempt ``trial_number``.

    Args:
        record: the work dir's result record (None when there is none).
        exit_code: the trainer's exit code, or None when no trainer ran (the record
            was found before launching).
        started: when this attempt's trainer started; a record written before it is an
            older attempt's.
    """
    if exit_code is None:
        assert record is not None and record.finished
        return _from_record(record, reused_from=record.trial_number)
    if record is not None and started is not None and record.written_at >= started:
        other = record.trial_number if record.trial_number != trial_number else None
        return _from_record(record, reused_from=other)
    if record is not None and record.finished:
        # Our trainer waited on the work-dir lock and found another's finished record.
        return _from_record(record, reused_from=record.trial_number)
    if exit_code < 0:
        return TrialOutcome(TrialState.FAIL, failure=f"killed:{-exit_code}")
    if exit_code == ExitCode.OK:  # a clean exit without a record: never expected
        return TrialOutcome(TrialState.FAIL, failure="no_record")
    known = exit_code in ExitCode.__members__.values()
    return TrialOutcome(TrialState.FAIL, failure=outcome_of_exit(exit_code).value if known
                        else f"exit:{exit_code}")
