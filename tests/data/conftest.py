"""Fixtures for the data tests: the menpo3d sdist that holds the photo-real renderer's scan."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

MENPO3D = "menpo3d==0.8.6"
MENPO3D_FILE = "menpo3d-0.8.6.tar.gz"
# sha256 of the registry's menpo3d-0.8.6.tar.gz; pip checks it before it runs the sdist's setup.py.
MENPO3D_SHA256 = "96ad2c8b55b74e026cdc190cf6b1564ad7c8e6c53976cf897d6a1bf4940f084a"


def cache_dir() -> Path:
    """~/.cache/harness (or $XDG_CACHE_HOME/harness): kept between runs, so reruns need no network."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "harness"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(dest: Path) -> str | None:
    """Fetch the sdist into ``dest`` (atomically); None when done, else one line saying why not."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".menpo3d-") as tmp:
        req = Path(tmp) / "req.txt"
        req.write_text(f"{MENPO3D} --hash=sha256:{MENPO3D_SHA256}\n")
        # --no-build-isolation: pip reads the sdist's metadata by running its setup.py, which
        # imports numpy; the venv has it, a fresh isolated build env would not.
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--no-build-isolation", "--require-hashes", "-r", str(req), "-d", tmp,
               "--disable-pip-version-check", "--progress-bar", "off", "--timeout", "30", "--retries", "2"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return f"`pip download {MENPO3D}` timed out after 600 s"
        got = Path(tmp) / MENPO3D_FILE
        if done.returncode != 0 or not got.is_file():
            lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
            why = next((ln for ln in reversed(lines) if ln.startswith("ERROR")), lines[-1] if lines else "")
            return f"`pip download {MENPO3D}` failed (exit {done.returncode}): {why}"
        if _sha256(got) != MENPO3D_SHA256:
            return f"{got.name} from the registry does not have the expected sha256"
        os.replace(got, dest)  # atomic: a concurrent session sees the old state or the whole file
    return None


@pytest.fixture(scope="session")
def menpo3d_sdist() -> Path:
    """The menpo3d 0.8.6 sdist (holds ``menpo3d/data/james.*``), downloaded once into the cache.

    Where it cannot be had (no network), the test fails under CI (env CI=true) with one line
    saying why, and is skipped elsewhere.
    """
    path = cache_dir() / MENPO3D_FILE
    if path.is_file() and _sha256(path) == MENPO3D_SHA256:
        return path
    why = _download(path)
    if why is None:
        return path
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs the menpo3d scan: {why}", pytrace=False)
    pytest.skip(f"menpo3d scan unavailable (CI=true makes this a failure): {why}")
