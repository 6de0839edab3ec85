"""Shared fixtures for sweep tests: a tiny repo root with config files and a spec writer."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.train.distributed import free_port
from needs import missing

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repo-like root holding two (empty) config files the specs point at."""
    (tmp_path / "cfg").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / "cfg" / name).write_text("# test config\n")
    return tmp_path


def _base_spec(**changes) -> dict:
    spec = {
        "name": "t",
        "arms": [{"name": "a", "method": "structured", "config": "cfg/a.py"},
                 {"name": "b", "method": "softargmax", "config": "cfg/b.py"}],
        "seeds": [0, 1],
        "budget": {"epochs": 2},
    }
    spec.update(changes)
    return spec


@pytest.fixture
def base_spec():
    """A function returning a valid two-arm spec dict, with top-level keys replaced."""
    return _base_spec


@pytest.fixture
def write_spec(root: Path):
    def write(data: dict, name: str = "spec.yaml") -> Path:
        path = root / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path
    return write


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL cluster on 127.0.0.1, run as the ``postgres`` user.

    Skips unless Debian's postgresql is installed (``apt-get install -y postgresql``,
    which .ci/run does) and the suite runs as root or as ``postgres``.
    """
    import glob
    import os
    import pwd
    import shutil
    import subprocess
    import tempfile
    from urllib.parse import quote

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    hint = "install Debian's postgresql (`apt-get install -y postgresql`) to run it"
    if not bins:
        missing(f"no PostgreSQL server here: {hint}")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        missing(f"no `postgres` user: {hint}")
    if os.geteuid() not in (0, user.pw_uid):
        missing("the PostgreSQL test starts a cluster as `postgres`: run the suite as root")
    bindir = Path(bins[-1]).parent
    # Not under tmp_path: pytest's temp root is 0700 root, which `postgres` cannot enter.
    base = Path(tempfile.mkdtemp(prefix="harness-pg-"))
    data = base / "data"
    os.chown(base, user.pw_uid, user.pw_gid)
    as_pg = [] if os.geteuid() == user.pw_uid else ["runuser", "-u", "postgres", "--"]
    runuser = shutil.which("runuser")
    if as_pg and runuser is None:
        missing("runuser (util-linux) is needed to start PostgreSQL as `postgres`")
    port = free_port()
    # A real password (scram), so that a URL losing it would fail to connect.
    password = "s3cr@t:pw"
    (base / "pw").write_text(password)
    os.chown(base / "pw", user.pw_uid, user.pw_gid)
    env = {**os.environ, "PGPASSWORD": password}
    run = lambda *cmd: subprocess.run([*as_pg, *cmd], check=True, capture_output=True, env=env)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
        f"--pwfile={base / 'pw'}", "-E", "UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {base}", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "optuna")
        # URL-encoded, as SQLAlchemy needs for "@" and ":" in a password.
        yield f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{port}/optuna"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "synth"
    subprocess.run([sys.executable, "-m", "harness.cli.main", "data", "synth", "--out", str(out),
                    "--n-train", "8", "--n-val", "4", "--n-test", "4"], check=True, cwd=REPO,
                   capture_output=True)
    return out


