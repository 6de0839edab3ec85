"""Storages, the study lock, queueing without duplicates, and stale-trial recovery (real Optuna storages)."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from harness.sweep.orchestrator import enqueue_missing
from harness.sweep.plan import planned_trials
from harness.sweep.recovery import ATTEMPT_ATTRS, owner_attrs, recover_stale
from harness.sweep.spec import load_spec
from harness.sweep.storage import normalize_url, open_storage, redact, split_password, study_lock


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://bob:s3cr@t@db:5432/optuna") == "postgresql://bob:***@db:5432/optuna"
    assert redact("postgresql://bob@db/optuna") == "postgresql://bob@db/optuna"
    assert redact("journal:/w/optuna.journal") == "journal:/w/optuna.journal"


def test_password_leaves_the_url_for_the_environment() -> None:
    assert split_password("postgresql+psycopg2://bob:s3%3Acr%40t@db:5432/optuna") == \
        ("postgresql+psycopg2://bob@db:5432/optuna", {"PGPASSWORD": "s3:cr@t"})
    assert split_password("journal:/w/o.journal") == ("journal:/w/o.journal", {})


def test_normalize_url(tmp_path: Path) -> None:
    assert normalize_url("runs/s.journal", base=tmp_path) == f"journal:{tmp_path / 'runs/s.journal'}"
    assert normalize_url("sqlite:///x.db", base=tmp_path) == "sqlite:///x.db"
    assert normalize_url("postgresql+psycopg2://u@h/d", base=tmp_path).startswith("postgresql+")


def _hold_lock(url: str, hold: float, out: str) -> None:
    storage = open_storage(url)
    with study_lock(url, "s", storage):
        Path(out).write_text(f"{time.time()}")
        time.sleep(hold)


def test_study_lock_excludes_other_processes(tmp_path: Path) -> None:
    url = f"journal:{tmp_path / 'optuna.journal'}"
    proc = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(url, 1.5, str(tmp_path / "t")))
    proc.start()
    while not (tmp_path / "t").exists():
        time.sleep(0.05)
    start = time.time()
    with study_lock(url, "s", open_storage(url)):
        waited = time.time() - start
    proc.join()
    assert waited > 0.8


@pytest.fixture
def grid_study(root, write_spec, base_spec, tmp_path):
    spec = load_spec(write_spec(base_spec()), root=root)
    storage = open_storage(f"journal:{tmp_path / 'optuna.journal'}")
    study = optuna.create_study(study_name="t", storage=storage)
    return spec, study


def test_enqueue_is_idempotent_and_retries_only_retryable_failures(grid_study) -> None:
    spec, study = grid_study
    planned = planned_trials(spec)
    assert len(planned) == 4  # 2 arms x 2 seeds
    assert enqueue_missing(study, planned, max_retry=1) == 4
    assert enqueue_missing(study, planned, max_retry=1) == 0
    outcomes = [("complete", None), ("diverged", TrialState.FAIL), ("bad_input", TrialState.FAIL),
                ("pruned", TrialState.PRUNED)]
    for name, state in outcomes:
        trial = study.ask()
        if state is None:
            study.tell(trial, 1.0)
            continue
        if state == TrialState.FAIL:
            trial.set_user_attr("harness.failure", name)
        study.tell(trial, state=state)
    # Only the bad-input trial comes back (its data may exist now); a diverged one would
    # diverge again.
    assert enqueue_missing(study, planned, max_retry=1) == 1
    again = study.ask()
    study.tell(again, state=TrialState.FAIL)
    assert enqueue_missing(study, planned, max_retry=1) == 0  # retry budget spent
    assert not study.get_trials(states=(TrialState.WAITING,))
    # --retry-failed: one more attempt for the spent one, and only one per call.
    assert enqueue_missing(study, planned, max_retry=1, retry_failed=True) == 1
    assert enqueue_missing(study, planned, max_retry=1, retry_failed=True) == 0


def test_tpe_slots_are_numbered_and_seeded_in_rotation(root, write_spec, base_spec) -> None:
    spec = load_spec(write_spec(base_spec(sampler={"type": "tpe"},
                                          budget={"epochs": 1, "n_trials": 3})), root=root)
    planned = planned_trials(spec)
    assert [p.slot for p in planned] == ["slot-0", "slot-1", "slot-2"]
    assert [p.user_attrs["harness.seed"] for p in planned] == [0, 1, 0]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _running_trial(study, pid: int, host: str = "h1"):
    study.enqueue_trial({"x": 1.0}, user_attrs={"harness.slot": "s1"})
    trial = study.ask()
    trial.suggest_float("x", 0, 2)
    for k, v in owner_attrs(host, pid).items():
        trial.set_user_attr(k, v)
    trial.set_user_attr("harness.failure", "left over from an earlier attempt")
    return trial


def test_dead_owner_on_this_host_is_failed_and_requeued_once(tmp_path: Path) -> None:
    storage = open_storage(f"journal:{tmp_path / 'optuna.journal'}")
    study = optuna.create_study(study_name="s", storage=storage)
    _running_trial(study, _dead_pid())
    kwargs = dict(host="h1", heartbeat_dir=tmp_path / "hb", grace_period=3600, max_retry=1)
    failed = recover_stale(study, **kwargs)
    assert [t.number for t in failed] == [0]
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].params == {"x": 1.0}
    assert waiting[0].user_attrs == {"harness.slot": "s1"}  # no attempt attrs carried over
    assert not set(ATTEMPT_ATTRS) & set(waiting[0].user_attrs)
    # The retry dies too: failed again, but the retry budget (1) is spent.
    retry = study.ask()
    for k, v in owner_attrs("h1", _dead_pid()).items():
        retry.set_user_attr(k, v)
    assert len(recover_stale(study, **kwargs)) == 1
    assert not study.get_trials(states=(TrialState.WAITING,))
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]


def test_live_owner_is_not_stale_but_silent_remote_owner_is(tmp_path: Path) -> None:
    storage = open_storage(f"journal:{tmp_path / 'optuna.journal'}")
    study = optuna.create_study(study_name="s", storage=storage)
    _running_trial(study, os.getpid())
    hb = tmp_path / "hb"
    hb.mkdir()
    (hb / "s-0").touch()
    assert recover_stale(study, host="h1", heartbeat_dir=hb, grace_period=60, max_retry=1) == []
    # Another host's trial whose heartbeat file went quiet for longer than the grace period.
    old = time.time() - 120
    os.utime(hb / "s-0", (old, old))
    failed = recover_stale(study, host="h2", heartbeat_dir=hb, grace_period=60, max_retry=1)
    assert [t.number for t in failed] == [0]


def test_rdb_storage_has_heartbeat_and_retry(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'o.db'}", heartbeat_interval=5,
                           grace_period=10, max_retry=3)
    assert storage.get_heartbeat_interval() == 5
    assert storage.get_heartbeat_stale_trial_callback()._max_retry == 3


@pytest.mark.postgres
def test_postgres_storage_lock_and_queue(postgres_url, root, write_spec, base_spec) -> None:
    spec = load_spec(write_spec(base_spec()), root=root)
    postgres_url = normalize_url(postgres_url, base=root)  # picks the installed driver
    storage = open_storage(postgres_url, heartbeat_interval=5, grace_period=10)
    study = optuna.create_study(study_name="pg", storage=storage)
    with study_lock(postgres_url, "pg", storage):
        assert enqueue_missing(study, planned_trials(spec), max_retry=1) == 4
    with study_lock(postgres_url, "pg", storage):  # re-entrant across calls, released after
        assert enqueue_missing(study, planned_trials(spec), max_retry=1) == 0
