"""Optuna storage URLs: one toolkit to normalise, redact, split off the password and open.

Used by the sweep (which adds its study lock and stale-trial callback on top), the
pruning hook inside a trainer, ``harness sweep status`` and the report.

- ``journal:/abs/path/optuna.journal``: Optuna's ``JournalFileBackend`` with its open-lock
  (the one-machine default; Optuna's FAQ warns against SQLite for parallel workers).
- ``postgresql://user:pass@host/db`` (or ``mysql://``, ``sqlite:///``): an ``RDBStorage``.

Optuna is imported lazily, so importing this module costs nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    import sqlalchemy
    from optuna.storages import BaseStorage

__all__ = ["JOURNAL_PREFIX", "default_storage_url", "normalize_url", "is_journal",
           "journal_path", "redact", "split_password", "open_storage", "server_lock",
           "SHARED_FILESYSTEMS", "filesystem_type", "unshared_storage", "unshared_tracking"]

JOURNAL_PREFIX = "journal:"
_RDB_SCHEMES = ("postgresql", "postgres", "mysql", "sqlite")


def default_storage_url(work_dir: str | Path) -> str:
    """The journal file of a sweep's work area."""
    return f"{JOURNAL_PREFIX}{Path(work_dir).resolve() / 'optuna.journal'}"


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


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
    if _scheme(url) in _RDB_SCHEMES and "://" in url:
        return _pg_driver(url)
    path = url[len(JOURNAL_PREFIX):] if url.startswith(JOURNAL_PREFIX) else url
    return f"{JOURNAL_PREFIX}{(Path(base) / path).resolve()}"


def is_journal(url: str) -> bool:
    """Whether a normalized URL names a journal file."""
    return url.startswith(JOURNAL_PREFIX)


def journal_path(url: str) -> Path:
    """The file behind a ``journal:`` URL."""
    return Path(url[len(JOURNAL_PREFIX):])


def _userinfo(url: str) -> tuple[str, str, str | None, str] | None:
    """``(scheme://, user, password or None, @host/rest)`` of a URL with credentials.

    The credentials end at the *last* ``@`` before any query: a password may hold ``@``,
    ``:`` and ``/`` unescaped (people paste them so), a host never holds ``@``.
    """
    if "://" not in url:
        return None
    head, rest = url.split("://", 1)
    query = rest.find("?")
    at = rest.rfind("@", 0, query if query >= 0 else len(rest))
    if at < 0:
        return None
    user, sep, password = rest[:at].partition(":")
    return f"{head}://", user, password if sep else None, rest[at:]


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (URLs get logged and shared)."""
    parts = _userinfo(url)
    if parts is None or parts[2] is None:
        return url
    head, user, _, tail = parts
    return f"{head}{user}:***{tail}"


def split_password(url: str) -> tuple[str, dict[str, str]]:
    """``(url without its password, env for the trainer)`` for a PostgreSQL URL.

    A trial's request (with the pruning hook's storage URL) is logged to MLflow as
    provenance; the password travels as ``PGPASSWORD`` (read by libpq) instead.
    """
    parts = _userinfo(url)
    if parts is None or parts[2] is None or _scheme(url) not in ("postgresql", "postgres"):
        return url, {}
    head, user, password, tail = parts
    return f"{head}{user}{tail}", {"PGPASSWORD": unquote(password or "")}


@contextlib.contextmanager
def server_lock(engine: sqlalchemy.engine.Engine, name: str) -> Iterator[None]:
    """A PostgreSQL advisory lock (or MySQL named lock) held for the block."""
    import sqlalchemy

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


def _rdb(url: str, heartbeat_interval: int | None, grace_period: int | None,
         stale_callback: Callable[..., Any] | None) -> BaseStorage:
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RDBStorage

    # Parallel SQLite writers wait for the file lock instead of failing at once.
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    with warnings.catch_warnings():
        # Heartbeats and the retry callback have been "experimental" since Optuna 2.8.
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RDBStorage(url, engine_kwargs=engine_kwargs,
                          heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                          heartbeat_stale_trial_callback=stale_callback)


def open_storage(url: str, *, create: bool = True, heartbeat_interval: int | None = None,
                 grace_period: int | None = None,
                 stale_callback: Callable[..., Any] | None = None) -> BaseStorage:
    """Open the storage behind a normalized URL.

    Args:
        create: make a missing journal file (and its folder); False raises
            FileNotFoundError instead, for readers that must not leave an empty study.
        heartbeat_interval, grace_period, stale_callback: Optuna's RDB heartbeat settings
            (ignored by the journal, which has no heartbeat of its own).
    """
    if is_journal(url):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        path = journal_path(url)
        if not create and not path.is_file():
            raise FileNotFoundError(f"no journal file {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path), JournalFileOpenLock(str(path))))
    if url.startswith("sqlite"):
        return _rdb(url, heartbeat_interval, grace_period, stale_callback)
    import sqlalchemy

    # Two processes creating Optuna's tables on a fresh server at once collide
    # ("type ... already exists"); take a server lock around it.
    engine = sqlalchemy.create_engine(url)
    try:
        with server_lock(engine, "harness: optuna schema"):
            return _rdb(url, heartbeat_interval, grace_period, stale_callback)
    finally:
        engine.dispose()


# File systems every node of a cluster mounts alike (a journal there is reachable by all).
SHARED_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "glusterfs", "fuse.glusterfs",
    "panfs", "wekafs", "pvfs2", "orangefs", "cifs", "smb3", "fuse.sshfs", "fuse.juicefs",
})
# A database URI would leave artifacts in a local ./mlruns: only a server (or Databricks) serves both.
_MLFLOW_SHARED_SCHEMES = ("http", "https", "databricks")


def filesystem_type(path: str | Path, mounts: str = "/proc/mounts") -> str:
    """The type of the file system holding ``path`` (its longest mount point in ``mounts``)."""
    target = Path(path).resolve()
    best, kind = -1, "unknown"
    with open(mounts) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 3:
                continue
            point = Path(fields[1].replace("\\040", " "))
            if (target == point or point in target.parents) and len(str(point)) > best:
                best, kind = len(str(point)), fields[2]
    return kind


def unshared_storage(url: str) -> str | None:
    """Why other nodes cannot reach the Optuna storage behind a normalized URL (None: they can)."""
    if url.startswith("sqlite"):
        return "is a SQLite file: use --storage postgresql://user@host/db (or a journal on a shared file system)"
    if not is_journal(url):
        return None
    kind = filesystem_type(journal_path(url).parent)
    if kind in SHARED_FILESYSTEMS:
        return None
    return (f"is a journal on a node-local file system ({kind}): use --storage postgresql://user@host/db, "
            "or a journal path on a shared file system (NFS, Lustre, GPFS, BeeGFS, CephFS)")


def unshared_tracking(uri: str) -> str | None:
    """Why other nodes cannot log to the MLflow store ``uri`` (None: they can)."""
    if _scheme(uri) in _MLFLOW_SHARED_SCHEMES and "://" in uri:
        return None
    return ("is a local MLflow store: start an `mlflow server` with a database backend and a shared "
            "artifact root, and set mlflow.tracking_uri (or --tracking-uri) to its URL, e.g. http://host:5000")
