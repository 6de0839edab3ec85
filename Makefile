# One entry point for people and CI. `make test` and `make demo` build .venv idempotently.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/cpu-lock.txt
PIP := $(BIN)/pip install -q --progress-bar off --disable-pip-version-check -c $(LOCK)

.PHONY: venv lint test test-fast demo bench doctor clean

venv: $(VENV)/.installed

# Install order matters (measured): the lock first; xtcocotools built against numpy 2;
# mmpose/mmdet without their declared deps (chumpy does not build, torchvision breaks CPU torch).
$(VENV)/.installed: $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r $(LOCK)
	$(PIP) --no-binary xtcocotools --no-build-isolation xtcocotools==1.14.3
	$(PIP) --no-deps mmpose==1.3.2 mmdet==3.3.0
	$(PIP) --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import harness.mm, mlflow, optuna, xtcocotools"
	touch $@

# ruff, then mypy (config in pyproject.toml; mypy's cache in .mypy_cache: ~50 s cold, ~2 s warm).
lint: venv
	$(BIN)/ruff check harness tests benchmarks
	$(BIN)/mypy harness

test: lint
	$(BIN)/python -m pytest -q

test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow"

# Evaluation through `harness evaluate` proves that path (own test split = each run's test metrics).
# The report comes last, so that the verdict, the report's path and the MLflow links end the output.
demo: venv
	$(BIN)/harness data synth --out data/synth-300w
	$(BIN)/harness sweep run sweeps/demo.yaml   # ends with the MLflow and optuna-dashboard commands
	$(BIN)/harness evaluate --sweep demo --which last --data data/synth-300w --split test --tracking-uri sqlite:///work_dirs/sweeps/demo/mlflow.db
	$(BIN)/harness report generate --sweep sweeps/demo.yaml --out reports/demo

bench: venv
	$(BIN)/python benchmarks/bench_losses.py

doctor: venv
	$(BIN)/harness doctor

clean:
	rm -rf $(VENV)
