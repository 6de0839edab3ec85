"""AWing: zero at a perfect prediction, continuous at theta, foreground weighted."""
from __future__ import annotations

import math

import pytest
import torch

from harness.losses.awing import awing_loss, awing_weight_map


def test_zero_for_a_perfect_prediction_and_hand_value_in_the_log_branch():
    target = torch.zeros(1, 1, 3, 3)
    assert awing_loss(target, target) == 0
    pred = torch.full((1, 1, 3, 3), 0.25)
    # y = 0 everywhere: 14 * log(1 + 0.25 ** 2.1), no foreground so weights are 1.
    assert awing_loss(pred, target).item() == pytest.approx(14 * math.log1p(0.25**2.1), rel=1e-6)


def test_branches_meet_at_theta_with_finite_gradients():
    target = torch.full((1, 1, 1, 2), 0.3)
    below = awing_loss(target + 0.5 - 1e-6, target, weight_map=False)
    above = awing_loss(target + 0.5 + 1e-6, target, weight_map=False)
    assert below.item() == pytest.approx(above.item(), abs=1e-4)
    pred = (target + torch.tensor([0.1, 2.0]).view(1, 1, 1, 2)).requires_grad_()
    awing_loss(pred, target).backward()
    assert torch.isfinite(pred.grad).all() and (pred.grad > 0).all()


def test_weight_map_is_eleven_near_the_foreground():
    target = torch.zeros(1, 1, 5, 5)
    target[0, 0, 2, 2] = 1.0
    weights = awing_weight_map(target)
    assert weights[0, 0, 1:4, 1:4].eq(11).all() and weights[0, 0, 0].eq(1).all()
