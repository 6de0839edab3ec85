"""The Optuna section reads the study named on the sweep's parent run, or says why not."""
from types import SimpleNamespace

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from harness.report.optuna_section import optuna_section


def _parent(params=None, tags=None):
    return SimpleNamespace(data=SimpleNamespace(params=params or {}, tags=tags or {}))


def test_journal_storage_is_read(tmp_path):
    path = tmp_path / "optuna.journal"
    study = optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    for lr in (0.1, 0.2, 0.3):
        study.add_trial(optuna.trial.create_trial(params={"lr": lr}, distributions={"lr": FloatDistribution(0, 1)},
                                                  value=lr * 10, intermediate_values={1: lr * 20, 2: lr * 10}))
    section = optuna_section(_parent(tags={"optuna.storage": f"journal:{path}", "optuna.study": "s"}))
    best = section.tables["optuna_best_trials"]
    assert best["value"].tolist() == pytest.approx([1.0, 2.0, 3.0]) and best["params_lr"].iloc[0] == 0.1
    # one parameter, nothing pruned: both figures would be degenerate, so each is a line saying why
    assert section.figures == []
    assert [line.split(":")[0] for line in section.skipped] == [
        "Optuna parameter importances", "Optuna intermediate values (pruning view)"]
    assert "1 searched parameter varied" in section.skipped[0] and "no trial was pruned" in section.skipped[1]


def test_two_parameters_and_a_pruned_trial_give_both_figures(tmp_path):
    path = tmp_path / "optuna.journal"
    study = optuna.create_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    dists = {"lr": FloatDistribution(0, 1), "eps": FloatDistribution(0, 3)}
    for i, (lr, eps) in enumerate([(0.1, 1.0), (0.2, 0.5), (0.3, 2.0), (0.4, 1.5)]):
        state = optuna.trial.TrialState.PRUNED if i == 3 else optuna.trial.TrialState.COMPLETE
        study.add_trial(optuna.trial.create_trial(params={"lr": lr, "eps": eps}, distributions=dists, state=state,
                                                  value=None if i == 3 else lr + eps, intermediate_values={1: lr}))
    section = optuna_section(_parent(tags={"optuna.storage": f"journal:{path}", "optuna.study": "s"}))
    assert [name for name, _, _ in section.figures] == ["optuna_importances", "optuna_intermediate"]
    assert section.skipped == []


@pytest.mark.parametrize("parent, note", [
    (_parent(), "records no optuna.storage"),
    (_parent({"optuna.storage": "postgresql://u:***@h/db", "optuna.study": "s"}), "storage redacted"),
    (_parent({"optuna.storage": "journal:/nonexistent/optuna.journal", "optuna.study": "s"}), "could not be read"),
])
def test_missing_study_is_a_note_not_an_error(parent, note):
    section = optuna_section(parent)
    assert not section.tables and not section.figures and note in section.notes[0]


def test_no_parent_no_section():
    section = optuna_section(None)
    assert not section.tables and not section.figures and not section.notes

