"""Choose the checkpoint a work dir resumes from: the newest one that loads.

A trainer killed during a checkpoint save may leave ``last_checkpoint`` naming a file
that is gone or incomplete (MMEngine's own hook removes the old file before it writes the
new one, and writes in place). Resuming must then fall back to the next checkpoint that
loads, and, when there is none, start over rather than fail on every retry.
"""
from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["pick_resume_checkpoint"]

logger = logging.getLogger(__name__)
_CHECKPOINT = re.compile(r"(?:epoch|iter)_(\d+)\.pth")


def pick_resume_checkpoint(work_dir: Path) -> Path | None:
    """The checkpoint to resume ``work_dir`` from, or None to train from scratch.

    Tries the file ``last_checkpoint`` names, then the other ``epoch_*.pth`` and
    ``iter_*.pth`` files, highest step first; a missing, temporary or unloadable file is
    skipped with one warning saying why.
    """
    from harness import compat

    compat.apply()  # the allow-list torch's weights_only loading needs for MMEngine's files
    tried: set[Path] = set()
    for candidate in _candidates(Path(work_dir)):
        if candidate in tried:
            continue
        tried.add(candidate)
        problem = _why_unloadable(candidate)
        if problem is None:
            return candidate
        logger.warning("not resuming from %s: %s", candidate, problem)
    return None


def _candidates(work_dir: Path) -> Iterator[Path]:
    pointer = work_dir / "last_checkpoint"
    if pointer.is_file():
        named = pointer.read_text(errors="replace").strip()
        if named:
            yield (work_dir / named).resolve()
        else:
            logger.warning("not resuming from %s: it is empty", pointer)
    if work_dir.is_dir():
        steps = {p: int(m.group(1)) for p in work_dir.iterdir() if (m := _CHECKPOINT.fullmatch(p.name))}
        yield from (p.resolve() for p in sorted(steps, key=lambda p: (steps[p], p.name), reverse=True))


def _why_unloadable(path: Path) -> str | None:
    from harness.mm.checkpoint import is_temporary

    if is_temporary(path):
        return "an unfinished temporary file"
    if not path.is_file():
        return "file not found"
    import torch

    # torch.load does not check the zip's CRCs (a flipped byte loads as a wrong weight),
    # so check them first; the load then proves Runner.resume's own (weights_only) load
    # will work. For the synth config's 12 MB epoch checkpoint: about 18 ms and 100 ms.
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                damaged = archive.testzip()
            if damaged is not None:
                return f"corrupt (CRC mismatch in {damaged})"
        torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zipfile and torch raise many types for a damaged file
        return f"does not load ({type(exc).__name__}: {exc})".splitlines()[0][:300]
    return None
