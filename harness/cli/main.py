"""`harness` command line: a table of subcommands, one module each.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (``args -> int`` exit code). Logic lives in the library, never here.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

__all__ = ["main", "build_parser"]

# name -> module; imported lazily so `harness doctor` works even when MMPose is broken.
SUBCOMMANDS: dict[str, str] = {
    "doctor": "harness.cli.doctor",
    "data": "harness.cli.data",
    "train": "harness.cli.train",
    "reproduce": "harness.cli.reproduce",
    "sweep": "harness.cli.sweep",
    "report": "harness.cli.report",
    "evaluate": "harness.cli.evaluate",
    "predict": "harness.cli.predict",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Train, sweep and compare facial-landmark heatmap objectives (MMPose + Optuna + MLflow).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in SUBCOMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=f"(see `harness {name} --help`)")
            continue
        try:
            importlib.import_module(module).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Build only the parser of the chosen subcommand: importing every module would load
    # torch/mmpose/mlflow for a simple `harness doctor`.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=chosen if chosen in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.error(f"`harness {args.command}` is not available in this installation")
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
