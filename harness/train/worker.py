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

from harness.train.request import ExitCode, TrainRequest

__all__ = ["execute"]


def execute(request: TrainRequest, rank: int = 0) -> int:
    """Run ``request`` and map its outcome to an exit code, printing errors on one line."""
    from harness.train.runner import run_training

    try:
        run_training(request, rank=rank)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure becomes an exit code and one line
        code = getattr(exc, "exit_code", ExitCode.ERROR)
        if code == ExitCode.ERROR:
            logging.getLogger(__name__).exception("training failed")
        print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return int(code)
    return ExitCode.OK


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
    # torchrun tells each process its rank through the environment.
    return execute(request, rank=int(os.environ.get("RANK", "0")))


if __name__ == "__main__":
    sys.exit(main())
