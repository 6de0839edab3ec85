"""The faster MaskedJSDiscretLoss gives MMPose's JSDiscretLoss values and gradients (weights 1),
and exactly 0 loss and gradient for a keypoint of weight 0."""
from __future__ import annotations

import pytest
import torch

import harness.mm  # noqa: F401  (MMPose importable through harness.compat)
from harness.mm.losses import MaskedJSDiscretLoss


@pytest.mark.parametrize("size_average", [True, False])
def test_masked_js_equals_mmpose_js(size_average) -> None:
    from mmpose.models.losses import JSDiscretLoss

    gen = torch.Generator().manual_seed(3)
    raw = torch.randn(3, 5, 16, 16, generator=gen, dtype=torch.float64)
    gt = torch.softmax(torch.randn(3, 5, 256, generator=gen, dtype=torch.float64), -1).view(3, 5, 16, 16)
    a, b = raw.clone().requires_grad_(), raw.clone().requires_grad_()
    pa, pb = (torch.softmax(x.flatten(2), -1).view_as(x) for x in (a, b))
    ones = torch.ones(3, 5, dtype=torch.float64)
    new = MaskedJSDiscretLoss(use_target_weight=True, size_average=size_average)(pa, gt, ones)
    old = JSDiscretLoss(use_target_weight=True, size_average=size_average)(pb, gt, ones)
    new.backward()
    old.backward()
    torch.testing.assert_close(new, old, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_weight_zero_keypoint_gives_zero_loss_and_gradient() -> None:
    gen = torch.Generator().manual_seed(4)
    raw = torch.randn(2, 3, 8, 8, generator=gen).requires_grad_()
    gt = torch.softmax(torch.randn(2, 3, 64, generator=gen), -1).view(2, 3, 8, 8)
    w = torch.ones(2, 3)
    w[0, 1] = 0
    MaskedJSDiscretLoss(use_target_weight=True)(torch.softmax(raw.flatten(2), -1).view_as(raw), gt, w).backward()
    assert torch.isfinite(raw.grad).all() and raw.grad[0, 1].abs().max() == 0
