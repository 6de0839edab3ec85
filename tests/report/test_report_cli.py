"""The CLI's minimal sweep-spec reading (the full parser belongs to harness.sweep)."""
import pytest

from harness.cli.report import read_sweep_spec


def test_reads_only_three_keys_and_tolerates_the_rest(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: demo\nseeds: [0, 1]\nmlflow: {tracking_uri: 'sqlite:///x.db', experiment: e, extra: 1}\n")
    assert read_sweep_spec(spec) == {"name": "demo", "tracking_uri": "sqlite:///x.db", "experiment": "e"}


def test_missing_keys_fall_back(tmp_path):
    spec = tmp_path / "quick.yaml"
    spec.write_text("arms: []\n")
    assert read_sweep_spec(spec) == {"name": "quick", "tracking_uri": None, "experiment": None}


def test_not_a_mapping_is_rejected(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="YAML mapping"):
        read_sweep_spec(spec)
