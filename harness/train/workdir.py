"""One trainer per work dir at any moment: an exclusive ``flock`` held for the run.

Two sweep workers can claim the same configuration (a sampler drawing a point twice, or a
stale trial re-queued while its old trainer is still shutting down). Their trainers would
write the same checkpoints and MLflow run at once; with this lock the second one waits,
then finds the first one's finished record and has nothing to train. The kernel drops the
lock when its holder dies, however it dies, so a kill -9 never leaves a work dir locked.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_FILE", "hold_work_dir", "is_held"]

LOCK_FILE = ".harness.lock"
_log = logging.getLogger(__name__)


@contextlib.contextmanager
def hold_work_dir(work_dir: str | Path) -> Iterator[None]:
    """Hold the work dir's lock for the block, waiting (and saying so) while another has it."""
    path = Path(work_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log.warning("%s: another trainer is using this work dir; waiting for it", work_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())  # for people: who holds it
        yield
    finally:
        os.close(fd)  # closing releases the lock


def is_held(work_dir: str | Path) -> bool:
    """Whether some live process holds the work dir's lock now."""
    path = Path(work_dir) / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
