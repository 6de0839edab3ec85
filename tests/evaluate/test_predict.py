"""`harness predict` on a few images, with and without face boxes."""
from __future__ import annotations

import json

import cv2
import pytest

from harness.cli.main import main
from harness.evaluate.schema import validate

pytestmark = pytest.mark.slow


def test_predict_writes_valid_landmarks_and_overlays(trained, tmp_path, capsys):
    images = sorted((trained.data / "images" / "test").glob("*.jpg"))[:3]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({images[0].name: [[10, 12, 80, 90], [0, 0, 50, 50]]}))
    out = tmp_path / "pred"
    code = main(["predict", trained.run_id, *map(str, images), "--boxes", str(boxes), "--out", str(out),
                 "--tracking-uri", trained.tracking_uri])
    assert code == 0, capsys.readouterr().err
    landmarks = validate(json.loads((out / "landmarks.json").read_text()))
    assert landmarks.model.num_keypoints == 98 and landmarks.model.scheme == "wflw"
    per_image = [sum(f.image == str(i) for f in landmarks.faces) for i in images]
    assert per_image == [2, 1, 1]
    assert landmarks.faces[0].box == (10.0, 12.0, 80.0, 90.0)
    assert landmarks.faces[2].box == (0.0, 0.0, 96.0, 96.0)  # no entry: the whole image
    assert all(len(f.keypoints) == len(f.scores) == 98 for f in landmarks.faces)
    overlays = sorted((out / "overlays").glob("*.png"))
    assert len(overlays) == 3 and all(cv2.imread(str(p)).shape == (96, 96, 3) for p in overlays)


def test_a_broken_document_or_boxes_file_is_named(trained, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"faces\[0\].keypoints: expected 2 \[x, y\] pairs"):
        validate({"schema": "harness.landmarks/1", "faces": [{"box": [0, 0, 1, 1], "keypoints": [], "scores": []}],
                  "model": {"source": "s", "checkpoint": "c", "config": "c", "scheme": "x", "num_keypoints": 2}})
    image = next((trained.data / "images" / "test").glob("*.jpg"))
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({image.name: [[5, 5, 1, 1]]}))
    code = main(["predict", "--checkpoint", str(trained.last_checkpoint), "--config", str(trained.config), str(image),
                 "--boxes", str(boxes), "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "boxes.json" in err[0] and "x2 > x1" in err[0]
    assert not (tmp_path / "p" / "landmarks.json").exists()
