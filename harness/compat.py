"""Make the OpenMMLab stack usable on a CPU-only, mmcv-lite, torch >= 2.6 install.

Three gaps, each fixed here and nowhere else:

1. ``import mmpose.models`` imports ``mmcv.ops`` (EDPose/DETR/DEKR heads), whose compiled
   extension ``mmcv._ext`` does not exist in mmcv-lite. When (and only when) it is missing,
   ``mmcv.ops`` and its submodules are served by a stand-in whose every attribute is a
   placeholder: importing works, and any real use names the op and how to get full mmcv.
2. MMPose's visualizer registry imports ``mmpose.visualization`` on first lookup, which
   imports torchvision; PyPI's torchvision does not import beside the CPU torch wheel.
   When torchvision is absent, that lookup is skipped so that configs can build MMEngine's
   own ``Visualizer`` (MMPose's pose visualizers then stay unavailable, by name).
3. torch >= 2.6 loads checkpoints with ``weights_only=True``; MMEngine 0.10.7 checkpoints
   carry numpy arrays, numpy dtypes and MMEngine's HistoryBuffer in their message-hub
   state, so resuming fails. The exact types are allow-listed; weights_only stays on.
   HistoryBuffer also pickles its class-level statistics functions through ``getattr``,
   which must never be allow-listed; since its ``__setstate__`` restores them from the
   class anyway, the buffer is saved without them.

Call :func:`apply` before importing ``mmpose.models``; it is idempotent.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

__all__ = ["apply", "mmcv_has_compiled_ops", "MissingCompiledOp"]

_FULL_MMCV_HINT = (
    "it needs mmcv's compiled ops, but mmcv-lite is installed; on a GPU machine install "
    "full mmcv (e.g. `pip install -U openmim && mim install 'mmcv>=2.0,<2.2'`)"
)
_applied = False


def mmcv_has_compiled_ops() -> bool:
    """True when a full mmcv (with ``mmcv._ext``) is importable."""
    try:
        return importlib.util.find_spec("mmcv._ext") is not None
    except (ImportError, ValueError):
        return False


class MissingCompiledOp:
    """Placeholder for an ``mmcv.ops`` symbol; fails loudly when actually used."""

    _op_name = "?"

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"mmcv.ops.{self._op_name}: {_FULL_MMCV_HINT}")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)


def _placeholder(name: str) -> type:
    return type(name, (MissingCompiledOp,), {"_op_name": name, "__module__": "mmcv.ops"})


class _StubOpsModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(name)
        setattr(self, name, value)
        return value


class _StubOpsFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``mmcv.ops`` and ``mmcv.ops.*`` as stand-in modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "mmcv.ops" or fullname.startswith("mmcv.ops."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubOpsModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        return None


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop("statistics_methods", None)
    return state


def _allow_mmengine_checkpoint_types() -> None:
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer

    try:
        multiarray = importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy 1.x
        multiarray = importlib.import_module("numpy.core.multiarray")
    dtype_classes = [type(np.dtype(t)) for t in ("f2", "f4", "f8", "i4", "i8", "u1", "b1")]
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    # bytes: numpy's pickled arrays carry their raw buffers as bytes objects.
    torch.serialization.add_safe_globals(
        [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, bytes, HistoryBuffer, *dtype_classes]
    )


def _skip_mmpose_visualization_import() -> None:
    from mmpose import registry

    for reg in (registry.VISUALIZERS, registry.VISBACKENDS, registry.LOG_PROCESSORS):
        reg._imported = True


def apply() -> None:
    """Install the fixes once per process. Each is skipped where it is not needed."""
    global _applied
    if _applied:
        return
    if not mmcv_has_compiled_ops() and "mmcv.ops" not in sys.modules:
        sys.meta_path.insert(0, _StubOpsFinder())
    if importlib.util.find_spec("torchvision") is None:
        _skip_mmpose_visualization_import()
    _allow_mmengine_checkpoint_types()
    _applied = True
