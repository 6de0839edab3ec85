"""Sweep overhead and throughput on CPU.

1. Overhead ratio: wall time of a one-trial ``harness sweep run`` against the same
   training (same config, overrides, seed, epochs, threads) by a plain MMEngine Runner
   script (``Runner.from_cfg(cfg).train()`` then ``.test()``), both as fresh processes.
   Target <= 1.03.
2. Throughput: trials per hour of a sweep of tiny trials with 1 and with 2 workers.

    .venv/bin/python benchmarks/bench_sweep.py                 # both, ~15 min on 2 cores
    .venv/bin/python benchmarks/bench_sweep.py --only ratio --epochs 4 --n-train 256

Results are printed and written as JSON to ``--out`` (default
benchmarks/results/bench_sweep.json).
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = "mm_configs/synth300w/structured_hrnet-tiny_1xb32-12e_synth300w-128x128.py"

PLAIN_SCRIPT = """
import sys, json
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile(sys.argv[1])
cfg.merge_from_dict(json.loads(sys.argv[2]))
cfg.work_dir = sys.argv[3]
cfg.randomness = dict(seed=0, deterministic=True)
import torch
torch.set_num_threads(int(sys.argv[4]))
runner = Runner.from_cfg(cfg)
runner.train()
runner.test()
"""


def _overrides(data: Path, batch: int, epochs: int) -> dict:
    out = {f"{s}_dataloader.dataset.data_root": f"{data}/" for s in ("train", "val", "test")}
    out.update({f"{s}_dataloader.batch_size": batch for s in ("train", "val", "test")})
    out["train_cfg.max_epochs"] = epochs
    return out


def _timed(cmd: list[str], env_threads: int) -> float:
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": str(env_threads),
           "MKL_NUM_THREADS": str(env_threads), "CUDA_VISIBLE_DEVICES": "",
           "HOME": str(Path.home())}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall


def _spec(tmp: Path, name: str, data: Path, batch: int, epochs: int, seeds: list[int],
          workers: int, threads: int) -> Path:
    overrides = _overrides(data, batch, epochs)
    overrides.pop("train_cfg.max_epochs")  # the sweep sets it from budget.epochs
    spec = {"name": name, "seeds": seeds, "budget": {"epochs": epochs},
            "arms": [{"name": "structured", "method": "structured", "config": CONFIG,
                      "overrides": overrides}],
            "resources": {"workers": workers, "cpu_threads_per_trial": threads},
            "work_dir": str(tmp / name),
            "mlflow": {"tracking_uri": f"sqlite:///{tmp / name / 'mlflow.db'}", "experiment": "bench"}}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _sweep(spec: Path, threads: int, expect: int) -> tuple[float, float]:
    """Wall time of ``harness sweep run SPEC`` and the summed Optuna trial durations.

    Fails unless ``expect`` trials completed. The difference of the two is the
    orchestration's own cost, free of the training-speed noise of a shared machine.
    """
    import optuna

    wall = _timed([sys.executable, "-m", "harness.cli.main", "sweep", "run", str(spec)], threads)
    data = yaml.safe_load(spec.read_text())
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(Path(data["work_dir"]) / "optuna.journal")))
    study = optuna.load_study(study_name=data["name"], storage=storage)
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    if len(done) != expect:
        errors = [t.user_attrs.get("harness.error", "")[-1500:] for t in study.trials]
        raise SystemExit(f"{spec}: {len(done)}/{expect} trials complete:\n" + "\n".join(errors))
    return wall, sum(t.duration.total_seconds() for t in done)


def _synth(tmp: Path, n_train: int) -> Path:
    out = tmp / f"synth-{n_train}"
    subprocess.run([sys.executable, "-m", "harness.cli.main", "data", "synth", "--out", str(out),
                    "--n-train", str(n_train), "--n-val", str(max(8, n_train // 8)),
                    "--n-test", str(max(8, n_train // 8))], cwd=REPO, check=True, capture_output=True)
    return out


def bench_ratio(tmp: Path, n_train: int, epochs: int, threads: int, repeats: int) -> dict:
    data = _synth(tmp, n_train)
    plain, sweep, trial = [], [], []
    for r in range(repeats):
        # Alternate the order so drifting load on a shared machine hits both alike.
        for kind in (("plain", "sweep") if r % 2 == 0 else ("sweep", "plain")):
            if kind == "plain":
                cmd = [sys.executable, "-c", PLAIN_SCRIPT, CONFIG,
                       json.dumps(_overrides(data, 32, epochs)), str(tmp / f"plain-{r}"), str(threads)]
                plain.append(_timed(cmd, threads))
            else:
                spec = _spec(tmp, f"ratio-{r}", data, 32, epochs, [0], 1, threads)
                wall, in_trial = _sweep(spec, threads, expect=1)
                sweep.append(wall)
                trial.append(in_trial)
    best_plain, best_sweep = min(plain), min(sweep)
    return {"plain_seconds": plain, "sweep_seconds": sweep, "trial_seconds": trial,
            "ratio_of_minima": best_sweep / best_plain, "overhead_seconds": best_sweep - best_plain,
            # Orchestrator start, MLflow store/parent run, queueing, read-back, summary:
            "orchestration_seconds": [w - t for w, t in zip(sweep, trial, strict=False)],
            "n_train": n_train, "epochs": epochs, "threads": threads}


def bench_throughput(tmp: Path, n_trials: int) -> dict:
    data = _synth(tmp, 8)
    out = {}
    for workers in (1, 2):
        spec = _spec(tmp, f"tput-{workers}", data, 4, 1, list(range(n_trials)), workers, 1)
        wall, _ = _sweep(spec, 1, expect=n_trials)
        out[f"{workers}_workers"] = {"trials": n_trials, "seconds": wall,
                                     "trials_per_hour": n_trials / wall * 3600}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("ratio", "throughput"))
    parser.add_argument("--n-train", type=int, default=128, help="images in the ratio run")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--n-trials", type=int, default=4, help="tiny trials per throughput run")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/bench_sweep.json"))
    args = parser.parse_args(argv)
    results: dict = {"machine": platform.node(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        if args.only in (None, "ratio"):
            results["ratio"] = bench_ratio(Path(tmp), args.n_train, args.epochs, args.threads,
                                           args.repeats)
            r = results["ratio"]
            print(f"one-trial sweep / plain Runner: {r['ratio_of_minima']:.3f} "
                  f"({min(r['sweep_seconds']):.1f} s vs {min(r['plain_seconds']):.1f} s); "
                  f"orchestration outside the trial: {min(r['orchestration_seconds']):.1f} s")
        if args.only in (None, "throughput"):
            results["throughput"] = bench_throughput(Path(tmp), args.n_trials)
            for k, v in results["throughput"].items():
                print(f"{k.replace('_', ' ')}: {v['trials_per_hour']:.0f} trials/hour "
                      f"({v['trials']} trials in {v['seconds']:.0f} s)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
