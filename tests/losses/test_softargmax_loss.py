"""Soft-argmax expectation and coordinate loss on hand-computed cases."""
import math

import pytest
import torch

from harness.losses import SoftArgmaxLoss, soft_argmax, softargmax_loss


def _two_cells():
    # softmax([0, log 3]) = [1/4, 3/4] -> x = 0.75, y = 0.
    return torch.tensor([[[[0.0, math.log(3.0)]]]], requires_grad=True)


def test_expectation_hand_computed():
    torch.testing.assert_close(soft_argmax(_two_cells()), torch.tensor([[[0.75, 0.0]]]))


def test_beta_sharpens():
    # beta = 2: weights [1, 9] / 10 -> x = 0.9.
    assert soft_argmax(_two_cells(), beta=2.0)[0, 0, 0].item() == pytest.approx(0.9)


@pytest.mark.parametrize("loss, expected", [("l1", 0.25 + 0.5), ("l2", math.hypot(0.25, 0.5)),
                                            ("smooth_l1", 0.5 * (0.0625 + 0.25))])
def test_coordinate_losses(loss, expected):
    kp = torch.tensor([[[1.0, 0.5]]])
    assert softargmax_loss(_two_cells(), kp, loss=loss).item() == pytest.approx(expected, rel=1e-6)


def test_l2_gradient_is_finite_at_zero_error():
    s = _two_cells()
    softargmax_loss(s, torch.tensor([[[0.75, 0.0]]]), loss="l2").backward()
    assert torch.isfinite(s.grad).all()


def test_zero_weight_and_module():
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(2, 2, 4, 4, generator=gen, requires_grad=True)
    kp = torch.rand(2, 2, 2, generator=gen) * 3
    w = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    SoftArgmaxLoss(loss="smooth_l1")(s, kp, w).backward()
    assert (s.grad[0, 1] == 0).all() and s.grad[0, 0].abs().sum() > 0
    assert softargmax_loss(s, kp, w, reduction="none")[0, 1].item() == 0.0
