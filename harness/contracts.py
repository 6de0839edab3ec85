"""The names and codes every layer agrees on: one source for each (stdlib only).

Training, sweeps, hooks and reports meet in three places: process exit codes, MLflow
tags/metric names, and Optuna trial user attributes. Each string or number lives here
once; a layer that writes or reads one imports it from here, so a rename cannot leave a
reader behind.
"""
from __future__ import annotations

import enum

__all__ = ["ExitCode", "SweepExit", "Outcome", "Tag", "Attr", "Metric", "RESULT_FILE",
           "RUN_FILE", "outcome_of_exit", "ProtocolAttr", "tune_study", "confirm_study"]


class ExitCode(enum.IntEnum):
    """Exit codes of one training process (``harness train``, ``python -m harness.train.worker``)."""

    OK = 0
    ERROR = 1
    BAD_INPUT = 2  # config, data or arguments rejected before training started
    DIVERGED = 3  # NaN/inf loss
    PRUNED = 4  # stopped by the pruning hook
    REQUEUE = 75  # stopped by SIGUSR1/SIGTERM after a checkpoint: run it again to resume (EX_TEMPFAIL)
    INTERRUPTED = 130  # Ctrl-C / SIGINT, the shell's convention


class SweepExit(enum.IntEnum):
    """Exit codes of ``harness sweep run`` / ``status``: can a script call the sweep done?"""

    COMPLETE = 0  # every planned trial ended COMPLETE, PRUNED or with a final failure
    INCOMPLETE = 1  # some planned trial is missing, failed for a retryable reason, or left
    BAD_INPUT = 2  # the spec (or a config it names) is wrong; nothing was started
    INTERRUPTED = 130


class Outcome(str, enum.Enum):
    """How one trial attempt ended, as its trainer recorded it (the result record)."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    DIVERGED = "diverged"
    BAD_INPUT = "bad_input"
    ERROR = "error"
    PREEMPTED = "preempted"  # checkpointed and stopped on a signal; resumes, costs no retry

    @property
    def final(self) -> bool:
        """Whether retrying the same trial could end differently (a diverged seed will not)."""
        return self in (Outcome.COMPLETE, Outcome.PRUNED, Outcome.DIVERGED)


_OUTCOME_OF_EXIT = {ExitCode.OK: Outcome.COMPLETE, ExitCode.PRUNED: Outcome.PRUNED,
                    ExitCode.DIVERGED: Outcome.DIVERGED, ExitCode.BAD_INPUT: Outcome.BAD_INPUT,
                    ExitCode.REQUEUE: Outcome.PREEMPTED}


def outcome_of_exit(code: int) -> Outcome:
    """The outcome a trainer's exit code stands for (anything unknown is an error)."""
    try:
        return _OUTCOME_OF_EXIT.get(ExitCode(code), Outcome.ERROR)
    except ValueError:
        return Outcome.ERROR


class Tag:
    """MLflow run tags written by harness (and the MLflow/Optuna ones it sets)."""

    KIND = "harness.kind"  # "train" | "sweep" | "eval"
    METHOD = "harness.method"
    DATASET = "harness.dataset"
    DATASET_KIND = "harness.dataset_kind"
    SCHEME = "harness.scheme"
    SEED = "harness.seed"
    CONFIG = "harness.config"
    COMMAND = "harness.command"
    SWEEP = "harness.sweep"
    ARM = "harness.arm"
    TRIAL_ID = "harness.trial_id"
    ERROR = "harness.error"
    OUTCOME = "harness.outcome"  # an Outcome value, on a finished trial's run
    GIT_COMMIT = "harness.git_commit"
    GIT_DIRTY = "harness.git_dirty"
    REPRODUCES = "harness.reproduces"
    REPRODUCE_FORCED = "harness.reproduce_forced"
    # Evaluation runs (harness.kind=eval) and logged models (harness evaluate, harness.tracking.models).
    SOURCE_RUN = "harness.source_run_id"  # the training run whose checkpoint was evaluated
    SOURCE_MODEL = "harness.source_model_id"  # the MLflow LoggedModel evaluated
    TRAINED_ON = "harness.trained_on"  # the training run's data set (harness.dataset is the evaluated one)
    EVAL_SPLIT = "harness.eval_split"
    SCHEME_MAP = "harness.scheme_map"  # "wflw->300w" when predictions were mapped, else "none"
    CHECKPOINT = "harness.checkpoint"  # on a LoggedModel: "best", "last" or "best,last"
    CHECKPOINT_EPOCH = "harness.checkpoint_epoch"
    CHECKPOINT_FILE = "harness.checkpoint_file"
    STUDY = "optuna.study"
    TRIAL_NUMBER = "optuna.trial_number"  # the latest attempt's number
    OPTUNA_STATE = "optuna.state"  # the latest attempt's state
    STORAGE = "optuna.storage"  # redacted
    PARENT_RUN = "mlflow.parentRunId"
    NOTE = "mlflow.note.content"  # the run's description in the MLflow UI
    EXPERIMENT_KIND = "mlflow.experimentKind"
    STAGE = "harness.stage"  # "tune" | "confirm" in a tune-then-confirm protocol
    PROTOCOL = "harness.protocol"  # on a protocol sweep's parent run: its kind


class Attr:
    """Optuna trial user attributes written by the sweep."""

    SLOT = "harness.slot"  # the planned trial this attempt serves
    SEED = "harness.seed"
    ARM = "harness.arm"
    METHOD = "harness.method"
    TRIAL_ID = "harness.trial_id"
    WORK_DIR = "harness.work_dir"
    HOST = "harness.host"
    PID = "harness.pid"
    PID_START = "harness.pid_start"
    FAILURE = "harness.failure"  # an Outcome value (or worker_error, stale, dry-run)
    ERROR = "harness.error"
    EXIT_CODE = "harness.exit_code"
    LOG = "harness.log"
    REUSED_FROM = "harness.reused_from"  # trial number whose finished record this one reused
    PREEMPTIONS = "harness.preemptions"  # times the trial stopped on a signal and went back to the queue
    MLFLOW_RUN_ID = "mlflow_run_id"
    MLFLOW_LINK = "mlflow_run_url"
    STAGE = "harness.stage"

    # Per-attempt attributes: a retry is a new attempt and does not inherit them.
    ATTEMPT = (HOST, PID, PID_START, FAILURE, ERROR, EXIT_CODE, LOG, MLFLOW_RUN_ID,
               MLFLOW_LINK, REUSED_FROM)


class Metric:
    """MLflow metric names (step = epoch, 1-based) and the evaluator's keys they come from."""

    TRAIN_LOSS = "train/loss"
    TRAIN_LR = "train/lr"
    VAL_NME = "val/nme"  # percent
    VAL_FR = "val/fr"  # percent
    VAL_AUC = "val/auc"  # 0..1
    TEST_NME = "test/nme"
    TEST_FR = "test/fr"
    TEST_AUC = "test/auc"
    BEST_VAL_NME = "best/val_nme"
    BEST_EPOCH = "best/epoch"
    EPOCH_SECONDS = "time/epoch_seconds"
    ELAPSED_SECONDS = "time/elapsed_seconds"
    SAMPLES_PER_SECOND = "time/samples_per_second"
    EVAL_NME = "eval/nme"  # an evaluation run's scores on its (data set, split)
    EVAL_FR = "eval/fr"
    EVAL_AUC = "eval/auc"
    # FaceLandmarkMetric's result keys (MMEngine prefixes them with the metric's prefix).
    FACE_NME = "face/nme"
    FACE_FR = "face/fr"
    FACE_AUC = "face/auc"


# Files a training work dir holds for the layers above it.
RESULT_FILE = "harness_result.json"  # the trainer's outcome record (harness.train.result)
RUN_FILE = "harness_run.json"  # the MLflow run this work dir logs into


class ProtocolAttr:
    """Optuna *study* user attributes of a protocol's confirmation study, each written once."""

    SELECTION = "harness.protocol.selection"  # JSON: each arm's chosen configuration
    ROUND = "harness.protocol.round."  # + round index: JSON of that round's decisions


def tune_study(sweep: str, arm: str) -> str:
    """The Optuna study tuning ``arm`` in protocol sweep ``sweep``."""
    return f"{sweep}.tune.{arm}"


def confirm_study(sweep: str) -> str:
    """The Optuna study of protocol sweep ``sweep``'s confirmation runs."""
    return f"{sweep}.confirm"
