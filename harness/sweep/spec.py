"""Sweep specifications: YAML parsed into frozen, validated dataclasses before anything trains.

A spec names its arms (method + config + MMEngine dotted-key overrides + search space),
seeds, sampler, pruner, objective, budget, resources, Optuna storage and MLflow target.
Every mistake is reported, all of them at once, as one line naming the file and the key,
e.g. ``sweeps/demo.yaml: arms[1].method: unknown value 'softmax' (known: ...)``.
An override key starting with ``+`` declares a key new to the arm's config.

This module checks the YAML alone; :mod:`harness.sweep.validate` also checks each arm
against its config. Run ``harness sweep validate sweeps/demo.yaml`` for both, without
training.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.sweep.protocol_spec import Protocol, parse_protocol
from harness.sweep.space import Param, parse_search_space

__all__ = [
    "METHODS", "SAMPLERS", "PRUNERS", "SpecError", "Arm", "Sampler", "Pruner", "Objective",
    "Budget", "Resources", "MlflowTarget", "SweepSpec", "load_spec", "parse_spec",
]

# The methods of the MLflow record contract (docs/architecture.md).
METHODS = ("structured", "softargmax", "dsnt", "star", "heatmap_mse")
SAMPLERS = ("grid", "tpe", "random")
# spec name -> Optuna pruner class name (the pruning hook builds it by that name).
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "hyperband": "HyperbandPruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "threshold": "ThresholdPruner",  # options: {upper: ...}: stop runs that stay above it
}


class SpecError(ValueError):
    """Spec mistakes; the message has one line per mistake: ``FILE: KEY: what is wrong``.

    ``problems`` holds the same lines, so a caller can report each one; ``arms`` the
    (index, arm) of every arm without a mistake, which can still be checked against its
    config.
    """

    def __init__(self, *problems: str, arms: tuple[tuple[int, Arm], ...] = ()):
        super().__init__("\n".join(problems))
        self.problems, self.arms = problems, arms


@dataclass(frozen=True)
class Arm:
    """One compared configuration: a method with its config and overrides."""

    name: str
    method: str
    config: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    search_space: tuple[Param, ...] = ()


@dataclass(frozen=True)
class Sampler:
    type: str = "grid"
    seed: int = 0


@dataclass(frozen=True)
class Pruner:
    """``type`` is a key of :data:`PRUNERS`; ``options`` are the Optuna pruner's kwargs."""

    type: str = "none"
    warmup_epochs: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Objective:
    metric: str = "val/nme"
    direction: Literal["minimize", "maximize"] = "minimize"
    reduce: str = "last"  # "last" epoch's value, or "best" over epochs
    # The evaluator's key the pruning hook reports (harness.mm.metric's "face/nme", %).
    hook_metric: str = "face/nme"


@dataclass(frozen=True)
class Budget:
    epochs: int = 1
    n_trials: int | None = None  # grid: defaults to every arm x seed x grid point
    timeout: float | None = None  # seconds; no new trial starts after it
    max_retry: int = 2  # re-runs of a crashed (stale) or errored trial


@dataclass(frozen=True)
class Resources:
    device: str = "cpu"  # "cpu" or "cuda"
    gpus: tuple[int, ...] = ()
    trials_per_gpu: int = 1
    gpus_per_trial: int = 1  # > 1: one DDP trial over that many GPUs (torchrun)
    cpu_threads_per_trial: int | None = None  # None: cores split evenly between workers
    workers: int | None = None  # None: one per GPU slot, or 1 on CPU


@dataclass(frozen=True)
class MlflowTarget:
    tracking_uri: str | None = None  # None: sqlite:///<work_dir>/mlflow.db
    experiment: str | None = None  # None: "sweep-<name>"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep. ``path`` is the YAML file; ``text`` its content (logged to MLflow)."""

    name: str
    arms: tuple[Arm, ...]
    seeds: tuple[int, ...]
    sampler: Sampler
    pruner: Pruner
    objective: Objective
    budget: Budget
    resources: Resources
    mlflow: MlflowTarget
    storage: str | None = None  # None: Optuna journal file under work_dir
    work_dir: str | None = None  # None: work_dirs/sweeps/<name>
    description: str = ""
    path: str = ""
    text: str = ""
    protocol: Protocol | None = None  # tune-then-confirm (harness.sweep.protocol_spec)

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)


_TOP = {"name", "description", "base_config", "arms", "seeds", "sampler", "pruner", "objective",
        "budget", "resources", "storage", "work_dir", "mlflow", "protocol"}


class _Reader:
    """Typed access to one mapping of the YAML tree.

    A mistake is recorded in the shared ``errors`` list and parsing goes on with the
    default (or None), so that one run reports every mistake of a spec.
    """

    def __init__(self, file: str, where: str, data: Any, errors: list[str]):
        self.file, self.where, self.errors = file, where, errors
        self.data: dict[Any, Any] = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {type(data).__name__}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, message: str, key: str | None = None) -> None:
        self.errors.append(f"{self.file}: {key or self.where or '<top>'}: {message}")

    def check_keys(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                self.fail(f"unknown key (allowed: {', '.join(sorted(allowed))})", self.key(str(k)))

    def get(self, name: str, types: type | tuple[type, ...], default: Any = ..., *,
            choices: tuple[str, ...] | None = None) -> Any:
        """The value of ``name``; on a mistake, ``default`` (None for a required key)."""
        fallback = None if default is ... else default
        if name not in self.data or self.data[name] is None:
            if default is ...:
                self.fail("missing required key", self.key(name))
            return fallback
        value = self.data[name]
        types = types if isinstance(types, tuple) else (types,)
        # bool is an int subclass in Python; `seed: true` is a mistake, not 1.
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            wanted = " or ".join(t.__name__ for t in types)
            self.fail(f"expected {wanted}, got {type(value).__name__} {value!r}", self.key(name))
            return fallback
        if choices is not None and value not in choices:
            self.fail(f"unknown value {value!r} (known: {', '.join(choices)})", self.key(name))
            return fallback
        return value

    def sub(self, name: str) -> _Reader:
        return _Reader(self.file, self.key(name), self.data.get(name) or {}, self.errors)


def _positive(r: _Reader, name: str, value: Any, minimum: float = 1) -> Any:
    if value is not None and value < minimum:
        r.fail(f"must be >= {minimum}, got {value}", r.key(name))
    return value


def _parse_space(r: _Reader) -> tuple[Param, ...]:
    # One key at a time, so that every bad key of a space is reported.
    params: list[Param] = []
    for key, entry in r.get("search_space", dict, {}).items():
        try:
            params.extend(parse_search_space({key: entry}))
        except ValueError as exc:
            r.fail(str(exc), r.key("search_space"))
    return tuple(params)


def _config_method(r: _Reader, root: Path, config: str) -> str:
    from harness.sweep.arm_method import config_method

    try:
        method = config_method(root / config)
    except Exception as exc:  # MMEngine raises many types for a bad config file
        r.fail(f"not given, and {config} does not parse ({type(exc).__name__})", r.key("method"))
        return ""
    if method not in METHODS:
        r.fail(f"not given, and {config} sets no known harness_method ({method!r})", r.key("method"))
        return ""
    return method


def _parse_arm(r: _Reader, base_config: str | None, root: Path) -> Arm:
    r.check_keys({"name", "method", "config", "overrides", "search_space"})
    name = r.get("name", str)
    method = r.get("method", str, None, choices=METHODS)
    config = r.get("config", str, base_config)
    if method is None and "method" not in r.data and config is not None and (root / config).is_file():
        # One source of truth: an arm that names no method trains its config's.
        method = _config_method(r, root, config)
    if config is None:
        if "config" not in r.data or r.data["config"] is None:
            r.fail("missing required key (and no top-level base_config)", r.key("config"))
    elif not (root / config).is_file():
        r.fail(f"config file not found: {config} (relative to {root})", r.key("config"))
    overrides = r.get("overrides", dict, {})
    for k in overrides:
        if not isinstance(k, str) or not k.removeprefix("+") or " " in k:
            r.fail("override keys are MMEngine dotted keys like 'optim_wrapper.optimizer.lr' "
                   "(or '+key' for a new one)", r.key(f"overrides.{k}"))
    space = _parse_space(r)
    clash = {p.key.removeprefix("+") for p in space} & {str(k).removeprefix("+") for k in overrides}
    if clash:
        r.fail(f"keys both overridden and searched: {sorted(clash)}", r.key("search_space"))
    return Arm(name, method, config, dict(overrides), space)


def _parse_pruner(r: _Reader) -> Pruner:
    r.check_keys({"type", "warmup_epochs", "options"})
    return Pruner(
        type=r.get("type", str, "none", choices=tuple(PRUNERS)),
        warmup_epochs=_positive(r, "warmup_epochs", r.get("warmup_epochs", int, 0), 0),
        options=dict(r.get("options", dict, {})),
    )


def _parse_resources(r: _Reader) -> Resources:
    r.check_keys({"device", "gpus", "trials_per_gpu", "gpus_per_trial", "cpu_threads_per_trial",
                  "workers"})
    device = r.get("device", str, "cpu", choices=("cpu", "cuda"))
    gpus = r.get("gpus", (int, list), [])
    gpus = list(range(gpus)) if isinstance(gpus, int) else gpus
    if not all(isinstance(g, int) and not isinstance(g, bool) and g >= 0 for g in gpus):
        r.fail("expected a GPU count or a list of GPU ids", r.key("gpus"))
        gpus = []
    elif device == "cuda" and not gpus:
        r.fail("device: cuda needs gpus (a count or a list of ids)", r.key("gpus"))
    per_trial = _positive(r, "gpus_per_trial", r.get("gpus_per_trial", int, 1))
    per_gpu = _positive(r, "trials_per_gpu", r.get("trials_per_gpu", int, 1))
    if device == "cuda" and gpus and per_trial >= 1 and (
            len(gpus) % per_trial or (per_trial > 1 and per_gpu > 1)):
        r.fail(f"{len(gpus)} GPUs do not split into trials of {per_trial} GPUs"
               f"{' (and DDP trials cannot share GPUs)' if per_gpu > 1 else ''}",
               r.key("gpus_per_trial"))
    return Resources(
        device=device,
        gpus=tuple(gpus) if device == "cuda" else (),
        trials_per_gpu=per_gpu, gpus_per_trial=per_trial,
        cpu_threads_per_trial=_positive(
            r, "cpu_threads_per_trial", r.get("cpu_threads_per_trial", int, None)),
        workers=_positive(r, "workers", r.get("workers", int, None)),
    )


def _parse_seeds(top: _Reader) -> tuple[int, ...]:
    seeds = top.get("seeds", (int, list), [0])
    seeds = [seeds] if isinstance(seeds, int) else seeds
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds) \
            or len(set(seeds)) != len(seeds):
        top.fail("expected a non-empty list of distinct integers", "seeds")
    return tuple(seeds)


def _parse_budget(b: _Reader, sampler: Sampler, protocol: Protocol | None) -> Budget:
    b.check_keys({"epochs", "n_trials", "timeout", "max_retry"})
    budget = Budget(
        epochs=_positive(b, "epochs", b.get("epochs", int)),
        n_trials=_positive(b, "n_trials", b.get("n_trials", int, None)),
        timeout=_positive(b, "timeout", b.get("timeout", (int, float), None), 0),
        max_retry=_positive(b, "max_retry", b.get("max_retry", int, 2), 0),
    )
    # With a protocol, the tuning budget is per arm: protocol.tune.n_trials.
    if sampler.type != "grid" and b.data.get("n_trials") is None and protocol is None:
        b.fail(f"required with sampler {sampler.type!r}", b.key("n_trials"))
    return budget


def parse_spec(data: Any, *, file: str, root: Path, text: str = "") -> SweepSpec:
    """Validate a YAML tree; config paths are resolved against ``root`` (the repo root).

    Raises:
        SpecError: with one line per mistake, all of them.
    """
    errors: list[str] = []
    top = _Reader(file, "", data, errors)
    top.check_keys(_TOP)
    name = top.get("name", str)
    if name is not None and not name.replace("-", "").replace("_", "").isalnum():
        top.fail("use letters, digits, '-' and '_' only", "name")
    base_config = top.get("base_config", str, None)
    raw_arms = top.get("arms", list)
    if raw_arms == []:
        top.fail("at least one arm is needed", "arms")
    arms, sound = [], []
    for i, raw in enumerate(raw_arms or []):
        before = len(errors)
        arms.append(_parse_arm(_Reader(file, f"arms[{i}]", raw, errors), base_config, root))
        if len(errors) == before:
            sound.append((i, arms[-1]))
    names = [a.name for a in arms if a.name is not None]
    if len(set(names)) != len(names):
        top.fail(f"arm names must be unique, got {names}", "arms")
    seeds = _parse_seeds(top)

    s = top.sub("sampler")
    s.check_keys({"type", "seed"})
    sampler = Sampler(s.get("type", str, "grid", choices=SAMPLERS), s.get("seed", int, 0))
    if sampler.type == "grid":
        for i, arm in enumerate(arms):
            for p in arm.search_space:
                if p.grid is None:
                    top.fail(f"{p.key}: a grid sampler needs 'choices' or 'values'",
                             f"arms[{i}].search_space")

    o = top.sub("objective")
    o.check_keys({"metric", "direction", "reduce", "hook_metric"})
    objective = Objective(
        metric=o.get("metric", str, "val/nme"),
        direction=o.get("direction", str, "minimize", choices=("minimize", "maximize")),
        reduce=o.get("reduce", str, "last", choices=("last", "best")),
        hook_metric=o.get("hook_metric", str, "face/nme"),
    )
    raw_budget = top.data.get("budget")
    protocol = parse_protocol(top, names, raw_budget.get("n_trials") if isinstance(raw_budget, dict) else None,
                              sampler.type)
    budget = _parse_budget(top.sub("budget"), sampler, protocol)
    m = top.sub("mlflow")
    m.check_keys({"tracking_uri", "experiment"})
    spec = SweepSpec(
        name=name, arms=tuple(arms), seeds=seeds, sampler=sampler,
        pruner=_parse_pruner(top.sub("pruner")), objective=objective, budget=budget,
        resources=_parse_resources(top.sub("resources")),
        mlflow=MlflowTarget(m.get("tracking_uri", str, None), m.get("experiment", str, None)),
        storage=top.get("storage", str, None), work_dir=top.get("work_dir", str, None),
        description=top.get("description", str, ""), path=file, text=text, protocol=protocol,
    )
    if errors:
        raise SpecError(*errors, arms=tuple(sound))
    return spec


def load_spec(path: str | Path, *, root: str | Path) -> SweepSpec:
    """Read and validate ``path``; raises :class:`SpecError` (one line per mistake)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "<yaml>"
        raise SpecError(f"{path}: {where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_spec(data, file=str(path), root=Path(root), text=text)
