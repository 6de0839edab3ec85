"""Child processes that do not outlive their parent (Linux; a no-op elsewhere)."""
from __future__ import annotations

import contextlib
import ctypes
import signal

__all__ = ["die_with_parent"]


def die_with_parent() -> None:
    """Ask the kernel to send this process SIGTERM when its parent dies (a ``preexec_fn``).

    Used for trainers and sweep workers, so that a kill -9 of whoever started them leaves
    no orphan training and logging a trial already marked stale. SIGTERM rather than
    SIGKILL: torchrun passes SIGTERM on to its ranks, while a SIGKILLed torchrun leaves
    them running; a plain trainer installs no handler and dies of either.
    """
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
