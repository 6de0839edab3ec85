"""A single-node SLURM cluster for the tests: munged, slurmctld and slurmd in a temp dir.

What works here (Debian's slurm-wlm 22.05 and munge 0.5, as root): a private munge key
and socket (``AuthInfo=socket=``), ``proctrack/linuxproc`` and ``task/none`` (no cgroups
needed), ``select/cons_tres`` with ``CR_CPU`` so two one-CPU array tasks share the node,
no accounting database (sacct then says so), free ports, ``slurmctld -i`` (no old state).
Every daemon runs in the foreground as a child of the test process and is stopped by pid.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from harness.train.distributed import free_port

__all__ = ["Cluster", "start_cluster", "start_mlflow_server", "DAEMONS"]

DAEMONS = ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd")

_CONF = """ClusterName=harness-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={base}/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SlurmdTimeout=30
KillWait=5
InactiveLimit=0
MinJobAge=300
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class Cluster:
    base: Path
    env: dict[str, str]  # the test's environment plus SLURM_CONF
    procs: list[subprocess.Popen[bytes]]

    def run(self, *cmd: str) -> str:
        return subprocess.run(list(cmd), env=self.env, check=True, capture_output=True, text=True).stdout

    def log(self) -> str:
        return "\n".join((self.base / f).read_text(errors="replace")[-3000:]
                         for f in ("slurmctld.log", "slurmd.log") if (self.base / f).exists())

    def stop(self) -> None:
        subprocess.run(["scancel", "--me"], env=self.env, capture_output=True)
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def why_not() -> str | None:
    """Why no cluster can start here, or None."""
    hint = "install Debian's slurm-wlm and munge (`apt-get install -y slurm-wlm munge`, as .ci/run does)"
    missing = [d for d in DAEMONS if not os.access(d, os.X_OK)]
    if missing or shutil.which("sbatch") is None:
        return f"no SLURM here ({', '.join(missing) or 'sbatch'} missing): {hint}"
    if os.geteuid() != 0:
        return "the SLURM tests start slurmd, which must run as root: run the suite as root"
    return None


def start_cluster(cpus: int = 2, timeout: float = 60.0) -> Cluster:
    """Start munged, slurmctld and slurmd; returns once the node is idle."""
    # Not under pytest's tmp_path: munged refuses a socket whose directories others can't enter.
    base = Path(tempfile.mkdtemp(prefix="harness-slurm-"))
    base.chmod(0o755)
    for sub in ("state", "spool"):
        (base / sub).mkdir()
    key = base / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    host = socket.gethostname().split(".")[0]
    conf = base / "slurm.conf"
    conf.write_text(_CONF.format(host=host, base=base, cpus=cpus, ctld_port=free_port(), d_port=free_port()))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs: list[subprocess.Popen[bytes]] = []
    cluster = Cluster(base, env, procs)
    try:
        # The daemons keep their own copies of the descriptor; ours closes after the starts.
        with open(base / "daemons.out", "ab") as out:
            procs.append(subprocess.Popen(
                ["/usr/sbin/munged", "--foreground", "--force", f"--socket={base}/munge.sock",
                 f"--key-file={key}", f"--log-file={base}/munged.log", f"--pid-file={base}/munged.pid",
                 f"--seed-file={base}/munged.seed"], stdout=out, stderr=out))
            _wait(lambda: (base / "munge.sock").exists(), timeout, "munged's socket", cluster)
            procs.append(subprocess.Popen(["/usr/sbin/slurmctld", "-D", "-i"], env=env, stdout=out, stderr=out))
            procs.append(subprocess.Popen(["/usr/sbin/slurmd", "-D", "-N", host], env=env, stdout=out, stderr=out))
        _wait(lambda: _node_state(env) == "idle", timeout, "the node to be idle", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _node_state(env: dict[str, str]) -> str:
    proc = subprocess.run(["sinfo", "--noheader", "--format=%T"], env=env, capture_output=True, text=True)
    return proc.stdout.strip()


def _wait(predicate, timeout: float, what: str, cluster: Cluster) -> None:  # type: ignore[no-untyped-def]
    end = time.time() + timeout
    while time.time() < end:
        for proc in cluster.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}) while waiting for {what}:\n"
                                   + (cluster.base / "daemons.out").read_text(errors="replace")[-2000:]
                                   + cluster.log())
        if predicate():
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}:\n{cluster.log()}")


def _healthy(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def start_mlflow_server(base: Path, timeout: float = 120.0) -> tuple[subprocess.Popen[bytes], str]:
    """``mlflow server`` on a free port of 127.0.0.1, its store and artifacts under ``base``."""
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--backend-store-uri", f"sqlite:///{base / 'mlflow.db'}",
               "--artifacts-destination", str(base / "artifacts")]
    with open(base / "server.out", "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out)
    uri = f"http://127.0.0.1:{port}"
    end = time.time() + timeout
    while not _healthy(uri):
        if proc.poll() is not None or time.time() > end:
            proc.kill()
            raise RuntimeError(f"mlflow server did not start: {(base / 'server.out').read_text()[-2000:]}")
        time.sleep(0.5)
    return proc, uri
