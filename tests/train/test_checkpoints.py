"""Crash-safe checkpoints: a kill at any moment of a save leaves a resumable work dir."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from mlflow import MlflowClient

from harness.mm.checkpoint import is_temporary, write_atomically
from harness.train.resume import pick_resume_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def _save(path: Path, epoch: int) -> Path:
    torch.save({"meta": {"epoch": epoch}, "state_dict": {"w": torch.arange(4096.0) * epoch}}, path)
    return path


def _point(work_dir: Path, name: str) -> None:
    (work_dir / "last_checkpoint").write_text(str(work_dir / name))


# --- choosing the checkpoint to resume from ---------------------------------------------

def test_last_checkpoint_is_preferred(tmp_path):
    _save(tmp_path / "epoch_1.pth", 1)
    _save(tmp_path / "epoch_2.pth", 2)
    _point(tmp_path, "epoch_1.pth")
    assert pick_resume_checkpoint(tmp_path) == tmp_path / "epoch_1.pth"


def test_dangling_last_checkpoint_falls_back_to_the_next_one(tmp_path, caplog):
    _save(tmp_path / "epoch_1.pth", 1)
    _point(tmp_path, "epoch_2.pth")
    with caplog.at_level(logging.WARNING, logger="harness.train.resume"):
        assert pick_resume_checkpoint(tmp_path) == tmp_path / "epoch_1.pth"
    (line,) = caplog.messages
    assert "epoch_2.pth" in line and "file not found" in line


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip_a_byte(data: bytes) -> bytes:
    # inside the tensor data: torch.load alone accepts this file
    return data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]


@pytest.mark.parametrize("damage, reason", [(_truncate, "does not load"), (_flip_a_byte, "CRC mismatch")])
def test_damaged_newest_checkpoint_is_skipped(tmp_path, caplog, damage, reason):
    _save(tmp_path / "epoch_9.pth", 9)
    newest = _save(tmp_path / "epoch_10.pth", 10)
    newest.write_bytes(damage(newest.read_bytes()))
    _point(tmp_path, "epoch_10.pth")
    with caplog.at_level(logging.WARNING, logger="harness.train.resume"):
        # numeric order: epoch_10 before epoch_9, though "epoch_9" sorts after as text
        assert pick_resume_checkpoint(tmp_path) == tmp_path / "epoch_9.pth"
    (line,) = caplog.messages
    assert "epoch_10.pth" in line and reason in line


def test_leftover_temporary_file_is_never_chosen(tmp_path):
    _save(tmp_path / "epoch_1.pth", 1)
    temporary = _save(tmp_path / f".epoch_2.pth.{os.getpid()}.part", 2)
    assert is_temporary(temporary)
    _point(tmp_path, temporary.name)
    assert pick_resume_checkpoint(tmp_path) == tmp_path / "epoch_1.pth"


def test_nothing_to_resume_from(tmp_path, caplog):
    assert pick_resume_checkpoint(tmp_path / "missing") is None
    assert pick_resume_checkpoint(tmp_path) is None
    (tmp_path / "last_checkpoint").write_text("")
    with caplog.at_level(logging.WARNING, logger="harness.train.resume"):
        assert pick_resume_checkpoint(tmp_path) is None
    assert "empty" in caplog.text


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "last_checkpoint"
    write_atomically(b"epoch_1.pth", target)
    with pytest.raises(TypeError):
        write_atomically("not bytes", target)  # type: ignore[arg-type]
    assert target.read_bytes() == b"epoch_1.pth"
    assert [p.name for p in tmp_path.iterdir()] == ["last_checkpoint"]


# --- killed during a save, then re-run: real trainer processes --------------------------

# The trainer process, with a test-only pause at one moment of the epoch-2 checkpoint save:
#   before_save: MMEngine's before_save_checkpoint stage (its stock hook has by then
#                removed the previous checkpoint; the atomic one has not written anything)
#   before_rename: the complete temporary file is written, not yet renamed into place
_CHILD = r"""
import os, sys, time
from pathlib import Path

request_file, marker, point = sys.argv[1:]

def pause():
    Path(marker).touch()
    time.sleep(600)

if point == "during_val":
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class PauseInFirstValidation(Hook):
        def before_val_epoch(self, runner):
            if runner.epoch == 1:  # epoch 1's checkpoint is saved, its scores are not
                pause()
elif point == "before_save":
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class PauseBeforeSecondSave(Hook):
        def before_save_checkpoint(self, runner, checkpoint):
            # the epoch checkpoint, not the best one (saved without the optimizer)
            if checkpoint["meta"]["epoch"] == 2 and "optimizer" in checkpoint:
                pause()
else:
    replace = os.replace

    def pausing_replace(src, dst, *args, **kwargs):
        if str(dst).endswith("epoch_2.pth"):
            pause()
        return replace(src, dst, *args, **kwargs)

    os.replace = pausing_replace

from harness.train.worker import main
sys.exit(main([request_file]))
"""


@pytest.fixture
def tiny_request(make_request, tiny_sets):
    """A 2-epoch request on the 6-image set (one iteration per epoch)."""

    def make(name: str, **cfg_options):
        root = str(tiny_sets["300w"]) + "/"
        options = {f"{split}_dataloader.dataset.data_root": root for split in ("train", "val", "test")}
        return make_request(name, cfg_options={**options, **cfg_options})

    return make


def _kill_during_second_save(request, tmp_path: Path, point: str) -> None:
    hook = {"before_save": "PauseBeforeSecondSave", "during_val": "PauseInFirstValidation"}.get(point)
    if hook:
        request = replace(request, extra_hooks=(*request.extra_hooks, {"type": hook}))
    request_file = tmp_path / f"{point}.json"
    request.to_json(request_file)
    marker = tmp_path / f"{point}.paused"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(request_file), str(marker), point], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not marker.exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    paused = marker.exists()
    child.kill()  # SIGKILL
    _, stderr = child.communicate()
    assert paused, f"the trainer never reached the pause ({point}): {stderr.decode()[-2000:]}"
    assert child.returncode == -signal.SIGKILL


def _rerun(request, tmp_path: Path) -> None:
    request_file = tmp_path / "rerun.json"
    request.to_json(request_file)
    done = subprocess.run([sys.executable, "-m", "harness.train.worker", str(request_file)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def _assert_one_finished_run_with_every_epoch(request) -> None:
    client = MlflowClient(request.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name(request.experiment).experiment_id])
    assert run.info.status == "FINISHED"
    assert {m.step for m in client.get_metric_history(run.info.run_id, "val/nme")} == {1, 2}
    assert "test/nme" in run.data.metrics
    work_dir = Path(request.work_dir)
    assert not [p for p in work_dir.iterdir() if is_temporary(p)]
    assert Path((work_dir / "last_checkpoint").read_text()).name == "epoch_2.pth"
    assert sorted(p.name for p in work_dir.glob("*.pth")) == ["best_face_nme_epoch_2.pth", "epoch_2.pth"]


@pytest.mark.slow
def test_kill_before_the_save_keeps_the_previous_checkpoint(tiny_request, tmp_path):
    request = tiny_request("killed")
    _kill_during_second_save(request, tmp_path, "before_save")
    work_dir = Path(request.work_dir)
    assert Path((work_dir / "last_checkpoint").read_text()).is_file()  # stock: epoch_1.pth already removed
    _rerun(request, tmp_path)
    _assert_one_finished_run_with_every_epoch(request)


@pytest.mark.slow
def test_kill_between_write_and_rename_resumes_from_the_previous_checkpoint(tiny_request, tmp_path):
    request = tiny_request("killed")
    _kill_during_second_save(request, tmp_path, "before_rename")
    work_dir = Path(request.work_dir)
    (temporary,) = [p for p in work_dir.iterdir() if is_temporary(p)]
    assert temporary.name.startswith(".epoch_2.pth.")
    assert pick_resume_checkpoint(work_dir) == work_dir / "epoch_1.pth"
    _rerun(request, tmp_path)
    _assert_one_finished_run_with_every_epoch(request)


@pytest.mark.slow
def test_dangling_last_checkpoint_from_the_stock_hook_starts_over(tiny_request, tmp_path):
    # The original failure: MMEngine's own CheckpointHook, killed inside its save, leaves
    # last_checkpoint naming the file it had just removed; every retry then failed.
    stock = tiny_request("killed", **{"default_hooks.checkpoint.type": "CheckpointHook"})
    _kill_during_second_save(stock, tmp_path, "before_save")
    work_dir = Path(stock.work_dir)
    assert not Path((work_dir / "last_checkpoint").read_text()).exists()
    assert not list(work_dir.glob("epoch_*.pth"))
    request = tiny_request("killed")
    _rerun(request, tmp_path)
    _assert_one_finished_run_with_every_epoch(request)
    client = MlflowClient(request.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name(request.experiment).experiment_id])
    # started over in the same run: epoch 1 logged by both attempts
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val/nme")].count(1) == 2


@pytest.mark.slow
def test_kill_during_validation_validates_that_epoch_on_resume(tiny_request, tmp_path):
    # MMEngine resumes after the epoch whose checkpoint exists and would never score it.
    request = tiny_request("killed-in-val")
    _kill_during_second_save(request, tmp_path, "during_val")
    client = MlflowClient(request.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name(request.experiment).experiment_id])
    assert client.get_metric_history(run.info.run_id, "val/nme") == []
    _rerun(request, tmp_path)
    _assert_one_finished_run_with_every_epoch(request)
