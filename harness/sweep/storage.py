"""The sweep's view of Optuna storages: the shared URL toolkit plus a per-study lock.

URLs, redaction, the password split and opening live in :mod:`harness.storage` (the
pruning hook and the report use them too); the sweep adds Optuna's heartbeat with
:class:`harness.sweep.recovery.Requeue` on RDB storages, and :func:`study_lock`.
The journal has no heartbeat of its own; :mod:`harness.sweep.recovery` provides one.
"""
from __future__ import annotations

import contextlib
import fcntl
import warnings
from collections.abc import Iterator
from pathlib import Path

from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, RDBStorage

from harness import storage as _urls
from harness.storage import (
    JOURNAL_PREFIX,
    default_storage_url,
    is_journal,
    journal_path,
    normalize_url,
    redact,
    split_password,
)
from harness.sweep.recovery import Requeue

__all__ = ["JOURNAL_PREFIX", "default_storage_url", "normalize_url", "is_journal",
           "journal_path", "open_storage", "redact", "split_password", "study_lock"]


def open_storage(url: str, *, heartbeat_interval: int = 30, grace_period: int = 90,
                 max_retry: int = 2) -> BaseStorage:
    """Open (creating when needed) a sweep's storage.

    On RDB storages, trials whose heartbeat stops for ``grace_period`` seconds are failed by
    ``optuna.storages.fail_stale_trials`` and re-queued up to ``max_retry`` times.
    """
    with warnings.catch_warnings():
        # The retry callback has been "experimental" since Optuna 2.8.
        warnings.simplefilter("ignore", ExperimentalWarning)
        callback = Requeue(max_retry=max_retry)
    return _urls.open_storage(url, heartbeat_interval=heartbeat_interval,
                              grace_period=grace_period, stale_callback=callback)


@contextlib.contextmanager
def study_lock(url: str, study_name: str, storage: BaseStorage) -> Iterator[None]:
    """Hold an exclusive lock on the study while enqueueing, claiming or recovering trials.

    Two orchestrators starting at once (two machines, or two shells) must not both enqueue
    the same grid. Files get ``flock``; PostgreSQL and MySQL get a server-side lock.
    """
    if is_journal(url) or url.startswith("sqlite"):
        target = journal_path(url) if is_journal(url) else Path(url.split(":///", 1)[1])
        lock_path = target.with_name(target.name + f".{study_name}.harness-lock")
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if not isinstance(storage, RDBStorage):
        raise TypeError(f"no study lock for {type(storage).__name__}")
    with _urls.server_lock(storage.engine, f"harness study: {study_name}"):
        yield
