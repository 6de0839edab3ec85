"""`harness sweep validate|status|run --dry-run` through the CLI entry point."""
from __future__ import annotations

import os

import pytest

from harness.cli.main import main


@pytest.fixture
def in_root(root):
    old = os.getcwd()
    os.chdir(root)
    yield root
    os.chdir(old)


def test_validate_ok_and_error_exit_codes(in_root, write_spec, base_spec, capsys, caplog) -> None:
    good = write_spec(base_spec())
    assert main(["sweep", "validate", str(good)]) == 0
    assert "ok: 2 arms, 2 seeds, 4 trials, grid sampler" in capsys.readouterr().out
    bad = write_spec(base_spec(seeds="zero"), name="bad.yaml")
    assert main(["sweep", "validate", str(bad)]) == 2
    assert "bad.yaml: seeds: expected int or list, got str 'zero'" in caplog.text


def test_status_before_and_after_a_dry_run(in_root, write_spec, base_spec, capsys) -> None:
    spec = write_spec(base_spec(work_dir="w"))
    assert main(["sweep", "status", str(spec)]) == 1
    assert "no study yet" in capsys.readouterr().out
    assert not (in_root / "w").exists()  # asking created nothing
    assert main(["sweep", "run", str(spec), "--dry-run"]) == 0
    assert "dry run: 4 trials would train" in capsys.readouterr().out
    assert main(["sweep", "status", str(spec)]) == 1  # the dry run left the real study alone
    assert not (in_root / "w" / "trials").exists()


def test_help_has_copy_paste_examples(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sweep", "run", "--help"])
    assert "harness sweep run sweeps/demo.yaml --dry-run" in capsys.readouterr().out
