"""Re-run a logged run from its stored config, seed and code version, and compare.

The new run is linked to the old one by the tag ``harness.reproduces``; both metric sets
are returned with their difference. The code must be the logged commit, clean, unless
forced (then the new run says so in ``harness.reproduce_forced``).
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient

from harness.tracking.provenance import git_state
from harness.train.errors import BadRequest
from harness.train.request import TrainRequest

__all__ = ["Reproduction", "plan_reproduction", "compare_runs"]

_REPO_DIR = Path(__file__).resolve().parents[2]
COMPARED_PREFIXES = ("test/", "val/", "best/")


@dataclass
class Reproduction:
    request: TrainRequest
    original_run_id: str


def plan_reproduction(
    client: MlflowClient, run_id: str, work_dir: str, *, force: bool = False, repo_dir: Path = _REPO_DIR
) -> Reproduction:
    """Build the request that re-runs ``run_id``; refuses on a code mismatch unless ``force``."""
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        raise BadRequest(f"{client.tracking_uri}: no run {run_id!r} ({type(exc).__name__})") from exc
    logged_commit = run.data.tags.get("harness.git_commit", "unknown")
    here = git_state(repo_dir)
    problems = []
    if here["commit"] != logged_commit:
        problems.append(f"checked-out commit {here['commit']} differs from the logged {logged_commit}")
    if here["dirty"] == "true":
        problems.append("the working tree has uncommitted changes")
    if run.data.tags.get("harness.git_dirty") == "true":
        problems.append("the original run was made from uncommitted code")
    if problems and not force:
        raise BadRequest(f"run {run_id}: " + "; ".join(problems) + " (use --force to re-run anyway)")
    tmp = Path(tempfile.mkdtemp(prefix="harness-reproduce-"))
    config = Path(client.download_artifacts(run_id, "config/resolved_config.py", str(tmp)))
    original = json.loads(Path(client.download_artifacts(run_id, "provenance/request.json", str(tmp))).read_text())
    experiment = client.get_experiment(run.info.experiment_id).name
    tags = {"harness.reproduces": run_id}
    if problems:
        tags["harness.reproduce_forced"] = "; ".join(problems)[:1000]
    for key in ("harness.sweep", "harness.arm"):
        if key in run.data.tags:
            tags[key] = run.data.tags[key]
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    local_config = work / "reproduced_config.py"
    local_config.write_text(config.read_text())
    request = TrainRequest(
        config=str(local_config), work_dir=str(work), seed=int(original["seed"]),
        tracking_uri=client.tracking_uri, experiment=experiment,
        run_name=f"{run.info.run_name}-reproduced", tags=tags, cpu_threads=original.get("cpu_threads"),
    )
    return Reproduction(request=request, original_run_id=run_id)


def compare_runs(client: MlflowClient, old_run_id: str,
                 new_run_id: str) -> list[tuple[str, float | None, float | None, float | None]]:
    """(metric, old, new, new - old) for every test/val/best metric of either run."""
    old = client.get_run(old_run_id).data.metrics
    new = client.get_run(new_run_id).data.metrics
    rows = []
    for key in sorted(set(old) | set(new)):
        if not key.startswith(COMPARED_PREFIXES):
            continue
        a, b = old.get(key), new.get(key)
        rows.append((key, a, b, None if a is None or b is None else b - a))
    return rows
