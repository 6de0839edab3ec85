"""A throw-away PostgreSQL cluster for benchmarks, started as tests/sweep/conftest.py does.

``initdb`` as the ``postgres`` user (via ``runuser`` when we are root), scram password
auth, listening on 127.0.0.1 on a free port, socket dir and data in a fresh temp dir;
stopped (``-m immediate``) and removed on exit.

    with throwaway_postgres() as url:   # postgresql://postgres:...@127.0.0.1:PORT/optuna
        ...
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

__all__ = ["PostgresUnavailable", "throwaway_postgres"]


class PostgresUnavailable(RuntimeError):
    """No server binaries, no ``postgres`` user, or not allowed to become it."""


def _free_port() -> int:
    from harness.train.distributed import free_port

    return free_port()


@contextlib.contextmanager
def throwaway_postgres(database: str = "optuna", *, settings: dict[str, str] | None = None
                       ) -> Iterator[str]:
    """Start a cluster, create ``database``, yield its URL (password URL-encoded).

    ``settings`` are extra server options (``-c name=value``), e.g. ``max_connections``.
    """
    hint = "install Debian's postgresql (`apt-get install -y postgresql`) or pass --storage URL"
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise PostgresUnavailable(f"no PostgreSQL server here: {hint}")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(f"no `postgres` user: {hint}") from None
    if os.geteuid() not in (0, user.pw_uid):
        raise PostgresUnavailable("starting a cluster as `postgres` needs root (or that user)")
    as_pg = [] if os.geteuid() == user.pw_uid else ["runuser", "-u", "postgres", "--"]
    if as_pg and shutil.which("runuser") is None:
        raise PostgresUnavailable("runuser (util-linux) is needed to start PostgreSQL as `postgres`")
    bindir = Path(bins[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="harness-bench-pg-"))  # /tmp: `postgres` can enter it
    data = base / "data"
    os.chown(base, user.pw_uid, user.pw_gid)
    password = "b3nch@pw:x"  # "@" and ":" as in the tests: the URL must be encoded right
    (base / "pw").write_text(password)
    os.chown(base / "pw", user.pw_uid, user.pw_gid)
    env = {**os.environ, "PGPASSWORD": password}

    def run(*cmd: str) -> None:
        proc = subprocess.run([*as_pg, *cmd], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{Path(cmd[0]).name} failed: {proc.stderr.strip()[-800:]}")

    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {base}" + "".join(
        f" -c {k}={v}" for k, v in (settings or {}).items())
    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth=scram-sha-256", f"--pwfile={base / 'pw'}", "-E", "UTF8")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
            options, "start")
        started = True
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            database)
        yield f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/{database}"
    finally:
        if started:
            with contextlib.suppress(PostgresUnavailable):
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
