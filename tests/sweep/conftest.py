"""Shared fixtures for sweep tests: a tiny repo root with config files and a spec writer."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repo-like root holding two (empty) config files the specs point at."""
    (tmp_path / "cfg").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / "cfg" / name).write_text("# test config\n")
    return tmp_path


def _base_spec(**changes) -> dict:
    spec = {
        "name": "t",
        "arms": [{"name": "a", "method": "structured", "config": "cfg/a.py"},
                 {"name": "b", "method": "softargmax", "config": "cfg/b.py"}],
        "seeds": [0, 1],
        "budget": {"epochs": 2},
    }
    spec.update(changes)
    return spec


@pytest.fixture
def base_spec():
    """A function returning a valid two-arm spec dict, with top-level keys replaced."""
    return _base_spec


@pytest.fixture
def write_spec(root: Path):
    def write(data: dict, name: str = "spec.yaml") -> Path:
        path = root / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path
    return write
