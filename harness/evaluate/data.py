"""The data set split an evaluation scores on: a prepared or synthetic set and its card."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.data.card import read_card
from harness.data.check import check_annotation_file
from harness.data.errors import DataError
from harness.train.errors import BadRequest

__all__ = ["EvalSplit", "open_split"]


@dataclass(frozen=True)
class EvalSplit:
    """One split of a set with a card (``harness data prepare`` / ``harness data synth``).

    Attributes:
        root: the set's directory.
        split: e.g. "test", "test_challenge", "val".
        name, kind, scheme: from the card (kind "synthetic" | "real").
        ann_file: ``root/annotations/<split>.json``.
        digest: sha256 of the annotation file.
        num_images: annotations in the split.
    """

    root: Path
    split: str
    name: str
    kind: str
    scheme: str
    ann_file: Path
    digest: str
    num_images: int

    @property
    def label(self) -> str:
        """``<data set>/<split>``, the dataset-input name of MLflow records."""
        return f"{self.name}/{self.split}"


def open_split(root: str | Path, split: str) -> EvalSplit:
    """Check ``root`` and its ``split``; one-line :class:`BadRequest` for a missing card, split or bad file."""
    from harness.tracking.provenance import file_sha256

    root = Path(root)
    card = read_card(root)
    if card is None:
        raise BadRequest(f"{root}: no readable card.json: not a set made by `harness data prepare` or "
                         "`harness data synth`")
    ann_file = root / "annotations" / f"{split}.json"
    if not ann_file.is_file():
        known = sorted(p.stem for p in (root / "annotations").glob("*.json"))
        raise BadRequest(f"{root}: no split {split!r} (splits: {', '.join(known) or 'none'})")
    try:
        count = check_annotation_file(ann_file, root / "images", expected_keypoints=card.get("num_keypoints"))
    except DataError as exc:
        raise BadRequest(str(exc)) from exc
    return EvalSplit(root=root.resolve(), split=split, name=str(card["name"]), kind=str(card["kind"]),
                     scheme=str(card["scheme"]), ann_file=ann_file.resolve(), digest=file_sha256(ann_file),
                     num_images=int(count["annotations"]))
