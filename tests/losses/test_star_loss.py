"""STAR loss: a hand-computed case, a loop-and-eigh reference, degenerate covariances."""
import math

import numpy as np
import pytest
import torch

from harness.losses import STARLoss, star_loss


def _two_dots():
    # Half the mass at column 0, half at column 2 of row 1 in a 3 x 3 map. In [-1, 1]
    # units (align corners) the columns are -1, 0, 1: mu = (0, 0), S = diag(1, 0).
    heat = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    heat[0, 0, 1, 0] = heat[0, 0, 1, 2] = 0.5
    return heat


def test_hand_computed_error_along_the_major_axis():
    kp = torch.tensor([[[1.5, 1.0]]], dtype=torch.float64)  # x = 1.5 cells -> u = 0.5
    got = star_loss(_two_dots(), kp, normalize="none").item()
    # d(0.5) = 0.5 - 0.005 along v1 = x (l1 = 1); 0 along y; plus w * (1 + 0).
    assert got == pytest.approx(0.495 / math.sqrt(1 + 1e-5) + 1.0, rel=1e-9)


def test_hand_computed_error_along_the_minor_axis():
    kp = torch.tensor([[[1.0, 1.5]]], dtype=torch.float64)
    got = star_loss(_two_dots(), kp, normalize="none", w=0.0).item()
    assert got == pytest.approx(0.495 / math.sqrt(1e-5), rel=1e-9)


def test_quadratic_region_below_threshold():
    kp = torch.tensor([[[1.0 + 0.004, 1.0]]], dtype=torch.float64)  # u = 0.004 < 0.01
    got = star_loss(_two_dots(), kp, normalize="none", w=0.0).item()
    assert got == pytest.approx(0.5 * 0.004**2 / 0.01 / math.sqrt(1 + 1e-5), rel=1e-9)


def _reference(heat, kp, w, threshold, normalize):
    b_, k_, h, wd = heat.shape
    out = np.zeros((b_, k_))
    for b in range(b_):
        for k in range(k_):
            m = heat[b, k].numpy().astype(np.float64)
            if normalize == "softmax":
                p = np.exp(m - m.max())
            else:
                p = np.maximum((m - m.mean()) / np.sqrt(m.var() + 1e-5), 0.0)
            p = p / p.sum()
            mu = np.zeros(2)
            for r in range(h):
                for c in range(wd):
                    mu += p[r, c] * np.array([2 * c / (wd - 1) - 1, 2 * r / (h - 1) - 1])
            cov = np.zeros((2, 2))
            for r in range(h):
                for c in range(wd):
                    d = np.array([2 * c / (wd - 1) - 1, 2 * r / (h - 1) - 1]) - mu
                    cov += p[r, c] * np.outer(d, d)
            vals, vecs = np.linalg.eigh(cov)
            e = np.array([2 * kp[b, k, 0] / (wd - 1) - 1, 2 * kp[b, k, 1] / (h - 1) - 1]) - mu
            total = w * vals.sum()
            for i in range(2):
                x = abs(vecs[:, i] @ e)
                total += (0.5 * x * x / threshold if x < threshold else x - 0.5 * threshold) / math.sqrt(vals[i] + 1e-5)
            out[b, k] = total
    return torch.from_numpy(out)


@pytest.mark.parametrize("normalize", ["softmax", "relu_instance_norm"])
def test_matches_loop_reference(normalize):
    gen = torch.Generator().manual_seed(6)
    heat = torch.randn(2, 3, 5, 6, generator=gen, dtype=torch.float64)
    kp = torch.rand(2, 3, 2, generator=gen, dtype=torch.float64).double() * 5
    got = star_loss(heat, kp, w=0.7, threshold=0.05, normalize=normalize, reduction="none")
    torch.testing.assert_close(got, _reference(heat, kp.numpy(), 0.7, 0.05, normalize))


def test_gradcheck():
    gen = torch.Generator().manual_seed(7)
    heat = torch.randn(1, 2, 4, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    kp = torch.tensor([[[1.2, 2.9], [3.7, 0.4]]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda s: star_loss(s, kp, normalize="softmax", threshold=0.05), (heat,))


@pytest.mark.parametrize("normalize", ["softmax", "relu_instance_norm", "none"])
def test_isotropic_map_has_finite_gradients(normalize):
    # A plus-shaped map centred on the grid has S = s * I: eigenvectors are arbitrary.
    heat = torch.zeros(1, 1, 5, 5)
    heat[0, 0, 2, 1:4] = heat[0, 0, 1:4, 2] = 1.0
    heat.requires_grad_()
    loss = star_loss(heat, torch.tensor([[[2.6, 1.7]]]), normalize=normalize)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(heat.grad).all()


def test_constant_map_and_zero_weight():
    heat = torch.ones(1, 2, 4, 4, requires_grad=True)
    kp = torch.tensor([[[1.0, 1.0], [float("nan"), 0.0]]])
    loss = STARLoss()(heat, kp, torch.tensor([[1.0, 0.0]]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(heat.grad).all() and (heat.grad[0, 1] == 0).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs(dtype):
    heat = torch.randn(1, 2, 8, 8).to(dtype).requires_grad_()
    loss = star_loss(heat, torch.full((1, 2, 2), 3.3), normalize="softmax")
    loss.backward()
    assert loss.dtype == torch.float32 and heat.grad.dtype == dtype and torch.isfinite(heat.grad.float()).all()
