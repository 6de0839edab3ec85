"""How a request turns into an MMEngine config (fast: no training)."""
from __future__ import annotations

from pathlib import Path

from harness.train.config import load_config


def test_resume_only_what_an_earlier_attempt_left(make_request):
    request = make_request("fresh")
    assert load_config(request).resume is False
    # A fresh run must not re-read its own checkpoint in Runner.test(): under DDP rank 0
    # rewrites it after validation while other ranks read it.
    work_dir = load_config(request).work_dir
    Path(work_dir).mkdir(parents=True)
    (Path(work_dir) / "last_checkpoint").write_text(work_dir + "/epoch_1.pth")
    assert load_config(request).resume is True
