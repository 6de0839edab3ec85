"""Speed work must not change values: the soft-argmax core against its previous implementation.

The reference below is the implementation before the one-matmul expectation (marginals by a
row sum and a column bmm, and a product with beta even at beta = 1). Outputs and gradients
must agree to float32 rounding (float64: to 1e-12), for several shapes, temperatures and
every coordinate loss.
"""
from __future__ import annotations

import pytest
import torch

from harness.losses import soft_argmax, softargmax_loss
from harness.losses.common import column_sums


def _previous_soft_argmax(scores: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    b, k, h, w = scores.shape
    x = scores.to(torch.promote_types(scores.dtype, torch.float32))
    prob = torch.softmax(beta * x.flatten(2), -1).view(b, k, h, w)
    cols = torch.arange(w, dtype=x.dtype)
    rows = torch.arange(h, dtype=x.dtype)
    return torch.stack([column_sums(prob) @ cols, prob.sum(-1) @ rows], -1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("shape", "beta"), [((2, 3, 8, 8), 1.0), ((4, 98, 64, 64), 1.0), ((2, 5, 7, 12), 2.5)])
def test_soft_argmax_values_and_gradients_unchanged(dtype, shape, beta) -> None:
    gen = torch.Generator().manual_seed(1)
    raw = (3 * torch.randn(*shape, generator=gen)).to(dtype)
    a, b = raw.clone().requires_grad_(), raw.clone().requires_grad_()
    new, old = soft_argmax(a, beta), _previous_soft_argmax(b, beta)
    weights = torch.randn(*new.shape, generator=gen).to(dtype)
    (new * weights).sum().backward()
    (old * weights).sum().backward()
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(new, old, **tol)
    torch.testing.assert_close(a.grad, b.grad, **tol)


@pytest.mark.parametrize("loss", ["l1", "l2", "smooth_l1"])
def test_softargmax_loss_unchanged(loss) -> None:
    gen = torch.Generator().manual_seed(2)
    raw = torch.randn(3, 6, 16, 16, generator=gen, dtype=torch.float64)
    kp = torch.rand(3, 6, 2, generator=gen, dtype=torch.float64) * 15
    w = (torch.rand(3, 6, generator=gen) > 0.2).double()
    a, b = raw.clone().requires_grad_(), raw.clone().requires_grad_()
    new = softargmax_loss(a, kp, w, loss=loss)
    err = _previous_soft_argmax(b) - kp
    per = {"l1": err.abs().sum(-1), "l2": err.norm(dim=-1),
           "smooth_l1": torch.nn.functional.smooth_l1_loss(err, torch.zeros_like(err), reduction="none").sum(-1)}[loss]
    old = (per * w).sum() / w.sum()
    new.backward()
    old.backward()
    torch.testing.assert_close(new, old, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)
