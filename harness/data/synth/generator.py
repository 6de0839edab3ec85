"""Generate a synthetic face-landmark set in MMPose's COCO-style layout.

``generate(DIR, scheme="300w", ...)`` writes ``DIR/images/{split}/*.jpg``,
``DIR/annotations/{split}.json`` for train, val and test, and ``DIR/card.json``. Each
image has its own random stream, ``default_rng([seed, split, index])``, so a set is
byte-identical for a seed whatever the order of generation, and a larger set extends a
smaller one with the same seed image for image.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from harness.data.card import read_card, write_card
from harness.data.coco import make_annotation, make_image, write_annotation_file
from harness.data.errors import DataError
from harness.data.mapping import wflw_to_cofw
from harness.data.synth.procedural import finish_image, render_procedural
from harness.data.synth.shapes import NATIVE_SCHEME, sample_face
from harness.schemes import get_scheme

__all__ = ["generate", "GENERATOR_VERSION", "SPLITS"]

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1"  # bump whenever the images or labels of a seed change
SPLITS = ("train", "val", "test")
RENDERERS = ("procedural", "photoreal")


def _request(scheme: str, counts: dict[str, int], size: int, seed: int, renderer: str,
             scan: str | None) -> dict[str, Any]:
    return {
        "scheme": scheme,
        "splits": counts,
        "size": size,
        "seed": seed,
        "renderer": renderer,
        "scan": scan,
        "generator_version": GENERATOR_VERSION,
    }


def _prepare_dir(out: Path) -> None:
    """Clear a previous synthetic set in ``out``; refuse to touch anything else."""
    if not out.exists():
        return
    card = read_card(out)
    leftovers = [p for p in out.iterdir() if p.name not in ("images", "annotations", "card.json", "README.md")]
    if (card is not None and card.get("kind") != "synthetic") or leftovers:
        raise DataError(out, "exists and is not a synthetic set written by `harness data synth`; choose another --out")
    for name in ("images", "annotations"):
        if (out / name).exists():
            shutil.rmtree(out / name)


def generate(
    out_dir: str | Path,
    *,
    scheme: str = "300w",
    n_train: int = 1500,
    n_val: int = 300,
    n_test: int = 300,
    size: int = 128,
    seed: int = 0,
    renderer: str = "procedural",
    scan: str | Path | None = None,
) -> Path:
    """Write a synthetic set to ``out_dir`` (or reuse it) and return ``out_dir``.

    Args:
        scheme: "300w" (68 points), "wflw" (98) or "cofw" (29); also 68, 98 or 29.
        n_train, n_val, n_test: images per split (one face each).
        size: image side in pixels (square images).
        seed: the only source of randomness.
        renderer: "procedural" or "photoreal" (needs ``scan``, the menpo3d sdist or its
            extracted ``menpo3d/data`` folder; without it: procedural, with a warning).

    Idempotent: when ``out_dir/card.json`` records the same request, nothing is written.
    """
    sch = get_scheme(scheme)
    if renderer not in RENDERERS:
        raise ValueError(f"unknown renderer {renderer!r} (known: {', '.join(RENDERERS)})")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    counts = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
    if min(counts.values()) < 0 or sum(counts.values()) == 0:
        raise ValueError(f"split sizes must be >= 0 and not all 0, got {counts}")
    out = Path(out_dir)
    scan_key = str(Path(scan).resolve()) if scan else None
    request = _request(sch.name, counts, size, seed, renderer, scan_key)
    card = read_card(out)
    if card is not None and card.get("request") == request:
        log.info("%s already holds this synthetic set (card.json matches); not regenerating", out)
        return out

    scan_model = None
    used_renderer = "procedural"
    if renderer == "photoreal":
        from harness.data.synth.photoreal import load_scan  # only this renderer needs the scan

        if sch.name != "300w":
            log.warning("the photo-real scan has 68 landmarks only; using the procedural renderer for %s", sch.name)
        else:
            scan_model = load_scan(scan)
        if scan_model is not None:
            used_renderer = "photoreal"
    _prepare_dir(out)
    native = NATIVE_SCHEME[sch.name]
    start = time.perf_counter()
    for split_no, split in enumerate(SPLITS):
        images, anns = [], []
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        for i in range(counts[split]):
            rng = np.random.default_rng([seed, split_no, i])
            if scan_model is not None:
                img, occluded, face = scan_model.render(rng, size)
            else:
                face = sample_face(rng, native, size)
                img, occluded = render_procedural(rng, face, size)
            img, quality = finish_image(rng, img)
            points, visible = face.points, face.facing & ~occluded
            if sch.name == "cofw":
                points = wflw_to_cofw(points)
                visible = wflw_to_cofw(visible[:, None].astype(float))[:, 0] > 0.5
            name = f"{split}/{i:06d}.jpg"
            _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            (out / "images" / name).write_bytes(buf.tobytes())
            image_id = i + 1
            images.append(make_image(image_id, name, size, size))
            anns.append(make_annotation(image_id, image_id, points, visible))
        write_annotation_file(
            out / "annotations" / f"{split}.json", images, anns, sch.num_keypoints,
            info={"description": f"synthetic {sch.name} faces, split {split}", "seed": seed,
                  "generator_version": GENERATOR_VERSION},
        )
    seconds = time.perf_counter() - start
    total = sum(counts.values())
    log.info("generated %d images in %.1f s (%.0f images/s)", total, seconds, total / max(seconds, 1e-9))
    card = {
        "name": out.name or "synth",
        "kind": "synthetic",
        "scheme": sch.name,
        "num_keypoints": sch.num_keypoints,
        "splits": counts,
        "seed": seed,
        "size": size,
        "renderer": used_renderer,
        "generator": "harness.data.synth",
        "generator_version": GENERATOR_VERSION,
        "request": request,  # timing is logged, not stored: the card must be deterministic
    }
    description = (
        f"Synthetic faces made by `harness data synth` (renderer: {used_renderer}). Shapes: SPIGA's 3D mean "
        "face (BSD-3) with random identity, expression, 3D head pose and perspective; labels are the exact "
        "projected landmarks; v=1 marks points hidden by an occluder or facing away. "
        "Not a benchmark: numbers on it are never comparable with WFLW, 300W or COFW results."
    )
    write_card(out, card, description)
    return out
