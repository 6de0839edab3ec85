"""Sweeps on a SLURM cluster: an sbatch job array of sweep workers over one shared study.

``harness sweep submit SPEC --slurm`` queues the study as ``harness sweep run`` does, writes
an sbatch script (:mod:`harness.slurm.script`) and submits it (:mod:`harness.slurm.jobs`);
each array task runs :mod:`harness.slurm.worker`, which sizes its device slots from its
allocation (:mod:`harness.slurm.allocation`) and claims trials until none is left.
"""
from __future__ import annotations

__all__: list[str] = []
