"""A child started with die_with_parent is told (SIGTERM) when its parent is killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

CHILD = textwrap.dedent("""
    import pathlib, signal, sys, time
    out = pathlib.Path(sys.argv[1])
    def on_signal(number, frame):
        out.with_suffix(".signal").write_text(str(number))
        sys.exit(0)
    signal.signal(signal.SIGTERM, on_signal)
    out.with_suffix(".ready").write_text("")
    time.sleep(120)
""")

PARENT = textwrap.dedent("""
    import subprocess, sys, time
    from harness.lifetime import die_with_parent
    subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], preexec_fn=die_with_parent)
    time.sleep(120)
""")


def test_a_killed_parent_sends_its_child_sigterm(tmp_path):
    # SIGTERM, not SIGKILL: torchrun forwards SIGTERM to its ranks, a SIGKILLed one orphans them.
    base = tmp_path / "child"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, str(base)])
    deadline = time.time() + 60
    while not base.with_suffix(".ready").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert base.with_suffix(".ready").exists(), "the child never started"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 30
    while not base.with_suffix(".signal").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert base.with_suffix(".signal").read_text() == str(int(signal.SIGTERM))
