"""The project's MMPose plug-in package: importing it registers every module.

Configs load it with ``custom_imports=dict(imports=['harness.mm'],
allow_failed_imports=False)`` so that a typo fails at start-up. The compat fixes run
first because ``mmpose.models`` cannot be imported on mmcv-lite without them.
"""
from harness import compat

compat.apply()

from harness.mm import (  # noqa: E402  (registration)
    aam_head,
    checkpoint,
    codecs,
    estimators,
    heads,
    hooks,
    hourglass,
    losses,
    metric,
    pruning,
    revalidate,
    transforms,
)

__all__ = ["aam_head", "checkpoint", "codecs", "estimators", "heads", "hooks", "hourglass", "losses", "metric",
           "pruning", "revalidate", "transforms"]
