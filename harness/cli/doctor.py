"""`harness doctor`: report what this installation can and cannot do."""
from __future__ import annotations

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the installed stack", epilog="example:\n  harness doctor",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    import os

    from harness.doctor import run_checks

    checks = run_checks(os.environ)
    width = max(len(c.name) for c in checks)
    for check in checks:
        print(f"{'ok ' if check.ok else 'BAD'}  {check.name:<{width}}  {check.detail}")
    return 0 if all(c.ok for c in checks) else 1
