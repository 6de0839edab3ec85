"""A tiny plain-PyTorch CNN learns the synthetic set on CPU: NME far below the mean shape.

Faces are cropped as MMPose's top-down pipeline does (annotation center/scale, padded
1.25) to 32 px, and the CNN regresses the 68 coordinates directly (no heatmap): a crude
learner, so a pass means the images carry the landmark signal.
"""
from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from harness.data.synth import generate
from harness.schemes import get_scheme

CROP = 32


def _load(root, split):
    """Crops (N, 3, CROP, CROP) in [0, 1] and their landmarks (N, 68, 2) in crop pixels."""
    doc = json.loads((root / "annotations" / f"{split}.json").read_text())
    files = {im["id"]: im["file_name"] for im in doc["images"]}
    xs, ys = [], []
    for a in doc["annotations"]:
        img = cv2.imread(str(root / "images" / files[a["image_id"]]))
        s = CROP / (a["scale"] * 200 * 1.25)
        m = np.array([[s, 0, CROP / 2 - s * a["center"][0]], [0, s, CROP / 2 - s * a["center"][1]]])
        xs.append(cv2.warpAffine(img, m, (CROP, CROP), flags=cv2.INTER_AREA))
        ys.append(np.asarray(a["keypoints"]).reshape(-1, 3)[:, :2] * s + m[:, 2])
    return torch.tensor(np.stack(xs)).permute(0, 3, 1, 2).float() / 255, torch.tensor(np.stack(ys)).float()


def _nme(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean over images of mean point error / outer-eye-corner distance (300W 36, 45)."""
    left, right = get_scheme("300w").outer_eye_corners
    d = (gt[:, left] - gt[:, right]).norm(dim=-1)
    return float(((pred - gt).norm(dim=-1).mean(dim=1) / d).mean())


@pytest.mark.slow
def test_tiny_cnn_beats_the_mean_shape(tmp_path):
    torch.manual_seed(0)
    root = generate(tmp_path / "synth", n_train=2000, n_val=0, n_test=200, size=64, seed=0)
    xtr, ytr = _load(root, "train")
    xte, yte = _load(root, "test")
    baseline = _nme(ytr.mean(dim=0, keepdim=True).expand_as(yte), yte)

    def block(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))

    k = ytr.shape[1]
    net = nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.Flatten(),
                        nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, k * 2))
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    epochs = 30  # about 20 s on 2 idle cores
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * ((len(xtr) + 63) // 64))
    target = ytr.reshape(len(ytr), -1) / CROP - 0.5
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xtr)).split(64):
            loss = nn.functional.smooth_l1_loss(net(xtr[idx]), target[idx], beta=0.02)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        pred = (net(xte) + 0.5).reshape(len(xte), k, 2) * CROP
    nme = _nme(pred, yte)
    print(f"tiny CNN NME {100 * nme:.2f}% vs mean shape {100 * baseline:.2f}% "
          f"({time.perf_counter() - start:.0f} s training)")
    assert baseline > 0.15  # the set is not trivially aligned
    assert nme < 0.6 * baseline
