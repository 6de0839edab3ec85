"""Chaos: kill -9 every kind of process of a real sweep at seeded random moments, re-run
until it says it is complete, and check that every planned trial ended exactly once.

Kinds: the orchestrator, a sweep worker, a trainer, a trainer in the middle of a
checkpoint save (caught by its temporary file), and the worst one: a worker stopped while
its trainer finishes, then killed (the trainer's result must still count). Real
`harness sweep run` processes, real trainers, the journal and PostgreSQL storages, a real
SQLite MLflow store. The figures are printed and written to ``chaos-<storage>.json``.
"""
from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import sweep_e2e as e2e
from optuna.trial import TrialState

from harness.contracts import Attr
from harness.sweep.storage import normalize_url
from harness.train.result import read_result

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]
KINDS = ("stop-then-kill", "trainer", "save", "worker", "orchestrator")


def _procs() -> dict[int, tuple[int, str, str]]:
    """pid -> (ppid, state, command line) of every process, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (int(fields[1]), fields[0], args)
    return out


def _descendants(root: int) -> dict[int, str]:
    procs, found, frontier = _procs(), {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, args) in procs.items():
            if ppid == parent and pid not in found:
                found[pid] = args
                frontier.append(pid)
    return found


def _trainers(root: int) -> dict[int, str]:
    return {p: a for p, a in _descendants(root).items() if "harness.train.worker" in a}


def _workers(root: int) -> dict[int, str]:
    return {p: a for p, a in _descendants(root).items() if "spawn_main" in a}


def _alive(pid: int) -> bool:
    info = _procs().get(pid)
    return info is not None and info[1] != "Z"


def _wait(predicate, timeout: float) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _work_dir(trainer_args: str) -> Path:
    return Path(trainer_args.split()[-1]).parent


def _kill(kind: str, proc, rng: random.Random, log: dict) -> bool:
    """Do one kill of ``kind`` on the running sweep ``proc``; False if it ended first."""
    if not _wait(lambda: _trainers(proc.pid) or proc.poll() is not None, 300):
        raise AssertionError("no trainer started within 300 s")
    if proc.poll() is not None:
        return False
    if kind == "save":
        # A tiny model saves in milliseconds: watch for the temporary file closely.
        def saving() -> Path | None:
            for pid, args in _trainers(proc.pid).items():
                if list(_work_dir(args).glob(".*.part")):
                    return pid
            return None
        pid = None
        end = time.time() + 60
        while pid is None and time.time() < end and proc.poll() is None:
            pid = saving()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            log["kills"]["save"] += 1
            return True
        log["saves_missed"] += 1
        kind = "trainer"  # no save caught: a plain trainer kill instead
    time.sleep(rng.uniform(0.5, 3.0))
    if proc.poll() is not None:
        return False
    if kind == "orchestrator":
        os.kill(proc.pid, signal.SIGKILL)
    elif kind == "worker":
        workers = _workers(proc.pid)
        if not workers:
            return False
        os.kill(rng.choice(sorted(workers)), signal.SIGKILL)
    elif kind == "trainer":
        trainers = _trainers(proc.pid)
        if not trainers:
            return False
        os.kill(rng.choice(sorted(trainers)), signal.SIGKILL)
    elif kind == "stop-then-kill":
        trainers = _trainers(proc.pid)
        if not trainers:
            return False
        pid = rng.choice(sorted(trainers))
        work_dir, worker = _work_dir(trainers[pid]), _procs()[pid][0]
        os.kill(worker, signal.SIGSTOP)
        try:
            # The trainer finishes while its worker cannot read the result.
            assert _wait(lambda: not _alive(pid), 400), "the trainer did not finish"
        finally:
            os.kill(worker, signal.SIGKILL)
        log["stopped_then_killed"].append(str(work_dir))
    log["kills"][kind] += 1
    return True


@pytest.mark.parametrize("storage", ["journal", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_chaos_every_planned_trial_ends_exactly_once(storage, tmp_path, synth, request) -> None:
    url = request.getfixturevalue("postgres_url") if storage == "postgres" else None
    name = f"chaos{storage[:2]}"
    arms = [e2e.arm("structured", synth), e2e.arm("softargmax", synth, method="softargmax")]
    spec = e2e.spec(tmp_path, name, arms, seeds=[0, 1, 2], epochs=2, workers=2, storage=url,
                    max_retry=6)
    rng = random.Random(1234 if storage == "journal" else 4321)
    kinds = list(KINDS)
    rng.shuffle(kinds)
    # The kill nobody survived before comes first, while trials are still queued.
    kinds.remove("stop-then-kill")
    kinds.insert(0, "stop-then-kill")
    log = {"kills": Counter(), "stopped_then_killed": [], "runs": 0, "exit_codes": [],
           "saves_missed": 0}
    started = time.time()

    def finish(proc) -> str:
        try:
            out, _ = proc.communicate(timeout=900)
        finally:
            if proc.poll() is None:
                proc.kill()
        log["exit_codes"].append(proc.returncode)
        return out

    # All kills land in as few orchestrator runs as possible: a sweep that completes
    # has nothing left to kill.
    proc, log["runs"] = e2e.sweep(spec), 1
    while kinds:
        if _kill(kinds[0], proc, rng, log):
            kinds.pop(0)
        if proc.poll() is not None or not kinds:
            out = finish(proc)
            assert proc.returncode in (0, 1, -signal.SIGKILL), out[-3000:]
            if kinds:
                assert proc.returncode != 0, f"the sweep completed before the kills {kinds}"
                proc, log["runs"] = e2e.sweep(spec), log["runs"] + 1
    for _ in range(4):  # then re-run until the sweep says it is complete
        proc, log["runs"] = e2e.sweep(spec), log["runs"] + 1
        out = finish(proc)
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, out[-4000:]

    storage_url = normalize_url(url, base=e2e.REPO) if url else f"journal:{tmp_path / 'work' / 'optuna.journal'}"
    study = e2e.study(storage_url, name)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    slots = Counter(t.user_attrs[Attr.SLOT] for t in complete)
    assert len(slots) == 6 and set(slots.values()) == {1}, slots  # one COMPLETE per planned trial
    client, parents, runs = e2e.children(tmp_path, name)
    assert len(parents) == 1
    ids = Counter(r.data.tags["harness.trial_id"] for r in runs)
    assert len(ids) == 6 and set(ids.values()) == {1}, ids  # one MLflow child per trial id
    by_id = {r.data.tags["harness.trial_id"]: r for r in runs}
    for t in complete:
        run = by_id[t.user_attrs[Attr.TRIAL_ID]]
        assert run.info.status == "FINISHED"
        steps = {m.step for m in client.get_metric_history(run.info.run_id, "val/nme")}
        assert steps == {1, 2}
        assert "test/nme" in run.data.metrics
        assert run.data.tags["optuna.trial_number"] == str(t.number)
        last = max(client.get_metric_history(run.info.run_id, "val/nme"), key=lambda m: m.step)
        assert t.value == pytest.approx(last.value)
    # The stopped-then-killed worker's trial: COMPLETE with the value its trainer logged.
    assert log["stopped_then_killed"], "the stop-then-kill scenario did not happen"
    for work_dir in log["stopped_then_killed"]:
        record = read_result(work_dir)
        assert record is not None and record.objective is not None
        (t,) = [t for t in complete if t.user_attrs[Attr.WORK_DIR] == work_dir]
        assert t.value == pytest.approx(record.objective)
    # Nothing of the sweep is left running.
    assert _wait(lambda: not [p for p, (_, st, a) in _procs().items()
                              if str(tmp_path) in a and st != "Z"], 60)
    figures = {"storage": storage, "kills": dict(log["kills"]), "saves_missed": log["saves_missed"],
               "orchestrator_runs": log["runs"],
               "exit_codes": log["exit_codes"], "optuna_trials": len(study.trials),
               "attempts_by_state": dict(Counter(t.state.name for t in study.trials)),
               "planned": 6, "complete": len(complete), "mlflow_children": len(runs),
               "duplicates": sum(v - 1 for v in ids.values()) + sum(v - 1 for v in slots.values()),
               "reused_records": sum(Attr.REUSED_FROM in t.user_attrs for t in complete),
               "seconds": round(time.time() - started)}
    print("chaos figures:", json.dumps(figures))
    (e2e.REPO / "work_dirs").mkdir(exist_ok=True)
    (e2e.REPO / "work_dirs" / f"chaos-{storage}.json").write_text(json.dumps(figures, indent=2))
