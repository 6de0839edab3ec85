"""Checkpoints that a kill at any moment of a save leaves resumable.

MMEngine's ``CheckpointHook`` (0.10.7) removes the checkpoint that falls out of
``max_keep_ckpts`` (and the previous best) *before* it saves the new one, writes every
file in place, and names the new file in ``last_checkpoint`` only after the save. A kill
in between leaves ``last_checkpoint`` naming a deleted file, or a truncated ``.pth``.

:class:`AtomicCheckpointHook` keeps MMEngine's schedule and bookkeeping but changes the
order: each file is written under a temporary name in its own directory, synced and
renamed into place (:class:`AtomicLocalBackend`); ``last_checkpoint`` moves (the same
way) only once the new file is complete; outdated checkpoints go only after that.
Choosing what to resume from is :mod:`harness.train.resume`'s job.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

__all__ = ["AtomicCheckpointHook", "AtomicLocalBackend", "ATOMIC_BACKEND", "is_temporary", "write_atomically"]

ATOMIC_BACKEND = "harness_atomic_local"
_TEMP_SUFFIX = ".part"
logger = logging.getLogger(__name__)


def _temporary_name(path: Path) -> Path:
    # Hidden and without the .pth suffix, so that no glob for checkpoints (MMEngine's,
    # the runner's best_*.pth artifacts, the resume picker) ever sees a half-written file.
    return path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")


def is_temporary(path: str | Path) -> bool:
    """True for the name of a file :func:`write_atomically` had not finished."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)


def write_atomically(data: bytes, path: str | Path) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_name(path)
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    # The rename is an entry of the directory: sync it too, or a power cut may undo it.
    # Some file systems refuse to sync a directory; the file itself is complete by then.
    try:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        pass


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose writes are write-sync-rename.

    ``Runner.save_checkpoint`` writes through the hook's ``backend_args``; this is how the
    epoch checkpoints and the best checkpoints (saved by the stock
    ``_save_best_checkpoint``) become atomic without re-implementing either.
    """

    def put(self, obj: bytes, filepath: str | Path) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: str | Path, encoding: str = "utf-8") -> None:
        write_atomically(obj.encode(encoding), filepath)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves never leave a work dir without a loadable checkpoint.

    Takes every argument of ``CheckpointHook``. Without ``backend_args`` (or the deprecated
    ``file_client_args``) files go through :class:`AtomicLocalBackend`; another backend
    keeps its own write semantics, but the order of save, ``last_checkpoint`` and removal
    holds for it too.
    """

    def __init__(self, *args, backend_args: dict | None = None, file_client_args: dict | None = None,
                 **kwargs) -> None:
        if backend_args is None and file_client_args is None:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, backend_args=backend_args, file_client_args=file_client_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            self._remove_leftovers(runner)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        # Same bookkeeping as MMEngine's (the message hub keeps ``keep_ckpt_ids`` for the
        # next resume); the outdated file is only remembered here and removed at the end.
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info("last_ckpt", self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_atomically(str(self.last_ckpt).encode(), Path(runner.work_dir) / "last_checkpoint")
        if outdated is not None:
            self._remove(self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        # MMEngine removes the previous best before saving the new one when it knows a
        # previous one: hide it for the call, remove it once the new best (and the epoch
        # checkpoint recording it, which MMEngine re-saves at the end) is in place.
        previous = self._best_paths()
        self._set_best_paths(dict.fromkeys(previous))
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            # Positional: with save_best='auto' the call renames the single key.
            updated = list(zip(self._best_paths().items(), previous.values(), strict=False))
            self._set_best_paths({key: new or old for (key, new), old in updated})
        if is_main_process():
            for (_, new), old in updated:
                if old and new and new != old:
                    self._remove(old)

    def _best_paths(self) -> dict[str, str | None]:
        if len(self.key_indicators) == 1:
            return {self.key_indicators[0]: self.best_ckpt_path}
        return dict(self.best_ckpt_path_dict)

    def _set_best_paths(self, paths: dict[str, str | None]) -> None:
        if len(self.key_indicators) == 1:
            (self.best_ckpt_path,) = paths.values()
        else:
            self.best_ckpt_path_dict.update(paths)

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves directories
            self.file_backend.rmtree(path)

    def _remove_leftovers(self, runner) -> None:
        """Remove what a process killed mid-save left: temporary files and files it had
        not removed yet (outdated checkpoints, a superseded best)."""
        out_dir = Path(self.out_dir)
        if not out_dir.is_dir():
            return
        leftovers = [p for p in out_dir.iterdir() if is_temporary(p)]
        if self.max_keep_ckpts > 0 and self.filename_tmpl.count("{}") == 1:
            # Only steps before the resumed one: later files may be the newer checkpoint a
            # kill kept from reaching last_checkpoint, and are overwritten when reached.
            resumed = runner.epoch if self.by_epoch else runner.iter
            pattern = re.compile(re.escape(self.filename_tmpl).replace(r"\{\}", r"(\d+)") + "$")
            leftovers += [p for p in out_dir.iterdir() if (m := pattern.match(p.name))
                          and int(m.group(1)) < resumed and int(m.group(1)) not in self.keep_ckpt_ids]
        if self.save_best:
            for key, best in self._best_paths().items():
                if key != "auto":
                    prefix = f"best_{key}_".replace("/", "_")
                    leftovers += [p for p in out_dir.glob(f"{prefix}*")
                                  if best is None or p.resolve() != Path(best).resolve()]
        for path in leftovers:
            runner.logger.info("Removing %s, left by an interrupted checkpoint save", path.name)
            self._remove(str(path))
