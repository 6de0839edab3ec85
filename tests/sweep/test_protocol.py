"""tune-then-confirm: the spec section, the stages, selection on val only, fresh seeds, replay.

The trainer is a launcher that trains nothing and writes a result record whose val NME
(the objective) and test NME are known functions of the trial: the test NME is made
*anti-correlated* with val NME across configurations, so a selection that peeked at test
metrics would choose differently. Real Optuna journal storage, real SQLite MLflow store.
Run as a script (``python tests/sweep/test_protocol.py SPEC``) it is the orchestrator the
kill -9 tests start.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from harness.contracts import Attr, ExitCode, Outcome, ProtocolAttr, confirm_study, tune_study
from harness.sweep import launchers
from harness.sweep.launchers import plan_slots
from harness.sweep.orchestrator import resolve_context
from harness.sweep.protocol import protocol_sweep_status, run_protocol
from harness.sweep.spec import SpecError, load_spec
from harness.sweep.storage import open_storage
from harness.train.request import TrainRequest
from harness.train.result import TrainResult, read_result, write_result
from harness.train.workdir import hold_work_dir

LR = "optim_wrapper.optimizer.lr"
EFFECT = {"cfg/a.py": -0.8, "cfg/b.py": 0.0}  # test NME: arm a truly better by 0.8 points


def fake_trainer(request_path: Path, *, python: str, env, log_path: Path, cwd: Path, nproc: int = 1) -> int:
    """val NME = (log10 lr + 2.5)^2 + 3; test NME = 8 - val NME + arm effect + seed noise."""
    request = TrainRequest.from_json(request_path)
    lr = float(request.cfg_options.get(LR, 10 ** -1.5))
    val = (math.log10(lr) + 2.5) ** 2 + 3.0
    noise = int.from_bytes(hashlib.sha256(f"{request.seed}".encode()).digest()[:4], "big") / 2**32
    test = 8.0 - val + EFFECT[request.config] + 0.1 * (noise - 0.5)
    with hold_work_dir(request.work_dir):
        previous = read_result(request.work_dir)
        if previous is not None and previous.finished and previous.trial_id == request.trial_id:
            return ExitCode.OK
        time.sleep(float(env.get("FAKE_SECONDS", "0")))
        write_result(request.work_dir, TrainResult(
            outcome=Outcome.COMPLETE, trial_id=request.trial_id, trial_number=request.trial_number,
            objective=val, objective_metric="val/nme", test={"nme": test}))
    return ExitCode.OK


def _spec_dict(tmp_path: Path, name: str, **protocol) -> dict:
    space = {LR: {"type": "float", "low": 1e-4, "high": 1e-1, "log": True}}
    return {
        "name": name, "seeds": [0, 1],
        "sampler": {"type": "random", "seed": 7}, "budget": {"epochs": 1},
        "arms": [{"name": "a", "method": "structured", "config": "cfg/a.py", "search_space": space},
                 {"name": "b", "method": "softargmax", "config": "cfg/b.py"}],
        "resources": {"workers": 1}, "work_dir": str(tmp_path / "work"),
        "mlflow": {"tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}", "experiment": "p"},
        "protocol": {"kind": "tune-then-confirm", "tune": {"n_trials": 6},
                     "confirm": {"baseline": "b", "seeds": {"min": 3, "max": 6}, **protocol}},
    }


def _write(root: Path, data: dict) -> Path:
    path = root / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _run(spec_path: Path, root: Path, seconds: float = 0.0):
    launchers.LAUNCHERS["fake"] = fake_trainer  # one worker: a thread of this process
    spec = load_spec(spec_path, root=root)
    ctx = resolve_context(spec, root=root, host=socket.gethostname(), python=sys.executable,
                          env={"FAKE_SECONDS": str(seconds)}, launcher="fake")
    return ctx, run_protocol(ctx, plan_slots(spec.resources, cpu_count=2), poll_seconds=0.1)


def _studies(ctx):
    storage = open_storage(ctx.storage_url)
    tune = {arm: optuna.load_study(study_name=tune_study(ctx.spec.name, arm), storage=storage)
            for arm in ("a", "b")}
    return tune, optuna.load_study(study_name=confirm_study(ctx.spec.name), storage=storage)


# --- the spec section ---------------------------------------------------------------------


def test_protocol_section_parses_into_typed_dataclasses(root, tmp_path) -> None:
    spec = load_spec(_write(root, _spec_dict(tmp_path, "ok", margin=0.2, step=2)), root=root)
    p = spec.protocol
    assert p is not None and p.kind == "tune-then-confirm" and p.n_trials == 6
    assert (p.confirm.baseline, p.confirm.min_seeds, p.confirm.max_seeds, p.confirm.margin) == ("b", 3, 6, 0.2)
    assert p.confirm.looks == (3, 5, 6)
    fixed = load_spec(_write(root, _spec_dict(tmp_path, "fixed", seeds=4)), root=root).protocol
    assert fixed is not None and fixed.confirm.looks == (4,)


def test_confirmation_seeds_are_fresh() -> None:
    from harness.sweep.protocol_spec import Confirm

    seeds = Confirm("b", 3, 10, first_seed=5).seeds((0, 5, 7, 8))
    assert len(seeds) == 10 and not set(seeds) & {0, 5, 7, 8} and len(set(seeds)) == 10


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["protocol"].update(kind="tune-only"), "protocol.kind: unknown value 'tune-only'"),
    (lambda d: d["protocol"]["confirm"].update(baseline="c"), "protocol.confirm.baseline: 'c' is not an arm"),
    (lambda d: d["protocol"]["confirm"].update(seeds={"min": 5, "max": 3}), "protocol.confirm.seeds: max (3)"),
    (lambda d: d["protocol"]["confirm"].update(seeds={"min": 1, "max": 3}), "protocol.confirm.seeds: at least 2"),
    (lambda d: d["protocol"]["confirm"].update(margin=-1), "protocol.confirm.margin: must be > 0"),
    (lambda d: d["protocol"]["confirm"].update(alpha=0.7), "protocol.confirm.alpha: must lie in (0, 0.5)"),
    (lambda d: d["protocol"]["confirm"].update(metric="val/nme"), "protocol.confirm.metric: confirmation compares"),
    (lambda d: d["protocol"]["confirm"].update(seed=3), "protocol.confirm.seed: unknown key"),
    (lambda d: d["protocol"]["tune"].pop("n_trials"), "protocol.tune.n_trials: required with sampler 'random'"),
    (lambda d: d["budget"].update(n_trials=4), "budget.n_trials: not used with a protocol"),
    (lambda d: d["protocol"].pop("confirm"), "protocol.confirm: missing required key"),
])
def test_bad_protocol_input_is_one_line_naming_file_and_key(root, tmp_path, change, expected) -> None:
    data = _spec_dict(tmp_path, "bad")
    change(data)
    path = _write(root, data)
    with pytest.raises(SpecError) as err:
        load_spec(path, root=root)
    assert any(line.startswith(f"{path}: {expected}") for line in err.value.problems), err.value.problems
    assert all("\n" not in line for line in err.value.problems)


# --- the stages ------------------------------------------------------------------------------


def test_tune_select_on_val_only_then_confirm_on_fresh_seeds_and_replay(root, tmp_path) -> None:
    path = _write(root, _spec_dict(tmp_path, "proto", margin=0.05))
    ctx, status = _run(path, root)
    assert not status.missing
    tune, confirm = _studies(ctx)
    # Equal budgets: 6 trials for the searched arm; the arm without a space trains its
    # defaults once per tuning seed.
    assert len(tune["a"].get_trials(states=(TrialState.COMPLETE,))) == 6
    assert len(tune["b"].get_trials(states=(TrialState.COMPLETE,))) == 2
    choice = json.loads(confirm.user_attrs[ProtocolAttr.SELECTION])
    done = tune["a"].get_trials(states=(TrialState.COMPLETE,))
    best = min(done, key=lambda t: t.value)
    worst_val = max(done, key=lambda t: t.value)  # the best test NME, by construction
    assert choice["a"]["params"] == best.params != worst_val.params
    assert choice["a"]["val"] == pytest.approx(best.value)
    assert choice["b"]["params"] == {} and choice["b"]["space"] == "none (defaults)"
    # Confirmation: the chosen configuration, on seeds no tuning trial used.
    trials = confirm.get_trials(states=(TrialState.COMPLETE,))
    tuning_seeds = {t.user_attrs[Attr.SEED] for s in tune.values() for t in s.trials}
    seeds = {t.user_attrs[Attr.SEED] for t in trials}
    assert tuning_seeds == {0, 1} and not seeds & tuning_seeds
    assert all(t.params == {"arm": t.user_attrs[Attr.ARM]} for t in trials)
    a_runs = [t for t in trials if t.user_attrs[Attr.ARM] == "a"]
    assert [read_result(t.user_attrs[Attr.WORK_DIR]).objective for t in a_runs] == [pytest.approx(best.value)] * 3
    # The decision after round 0 (3 seeds): a is 0.8 points better, with noise of 0.03.
    round0 = json.loads(confirm.user_attrs[f"{ProtocolAttr.ROUND}0"])
    assert round0["decisions"]["a"]["state"] == "differs" and round0["decisions"]["a"]["n"] == 3
    assert len(trials) == 6 and f"{ProtocolAttr.ROUND}1" not in confirm.user_attrs
    # A re-run replays everything: no new trial, the same recorded attributes.
    before = dict(confirm.user_attrs)
    _, again = _run(path, root)
    assert not again.missing
    tune2, confirm2 = _studies(ctx)
    assert len(confirm2.trials) == 6 and sum(len(s.trials) for s in tune2.values()) == 8
    assert dict(confirm2.user_attrs) == before
    assert not protocol_sweep_status(ctx).missing


def test_no_difference_adds_seeds_in_rounds_up_to_max(root, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(EFFECT, "cfg/a.py", 0.0)
    data = _spec_dict(tmp_path, "rounds")
    data["arms"][0].pop("search_space")  # identical arms: no true difference
    data["protocol"]["tune"]["n_trials"] = 1
    ctx, status = _run(_write(root, data), root)
    assert not status.missing
    _, confirm = _studies(ctx)
    rounds = [json.loads(confirm.user_attrs[f"{ProtocolAttr.ROUND}{k}"]) for k in range(4)]
    assert [r["look"] for r in rounds] == [3, 4, 5, 6]
    assert [r["decisions"]["a"]["state"] for r in rounds] == ["continue"] * 3 + ["max"]
    assert Counter(t.user_attrs[Attr.ARM] for t in confirm.get_trials(states=(TrialState.COMPLETE,))) == \
        {"a": 6, "b": 6}


# --- kill -9 in each stage --------------------------------------------------------------------


def _orchestrator(spec_path: Path, root: Path) -> tuple[subprocess.Popen, Path]:
    # Output to a file: an undrained pipe would stall a chatty orchestrator before its kill.
    log = root / f"orchestrator-{time.time_ns()}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, __file__, str(spec_path), str(root)], cwd=root,
                                stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    return proc, log


def _wait_for(predicate, timeout: float) -> None:
    end = time.time() + timeout
    while not predicate():
        assert time.time() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_in_each_stage_then_rerun_completes_without_duplicates(root, tmp_path) -> None:
    path = _write(root, _spec_dict(tmp_path, "kill", margin=0.05))
    spec = load_spec(path, root=root)
    ctx = resolve_context(spec, root=root, host=socket.gethostname(), python=sys.executable, env={})
    storage = open_storage(ctx.storage_url)

    def running(study: str) -> bool:
        try:
            s = optuna.load_study(study_name=study, storage=storage)
        except KeyError:
            return False
        done = len(s.get_trials(states=(TrialState.COMPLETE,)))
        return done >= 1 and bool(s.get_trials(states=(TrialState.RUNNING,)))

    # A kill while arm a is tuning, then a kill during confirmation round 0.
    for study in (tune_study(spec.name, "a"), confirm_study(spec.name)):
        proc, log = _orchestrator(path, root)
        _wait_for(lambda study=study, proc=proc: running(study) or proc.poll() is not None, 120)
        assert proc.poll() is None, log.read_text()[-3000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = optuna.load_study(study_name=study, storage=storage)
        assert killed.get_trials(states=(TrialState.RUNNING,))  # the kill left a trial running
    again, log = _orchestrator(path, root)
    again.wait(timeout=300)
    assert again.returncode == 0, log.read_text()[-3000:]
    tune, confirm = _studies(ctx)
    for s in (*tune.values(), confirm):
        complete = s.get_trials(states=(TrialState.COMPLETE,))
        slots = Counter(t.user_attrs[Attr.SLOT] for t in complete)
        assert set(slots.values()) == {1}, (s.study_name, slots)  # one answer per planned trial
        assert not s.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    assert len(tune["a"].get_trials(states=(TrialState.COMPLETE,))) == 6
    assert len(confirm.get_trials(states=(TrialState.COMPLETE,))) == 6
    assert any(t.state == TrialState.FAIL for t in confirm.trials)  # the killed attempt, re-queued
    assert ProtocolAttr.SELECTION in confirm.user_attrs and f"{ProtocolAttr.ROUND}0" in confirm.user_attrs


if __name__ == "__main__":  # the orchestrator process of the kill -9 tests
    spec_file, repo_root = Path(sys.argv[1]), Path(sys.argv[2])
    _, final = _run(spec_file, repo_root, seconds=0.3)
    sys.exit(1 if final.missing else 0)
