"""Target distributions, margins and the closed-form 2x2 eigen-decomposition."""

import pytest
import torch

from harness.losses import (
    bilinear_target,
    gaussian_target,
    get_margin,
    image_aware_target,
    make_target,
    nearest_target,
    smooth_l1_margin,
)
from harness.losses.eig2x2 import sym2x2_eig


def test_nearest_rounds_half_up_and_clamps():
    kp = torch.tensor([[[1.5, 0.49], [-3.0, 9.0]]])
    q = nearest_target(kp, 4, 5).dense()
    assert q[0, 0, 0, 2] == 1 and q[0, 0].sum() == 1
    assert q[0, 1, 3, 0] == 1 and q[0, 1].sum() == 1


def test_bilinear_hand_computed():
    q = bilinear_target(torch.tensor([[[1.25, 2.5]]]), 4, 4).dense()[0, 0]
    expected = torch.zeros(4, 4)
    expected[2, 1], expected[2, 2], expected[3, 1], expected[3, 2] = 0.375, 0.125, 0.375, 0.125
    torch.testing.assert_close(q, expected)


def test_bilinear_on_the_last_cell_and_outside():
    q = bilinear_target(torch.tensor([[[3.0, 3.0], [4.5, -1.0]]]), 4, 4).dense()[0]
    assert q[0, 3, 3] == 1 and q[0].sum() == 1
    assert q[1, 0, 3] == 1 and q[1].sum() == 1


def test_gaussian_is_normalised_and_matches_formula():
    kp = torch.tensor([[[1.2, 2.7]]], dtype=torch.float64)
    q = gaussian_target(kp, 5, 4, sigma=0.9).dense()[0, 0]
    r, c = torch.meshgrid(torch.arange(5.0), torch.arange(4.0), indexing="ij")
    ref = torch.exp(-((c - 1.2) ** 2 + (r - 2.7) ** 2) / (2 * 0.81)).double()
    torch.testing.assert_close(q, ref / ref.sum())


def test_gaussian_far_outside_the_grid_stays_a_distribution():
    q = gaussian_target(torch.tensor([[[500.0, -400.0]]]), 4, 4, sigma=0.5).dense()
    assert torch.isfinite(q).all() and q.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "gaussian"])
def test_expect_equals_dense_expectation(mode):
    gen = torch.Generator().manual_seed(3)
    scores = torch.randn(2, 3, 6, 7, generator=gen, dtype=torch.float64)
    kp = torch.rand(2, 3, 2, generator=gen, dtype=torch.float64) * 6
    q = make_target(mode, kp, 6, 7, sigma=1.1)
    torch.testing.assert_close(q.expect(scores), (q.dense() * scores).sum((-2, -1)))
    grad = torch.zeros_like(scores)
    q.subtract_from(grad)
    torch.testing.assert_close(grad, -q.dense())


def test_explicit_target_tensor_is_checked():
    with pytest.raises(ValueError, match="must be"):
        make_target(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 2), 4, 4)


def _edge_image(vertical: bool) -> torch.Tensor:
    ramp = (torch.arange(32.0) >= 16).float()
    img = ramp.view(1, -1).expand(32, 32) if vertical else ramp.view(-1, 1).expand(32, 32)
    return img.reshape(1, 1, 32, 32).clone()


def _spread(q: torch.Tensor, x: float, y: float) -> tuple[float, float]:
    r, c = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    return float((q * (c - x) ** 2).sum()), float((q * (r - y) ** 2).sum())


def test_image_aware_stretches_along_a_vertical_edge():
    kp = torch.tensor([[[7.5, 8.0]]])  # on the edge between columns 7 and 8 of a 16 x 16 grid
    q = image_aware_target(kp, _edge_image(vertical=True), 16, 16, sigma=1.0, anisotropy=3.0, blend=1.0).prob[0, 0]
    var_x, var_y = _spread(q, 7.5, 8.0)
    assert q.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert var_y > 4 * var_x  # std 3 along the edge vs about 1 across it


def test_image_aware_stretches_along_a_horizontal_edge():
    kp = torch.tensor([[[8.0, 7.5]]])
    q = image_aware_target(kp, _edge_image(vertical=False), 16, 16, sigma=1.0, anisotropy=3.0, blend=1.0).prob[0, 0]
    var_x, var_y = _spread(q, 8.0, 7.5)
    assert var_x > 4 * var_y


def test_image_aware_on_a_flat_image_is_the_isotropic_gaussian():
    kp = torch.tensor([[[5.3, 9.1], [0.0, 15.0]]])
    q = image_aware_target(kp, torch.ones(1, 3, 64, 64), 16, 16, sigma=1.2, blend=0.7).prob
    torch.testing.assert_close(q, gaussian_target(kp, 16, 16, 1.2).dense())


def test_margins_hand_computed():
    dx, dy = torch.tensor([[[[3.0]]]]), torch.tensor([[[[-4.0]]]])
    assert get_margin("l1")(dx, dy).item() == 7.0
    assert get_margin("l2")(dx, dy).item() == 5.0
    assert get_margin("squared_l2")(dx, dy).item() == 25.0
    assert get_margin("smooth_l1")(dx, dy).item() == 4.5  # 5 - 1/2
    assert smooth_l1_margin(2.0)(torch.tensor([[[[0.6]]]]), torch.tensor([[[[0.8]]]])).item() == pytest.approx(0.25)


def test_margin_broadcasts_separable_offsets_to_full_maps():
    dx, dy = torch.arange(3.0).view(1, 1, 1, 3), torch.arange(2.0).view(1, 1, 2, 1)
    assert get_margin("l1")(dx, dy).tolist() == [[[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]]]


def test_eig2x2_matches_eigh():
    gen = torch.Generator().manual_seed(4)
    m = torch.randn(50, 2, 2, generator=gen, dtype=torch.float64)
    s = m @ m.transpose(-1, -2)
    l1, l2, cos_t, sin_t = sym2x2_eig(s[:, 0, 0], s[:, 0, 1], s[:, 1, 1])
    ref = torch.linalg.eigvalsh(s)
    torch.testing.assert_close(torch.stack([l2, l1], -1), ref)
    v1 = torch.stack([cos_t, sin_t], -1)
    torch.testing.assert_close((s @ v1.unsqueeze(-1)).squeeze(-1), l1.unsqueeze(-1) * v1)


def test_eig2x2_isotropic_has_finite_gradients():
    a = torch.tensor([0.3, 0.3], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.0, 1e-30], dtype=torch.float64, requires_grad=True)
    c = torch.tensor([0.3, 0.3], dtype=torch.float64, requires_grad=True)
    l1, l2, cos_t, sin_t = sym2x2_eig(a, b, c)
    (l1 + 2 * l2 + cos_t + sin_t).sum().backward()
    assert l1.tolist() == [0.3, 0.3] and cos_t.tolist() == [1.0, 1.0]
    for t in (a, b, c):
        assert torch.isfinite(t.grad).all()
