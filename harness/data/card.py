"""The data-set card: ``DIR/card.json`` (machine-readable) and ``DIR/README.md``.

Every set the harness writes carries one, so a run can log what it trained on (name,
kind synthetic|real, scheme, counts, seed, generator version) and synthetic numbers are
never mistaken for benchmark numbers.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.schemes import get_scheme

__all__ = ["REQUIRED_KEYS", "write_card", "read_card"]

REQUIRED_KEYS = ("name", "kind", "scheme", "num_keypoints", "splits", "seed", "generator", "generator_version")


def write_card(out_dir: str | Path, card: Mapping[str, Any], description: str) -> Path:
    """Write ``card.json`` and a ``README.md`` made from it; returns the JSON path."""
    out_dir = Path(out_dir)
    missing = [k for k in REQUIRED_KEYS if k not in card]
    if missing:
        raise ValueError(f"data-set card lacks {missing}")
    scheme = get_scheme(card["scheme"])
    lines = [
        f"# {card['name']} ({card['kind']} data set)",
        "",
        description.strip(),
        "",
        "| key | value |",
        "|---|---|",
        f"| kind | {card['kind']} |",
        (f"| scheme | {scheme.name} ({scheme.num_keypoints} points; NME normaliser: outer eye corners "
         f"{scheme.outer_eye_corners[0]} and {scheme.outer_eye_corners[1]}) |"),
        f"| splits | {', '.join(f'{k}: {v}' for k, v in card['splits'].items())} |",
        f"| seed | {card['seed']} |",
        f"| generator | {card['generator']} {card['generator_version']} |",
        "",
        ("Layout: `annotations/{split}.json` (MMPose COCO-style face annotations: `center`, "
         "`scale` = box side / 200, `keypoints` [x, y, v] with v = 2 visible, 1 occluded), "
         "images under `images/`."),
        "",
    ]
    (out_dir / "README.md").write_text("\n".join(lines))
    path = out_dir / "card.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(card), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)  # written last and atomically: its presence means the set is complete
    return path


def read_card(out_dir: str | Path) -> dict[str, Any] | None:
    """The card of ``out_dir``, or None when there is none (or it is unreadable)."""
    path = Path(out_dir) / "card.json"
    try:
        card: dict[str, Any] = json.loads(path.read_text())
        return card
    except (OSError, json.JSONDecodeError):
        return None
