"""The trainer's side of preemption: SIGUSR1 and SIGTERM ask for a checkpoint and a stop.

A scheduler warns before a time limit (SLURM's ``--signal``), and sends SIGTERM before it
kills a preempted, cancelled or requeued job. The default action of either kills the
trainer at once, without a checkpoint of the running epoch or a result record. The handler
installed here only sets a flag; :class:`harness.mm.preempt.PreemptionHook` acts on it at
the next iteration boundary (a handler must not save a checkpoint from inside a step).
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["STOP_SIGNALS", "StopRequest", "stop_on_signals"]

STOP_SIGNALS = (signal.SIGUSR1, signal.SIGTERM)


class StopRequest:
    """Set by a stop signal; read by the preemption hook at each iteration boundary."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: int | None = None

    def __call__(self) -> bool:
        return self._event.is_set()

    def set(self, signum: int) -> None:
        self.signal = signum
        self._event.set()


class _Handler:
    def __init__(self, request: StopRequest) -> None:
        self.request = request

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.request.set(signum)


@contextlib.contextmanager
def stop_on_signals(signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> Iterator[StopRequest]:
    """Within the block, ``signals`` set the yielded :class:`StopRequest` instead of killing.

    The previous handlers come back on exit. An enclosing block's request is reused, so a
    signal the trainer process got before training started is not forgotten. Only the main
    thread may install handlers; elsewhere (a trainer run in a thread by a test) the block
    yields a request that never turns true.
    """
    current = signal.getsignal(signals[0])
    if isinstance(current, _Handler):
        yield current.request
        return
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.signal(s, _Handler(request)) for s in signals}
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
