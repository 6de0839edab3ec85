"""`harness data ...` end to end through the real argument parser."""
from __future__ import annotations

from harness.cli.main import main


def test_synth_check_show(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["data", "synth", "--out", str(out), "--n-train", "4", "--n-val", "2", "--n-test", "2",
                 "--size", "64"]) == 0
    assert main(["data", "check", str(out)]) == 0
    assert "synthetic, 300w, 68 points) OK" in capsys.readouterr().out
    assert main(["data", "show", str(out), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 0


def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, capsys):
    assert main(["data", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "annotations" in err
    assert main(["data", "prepare", "wflw", "--src", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder" in capsys.readouterr().err
