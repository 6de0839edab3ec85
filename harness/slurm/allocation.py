"""A SLURM task's device slots, from what SLURM allocated to it (its environment).

SLURM tells a task its GPUs in ``CUDA_VISIBLE_DEVICES`` (the names CUDA honours: indices,
renumbered under device cgroups, or UUIDs) and ``SLURM_JOB_GPUS`` (the node's indices),
and its CPUs in ``SLURM_CPUS_PER_TASK``. The spec's resources still say how to split them
(trials per GPU, GPUs per DDP trial, threads per trial); the spec's own GPU list is
ignored, since the scheduler, not the spec, decides which GPUs a task gets.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from harness.sweep.launchers import Slot, plan_slots
from harness.sweep.spec import Resources

__all__ = ["allocated_gpus", "allocated_cpus", "slots_from_allocation"]


def allocated_gpus(env: Mapping[str, str]) -> list[str]:
    """The GPUs this task may use, as names for ``CUDA_VISIBLE_DEVICES`` (empty: none)."""
    for var in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS"):
        value = env.get(var)
        if value is not None:
            # SLURM writes "NoDevFiles" (older releases) when the job has no GPU.
            return [g.strip() for g in value.split(",") if g.strip() and g.strip() != "NoDevFiles"]
    return []


def allocated_cpus(env: Mapping[str, str]) -> int:
    """CPUs of this task: ``SLURM_CPUS_PER_TASK``, else the CPUs this process may run on."""
    value = env.get("SLURM_CPUS_PER_TASK", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) or 1


def slots_from_allocation(resources: Resources, env: Mapping[str, str]) -> list[Slot]:
    """One slot per trial this task runs at once, on exactly the devices it was given.

    With GPUs, slots are planned over their positions and each slot's
    ``CUDA_VISIBLE_DEVICES`` names the allocated GPUs at those positions, so a slot never
    reaches a GPU of another job. Without GPUs, the spec's CPU layout applies to the
    task's CPUs.
    """
    gpus = allocated_gpus(env)
    cpus = allocated_cpus(env)
    if not gpus:
        return plan_slots(dataclasses.replace(resources, device="cpu", gpus=(), workers=None), cpu_count=cpus)
    planned = plan_slots(dataclasses.replace(resources, device="cuda", gpus=tuple(range(len(gpus))),
                                             workers=None), cpu_count=cpus)
    slots = []
    for slot in planned:
        positions = [int(p) for p in slot.env["CUDA_VISIBLE_DEVICES"].split(",")]
        env_of_slot = {**slot.env, "CUDA_VISIBLE_DEVICES": ",".join(gpus[p] for p in positions)}
        slots.append(dataclasses.replace(slot, env=env_of_slot))
    return slots
