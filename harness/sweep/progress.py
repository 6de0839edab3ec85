"""Live sweep progress: a rich table on a terminal, one log line per change otherwise.

Feed it :class:`~harness.sweep.status.SweepStatus` snapshots (``run_sweep(on_status=...)``).
The caller decides whether output is a TTY (library code does not probe ``sys.stdout``).
"""
from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.sweep.status import SweepStatus

if TYPE_CHECKING:
    from rich.live import Live

__all__ = ["Progress", "eta_seconds"]

_log = logging.getLogger("harness.sweep.progress")


def eta_seconds(status: SweepStatus, workers: int) -> float | None:
    """Queued-and-running trials x mean trial time / workers; None before any trial ends."""
    if status.mean_trial_seconds is None:
        return None
    return status.n_left * status.mean_trial_seconds / max(1, workers)


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m{s:02d}s"


class Progress:
    """Context manager; call it with each status snapshot."""

    def __init__(self, name: str, *, workers: int, tty: bool, console: Any = None):
        self.name, self.workers, self.tty = name, workers, tty
        self._console = console
        self._live: Live | None = None
        self._last: str | None = None
        self._start = time.time()

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.live import Live

            self._live = Live(console=self._console, refresh_per_second=2, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def _fields(self, status: SweepStatus) -> dict[str, str]:
        c = status.counts
        best = status.best
        return {
            "complete": str(c.get("COMPLETE", 0)), "running": str(c.get("RUNNING", 0)),
            "queued": str(c.get("WAITING", 0)), "pruned": str(c.get("PRUNED", 0)),
            "failed": str(c.get("FAIL", 0)),
            "best": f"{best['value']:.4f} ({best['arm']}, #{best['number']})" if best else "-",
            "eta": _fmt_seconds(eta_seconds(status, self.workers)),
        }

    def __call__(self, status: SweepStatus) -> None:
        fields = self._fields(status)
        if self._live is not None:
            from rich.table import Table

            table = Table(title=f"sweep {self.name}  "
                                f"(elapsed {_fmt_seconds(time.time() - self._start)})")
            for key in fields:
                table.add_column(key, justify="right" if key != "best" else "left")
            table.add_row(*fields.values())
            self._live.update(table)
            return
        line = " ".join(f"{k}={v}" for k, v in fields.items() if k != "eta")
        if line != self._last:  # plain logs: one line per change, not per poll
            self._last = line
            _log.info("sweep %s: %s eta=%s", self.name, line, fields["eta"])
