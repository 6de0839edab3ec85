"""``python -m harness.train.worker REQUEST.json``: one training run in its own process.

The sweep orchestrator runs every trial this way so that MMEngine's global singletons
(logger, visualizer, message hub, default scope) never leak between trials. The exit
code says how the run ended (:class:`harness.train.request.ExitCode`); the last stderr
line is the one-line reason.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from harness.contracts import ExitCode, outcome_of_exit
from harness.train.preempt import stop_on_signals
from harness.train.request import TrainRequest
from harness.train.result import TrainResult, read_result, write_result

__all__ = ["execute"]


def execute(request: TrainRequest, rank: int = 0) -> int:
    """Run ``request`` and map its outcome to an exit code, printing errors on one line.

    Every ending that reaches here leaves a result record in the work dir (rank 0 only):
    the runner writes it once a run is open; a request rejected before that gets one here.
    """
    from harness.train.runner import run_training

    started = time.time()
    try:
        run_training(request, rank=rank)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code, reason = ExitCode.INTERRUPTED, "interrupted"
    except Exception as exc:  # every failure becomes an exit code and one line
        code = ExitCode(getattr(exc, "exit_code", ExitCode.ERROR))
        if code == ExitCode.ERROR:
            logging.getLogger(__name__).exception("training failed")
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        print(reason, file=sys.stderr)
    else:
        return ExitCode.OK
    if rank == 0:
        _record_early_failure(request, code, reason, started)
    return int(code)


def _record_early_failure(request: TrainRequest, code: ExitCode, reason: str,
                          started: float) -> None:
    if request.trial_number is None and not Path(request.work_dir).is_dir():
        return  # a plain `harness train` typo: leave no work dir behind
    previous = read_result(request.work_dir)
    if previous is not None and (previous.written_at >= started or previous.finished):
        return  # the runner wrote this attempt's record; or an earlier attempt finished
    write_result(request.work_dir, TrainResult(
        outcome=outcome_of_exit(code), trial_id=request.trial_id,
        trial_number=request.trial_number, objective_metric=request.objective.metric,
        error=reason[:1000]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m harness.train.worker REQUEST.json", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        request = TrainRequest.from_json(argv[0])
    except (OSError, ValueError, TypeError) as exc:
        print(f"{argv[0]}: cannot read train request ({exc})", file=sys.stderr)
        return ExitCode.BAD_INPUT
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # From here on SIGUSR1/SIGTERM ask the run to checkpoint and stop (ExitCode.REQUEUE)
    # instead of killing it without a record; the runner acts on them once training runs.
    with stop_on_signals():
        # torchrun tells each process its rank through the environment.
        return execute(request, rank=int(os.environ.get("RANK", "0")))


if __name__ == "__main__":
    sys.exit(main())
