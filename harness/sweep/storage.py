"""Optuna storage factory, URL redaction and a per-study lock.

- Default (one machine): Optuna's ``JournalFileBackend`` with its open-lock, a file under
  the sweep's work area (Optuna's FAQ warns against SQLite for parallel workers). Written
  ``journal:/abs/path/optuna.journal``; ``optuna-dashboard /abs/path/optuna.journal`` reads it.
- Many machines: ``postgresql://user:pass@host/db`` (or ``mysql://``, ``sqlite:///``): an
  ``RDBStorage`` with Optuna's heartbeat and ``RetryHeartbeatStaleTrialCallback`` (the
  non-deprecated name of ``RetryFailedTrialCallback`` in Optuna >= 4.9), via
  :class:`harness.sweep.recovery.Requeue`.

The journal has no heartbeat of its own; :mod:`harness.sweep.recovery` provides one.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import re
import warnings
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote

import sqlalchemy  # an Optuna dependency
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage

from harness.sweep.recovery import Requeue

__all__ = ["JOURNAL_PREFIX", "default_storage_url", "normalize_url", "is_journal",
           "journal_path", "open_storage", "redact", "split_password", "study_lock"]

JOURNAL_PREFIX = "journal:"
_RDB_SCHEMES = ("postgresql", "postgres", "mysql", "sqlite")


def default_storage_url(work_dir: str | Path) -> str:
    """The journal file of a sweep's work area."""
    return f"{JOURNAL_PREFIX}{Path(work_dir).resolve() / 'optuna.journal'}"


def _pg_driver(url: str) -> str:
    """Name psycopg2 in a bare ``postgresql://`` URL when psycopg (3) is not installed.

    SQLAlchemy >= 2.1 maps the bare scheme to psycopg 3; the project ships psycopg2-binary.
    """
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres") or importlib.util.find_spec("psycopg"):
        return url
    return f"postgresql+psycopg2://{rest}"


def normalize_url(url: str, *, base: str | Path) -> str:
    """Make a storage URL absolute: a bare path is a journal file relative to ``base``."""
    if url.split(":", 1)[0].split("+", 1)[0] in _RDB_SCHEMES and "://" in url:
        return _pg_driver(url)
    path = url[len(JOURNAL_PREFIX):] if url.startswith(JOURNAL_PREFIX) else url
    return f"{JOURNAL_PREFIX}{(Path(base) / path).resolve()}"


def is_journal(url: str) -> bool:
    """Whether a normalized URL names a journal file."""
    return url.startswith(JOURNAL_PREFIX)


def journal_path(url: str) -> Path:
    """The file behind a ``journal:`` URL."""
    return Path(url[len(JOURNAL_PREFIX):])


def redact(url: str) -> str:
    """Hide the password of ``scheme://user:password@host``; other URLs are unchanged."""
    # Greedy up to the last "@" before the path: passwords may contain "@".
    return re.sub(r"(://[^:/@]+:)[^/]*(@)", r"\1***\2", url)


def _rdb(url: str, heartbeat_interval: int, grace_period: int, max_retry: int) -> RDBStorage:
    # Parallel SQLite writers wait for the file lock instead of failing at once.
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    with warnings.catch_warnings():
        # Heartbeats and the retry callback have been "experimental" since Optuna 2.8.
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=Requeue(max_retry=max_retry),
        )


def split_password(url: str) -> tuple[str, dict[str, str]]:
    """``(url without its password, env for the trainer)`` for a PostgreSQL URL.

    A trial's request (with the pruning hook's storage URL) is logged to MLflow as
    provenance; the password travels as ``PGPASSWORD`` (read by libpq) instead.
    """
    match = re.match(r"^(postgres(?:ql)?(?:\+\w+)?://[^:/@]+):([^/]*)@(.*)$", url)
    if not match:
        return url, {}
    user, password, rest = match.groups()
    return f"{user}@{rest}", {"PGPASSWORD": unquote(password)}


def open_storage(url: str, *, heartbeat_interval: int = 30, grace_period: int = 90,
                 max_retry: int = 2) -> BaseStorage:
    """Open (creating when needed) the storage behind a normalized URL.

    On RDB storages, trials whose heartbeat stops for ``grace_period`` seconds are failed by
    ``optuna.storages.fail_stale_trials`` and re-queued up to ``max_retry`` times.
    """
    if is_journal(url):
        path = journal_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path), JournalFileOpenLock(str(path))))
    if url.startswith("sqlite"):
        return _rdb(url, heartbeat_interval, grace_period, max_retry)
    # Two orchestrators creating Optuna's tables on a fresh server at once collide
    # ("type ... already exists"); take a server lock around it.
    engine = sqlalchemy.create_engine(url)
    try:
        with _server_lock(engine, "harness: optuna schema"):
            return _rdb(url, heartbeat_interval, grace_period, max_retry)
    finally:
        engine.dispose()


@contextlib.contextmanager
def _server_lock(engine: sqlalchemy.engine.Engine, name: str) -> Iterator[None]:
    """A PostgreSQL advisory lock (or MySQL named lock) held for the block."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    mysql = engine.dialect.name == "mysql"
    take = "SELECT GET_LOCK(:k, -1)" if mysql else "SELECT pg_advisory_lock(:k)"
    give = "SELECT RELEASE_LOCK(:k)" if mysql else "SELECT pg_advisory_unlock(:k)"
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(take), {"k": str(key) if mysql else key})
        try:
            yield
        finally:
            conn.execute(sqlalchemy.text(give), {"k": str(key) if mysql else key})


@contextlib.contextmanager
def study_lock(url: str, study_name: str, storage: BaseStorage) -> Iterator[None]:
    """Hold an exclusive lock on the study while enqueueing or recovering trials.

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
    with _server_lock(storage.engine, f"harness study: {study_name}"):
        yield
