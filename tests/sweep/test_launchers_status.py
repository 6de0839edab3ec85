"""Device slots (simulated GPUs), launchers, status summaries and the plain progress log."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import optuna
from optuna.trial import TrialState

from harness.sweep.launchers import LAUNCHERS, launch_subprocess, plan_slots, trainer_command
from harness.sweep.progress import Progress, eta_seconds
from harness.sweep.spec import Resources
from harness.sweep.status import format_status, summarize, trials_csv


def test_gpu_slots_round_robin_over_gpus() -> None:
    slots = plan_slots(Resources(device="cuda", gpus=(0, 3), trials_per_gpu=2), cpu_count=16)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in slots] == ["0", "3", "0", "3"]
    assert all(s.device == "cuda" and s.cpu_threads == 4 for s in slots)
    assert slots[0].env["OMP_NUM_THREADS"] == "4"
    # Fewer workers than slots still use both GPUs.
    two = plan_slots(Resources(device="cuda", gpus=(0, 3), trials_per_gpu=2, workers=2), cpu_count=16)
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in two] == ["0", "3"]
    assert two[0].cpu_threads == 8


def test_ddp_slots_group_gpus() -> None:
    slots = plan_slots(Resources(device="cuda", gpus=(0, 1, 2, 3), gpus_per_trial=2), cpu_count=16)
    assert [(s.env["CUDA_VISIBLE_DEVICES"], s.nproc, s.cpu_threads) for s in slots] == \
        [("0,1", 2, 4), ("2,3", 2, 4)]


def test_trainer_command_uses_torchrun_for_ddp_slots() -> None:
    assert trainer_command(Path("r.json"), python="py") == ["py", "-m", "harness.train.worker", "r.json"]
    cmd = trainer_command(Path("r.json"), python="py", nproc=2)
    assert cmd[:4] == ["py", "-m", "torch.distributed.run", "--nproc_per_node=2"]
    assert cmd[-3:] == ["-m", "harness.train.worker", "r.json"]


def test_cpu_slots_split_cores_and_hide_gpus() -> None:
    slots = plan_slots(Resources(workers=2), cpu_count=2)
    assert [(s.device, s.cpu_threads, s.env["CUDA_VISIBLE_DEVICES"]) for s in slots] == \
        [("cpu", 1, ""), ("cpu", 1, "")]
    assert plan_slots(Resources(workers=3, cpu_threads_per_trial=2), cpu_count=2)[2].cpu_threads == 2
    assert plan_slots(Resources(), cpu_count=8)[0].cpu_threads == 8


def test_launchers_table_and_subprocess_exit_code(tmp_path: Path) -> None:
    assert set(LAUNCHERS) == {"subprocess", "dry-run", "record-only"}
    kwargs = dict(python=sys.executable, env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "log",
                  cwd=tmp_path)
    assert LAUNCHERS["dry-run"](tmp_path / "r.json", **kwargs) == 0
    # A request the worker cannot read: the real worker answers BAD_INPUT (2).
    (tmp_path / "r.json").write_text("{not json")
    code = launch_subprocess(tmp_path / "r.json", **{**kwargs, "cwd": Path(__file__).parents[2]})
    assert code == 2
    assert "cannot read train request" in (tmp_path / "log").read_text()


def _study() -> optuna.Study:
    study = optuna.create_study()
    for arm, value, state in [("a", 2.0, None), ("a", 4.0, None), ("b", 1.0, None),
                              ("b", None, TrialState.PRUNED), ("b", None, TrialState.FAIL)]:
        t = study.ask()
        t.set_user_attr("harness.arm", arm)
        study.tell(t, value) if state is None else study.tell(t, state=state)
    study.enqueue_trial({}, user_attrs={"harness.arm": "a"})
    return study


def test_summarize_counts_best_and_arms() -> None:
    status = summarize(_study().trials)
    assert status.counts["COMPLETE"] == 3 and status.counts["WAITING"] == 1
    assert status.n_done == 4 and status.n_left == 1
    assert status.best["value"] == 1.0 and status.best["arm"] == "b"
    a = next(x for x in status.arms if x["arm"] == "a")
    assert a["n_complete"] == 2 and a["mean"] == 3.0 and a["best"] == 2.0
    text = format_status(status, title="sweep t")
    assert "3 complete, 1 pruned, 1 fail, 0 running, 1 waiting" in text
    assert trials_csv(_study().trials).splitlines()[0].startswith("number,state,value,arm")


def test_plain_progress_logs_once_per_change(caplog) -> None:
    status = summarize(_study().trials)
    assert eta_seconds(status, workers=1) is not None
    with (caplog.at_level(logging.INFO, logger="harness.sweep.progress"),
          Progress("t", workers=2, tty=False) as progress):
        progress(status)
        progress(status)
    lines = [r.message for r in caplog.records if r.name == "harness.sweep.progress"]
    assert len(lines) == 1 and "complete=3" in lines[0] and "best=1.0000 (b, #2)" in lines[0]


def test_tty_progress_draws_a_rich_table() -> None:
    import io

    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    with Progress("t", workers=1, tty=True, console=console) as progress:
        progress(summarize(_study().trials))
    text = buf.getvalue()
    assert "sweep t" in text and "complete" in text and "1.0000 (b, #2)" in text
