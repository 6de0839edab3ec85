"""Load a checkpoint's weights into a built model: one function per state-dict layout.

A layout turns what ``torch.load`` returned into the model's own state-dict keys. MMEngine's
checkpoints (``{"meta", "state_dict", ...}``) are the only layout so far; another one (a
released checkpoint with a different key scheme) is one function registered in ``LAYOUTS``.
Loading is strict: a missing, unexpected or differently shaped tensor is a one-line
:class:`BadRequest` naming the file, never MMEngine's warning and a half-random model.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.train.errors import BadRequest

__all__ = ["LAYOUTS", "load_weights", "register_layout"]

Layout = Callable[[Any], dict[str, Any]]
LAYOUTS: dict[str, Layout] = {}


def register_layout(name: str) -> Callable[[Layout], Layout]:
    def add(fn: Layout) -> Layout:
        LAYOUTS[name] = fn
        return fn

    return add


@register_layout("mmengine")
def _mmengine(checkpoint: Any) -> dict[str, Any]:
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, Mapping) else None
    if isinstance(state, Mapping) and isinstance(state.get("net"), Mapping):
        raise ValueError("its weights are under 'net', STAR's layout: pass --arch star-hg4")
    if not isinstance(state, Mapping):
        raise ValueError("no state_dict in it")
    # A model saved from inside DistributedDataParallel carries a "module." prefix on every key.
    return {k.removeprefix("module."): v for k, v in state.items()}


def _first(keys: list[str]) -> str:
    return f"{len(keys)} (e.g. {keys[0]})"


def _mismatch(path: Path, wanted: Mapping[str, Any], given: Mapping[str, Any], against: str) -> str | None:
    missing = sorted(set(wanted) - set(given))
    unexpected = sorted(set(given) - set(wanted))
    shapes = sorted(k for k in set(wanted) & set(given)
                    if tuple(getattr(given[k], "shape", ())) != tuple(wanted[k].shape))
    if not (missing or unexpected or shapes):
        return None
    parts = [f"missing {_first(missing)}" if missing else "", f"unexpected {_first(unexpected)}" if unexpected else ""]
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} of another shape (e.g. {k}: checkpoint {tuple(given[k].shape)}, "
                     f"model {tuple(wanted[k].shape)})")
    return f"{path}: does not fit the model of {against}: " + "; ".join(p for p in parts if p)


def load_weights(model: Any, path: str | Path, *, layout: str = "mmengine", against: str = "the config") -> None:
    """Load ``path`` into ``model`` (an ``nn.Module``) strictly; ``against`` names the config in errors.

    Raises:
        BadRequest: the file is missing or unreadable, the layout unknown, or the tensors
            do not fit the model (names and shapes are listed, first of each kind).
    """
    import torch

    from harness import compat

    compat.apply()  # MMEngine's checkpoint types under weights_only
    path = Path(path)
    if layout not in LAYOUTS:
        raise BadRequest(f"unknown checkpoint layout {layout!r} (known: {sorted(LAYOUTS)})")
    if not path.is_file():
        raise BadRequest(f"{path}: checkpoint file not found")
    try:
        state = LAYOUTS[layout](torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:  # torch and pickle raise many types for a damaged or foreign file
        raise BadRequest(f"{path}: not a {layout} checkpoint ({type(exc).__name__}: {exc})".splitlines()[0]) from exc
    problem = _mismatch(path, model.state_dict(), state, against)
    if problem:
        raise BadRequest(problem)
    model.load_state_dict(state, strict=True)
