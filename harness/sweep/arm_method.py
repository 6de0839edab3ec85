"""An arm's method has one source: its config's ``harness_method`` (set by the method base,
``mm_configs/_base_/methods/*.py``). A spec may still name it, and is then checked against it.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["config_method", "method_problem"]


def config_method(config: Path) -> str | None:
    """The method ``config`` trains (its ``harness_method``), or None if it sets none.

    Raises whatever MMEngine raises for a config that does not parse.
    """
    from mmengine.config import Config  # lazy: spec parsing stays cheap when every arm names its method

    method = Config.fromfile(str(config)).get("harness_method")
    return None if method is None else str(method)


def method_problem(spec_method: str | None, config_method: str | None, config: str) -> str | None:
    """Why a spec's ``method`` disagrees with its config's, or None when it agrees or is not given."""
    if spec_method is None or config_method is None or spec_method == config_method:
        return None
    return f"{spec_method!r}, but {config} trains {config_method!r}"
