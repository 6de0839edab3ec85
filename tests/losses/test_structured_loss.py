"""The structured loss against a loop-by-loop float64 reference and its defining properties."""
import math

import pytest
import torch
import torch.nn.functional as F

from harness.losses import StructuredLoss, structured_loss, structured_loss_per_keypoint

MARGIN_NAMES = ["l1", "l2", "squared_l2", "smooth_l1"]
TARGET_NAMES = ["nearest", "bilinear", "gaussian"]


def _delta(name, dx, dy):
    dist = math.hypot(dx, dy)
    return {
        "l1": abs(dx) + abs(dy),
        "l2": dist,
        "squared_l2": dx * dx + dy * dy,
        "smooth_l1": 0.5 * dist * dist if dist < 1.0 else dist - 0.5,
    }[name]


def _target_weights(mode, x, y, h, w, sigma):
    """q[r][c] by explicit formulas (tent functions of the clamped point for bilinear)."""
    if mode == "nearest":
        cx = min(max(math.floor(x + 0.5), 0), w - 1)
        cy = min(max(math.floor(y + 0.5), 0), h - 1)
        return [[float(r == cy and c == cx) for c in range(w)] for r in range(h)]
    if mode == "bilinear":
        xc, yc = min(max(x, 0.0), w - 1.0), min(max(y, 0.0), h - 1.0)
        return [[max(0.0, 1 - abs(c - xc)) * max(0.0, 1 - abs(r - yc)) for c in range(w)] for r in range(h)]
    g = [[math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * sigma**2)) for c in range(w)] for r in range(h)]
    total = sum(map(sum, g))
    return [[v / total for v in row] for row in g]


def brute_force(scores, keypoints, *, eps, alpha, margin, target, sigma=None):
    b_, k_, h, w = scores.shape
    out = torch.zeros(b_, k_, dtype=torch.float64)
    for b in range(b_):
        for k in range(k_):
            x, y = keypoints[b, k].tolist()
            z = [(alpha * _delta(margin, c - x, r - y) + scores[b, k, r, c].item()) / eps
                 for r in range(h) for c in range(w)]
            top = max(z)
            lse = top + math.log(sum(math.exp(v - top) for v in z))
            q = _target_weights(target, x, y, h, w, sigma)
            f_y = sum(q[r][c] * scores[b, k, r, c].item() for r in range(h) for c in range(w))
            out[b, k] = eps * lse - f_y
    return out


@pytest.fixture
def case():
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 2, 5, 6, generator=gen, dtype=torch.float64) * 2
    kp = torch.tensor([[[1.3, 2.7], [4.5, 0.5]], [[-0.4, 3.2], [5.0, 4.0]]], dtype=torch.float64)
    return scores, kp


def test_hand_computed_two_cells():
    # Cells at x = 0 and 1, target x = 0: Delta = [0, 1] (l1), so L = log(e^0 + e^1) - 0.
    scores = torch.zeros(1, 1, 1, 2)
    kp = torch.tensor([[[0.0, 0.0]]])
    assert structured_loss(scores, kp, margin="l1").item() == pytest.approx(math.log(1 + math.e), abs=1e-6)


@pytest.mark.parametrize("margin", MARGIN_NAMES)
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_matches_brute_force(case, margin, target):
    scores, kp = case
    for eps, alpha in [(1.0, 1.0), (0.5, 2.0)]:
        ref = brute_force(scores, kp, eps=eps, alpha=alpha, margin=margin, target=target, sigma=0.8)
        for fused in (True, False):
            got = structured_loss_per_keypoint(
                scores, kp, eps=eps, alpha=alpha, margin=margin, target=target, sigma=0.8, fused=fused
            )
            torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_gradcheck_fused(case, target):
    scores, kp = case
    scores = scores.clone().requires_grad_()
    weights = torch.tensor([[1.0, 0.5], [0.0, 2.0]], dtype=torch.float64)

    def fn(s):
        per = structured_loss_per_keypoint(s, kp, eps=0.7, alpha=1.5, target=target, sigma=1.0, reuse_buffer=False)
        return per * weights

    assert torch.autograd.gradcheck(fn, (scores,))


def test_gradcheck_callable_margin(case):
    scores, kp = case
    scores = scores.clone().requires_grad_()
    cubic = lambda dx, dy: (dx.abs() + dy.abs()) ** 3  # noqa: E731
    fn = lambda s: structured_loss_per_keypoint(s, kp, margin=cubic, reuse_buffer=False)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (scores,))


@pytest.mark.parametrize("margin", MARGIN_NAMES)
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_fused_equals_plain_value_and_gradient(margin, target):
    gen = torch.Generator().manual_seed(1)
    # 64 x 64 exercises the vectorised in-place softmax kernel the fused path relies on.
    raw = torch.randn(2, 3, 64, 64, generator=gen) * 3
    kp = torch.rand(2, 3, 2, generator=gen) * 63
    grads, values = [], []
    for fused in (True, False):
        s = raw.clone().requires_grad_()
        loss = structured_loss_per_keypoint(s, kp, eps=0.5, margin=margin, target=target, sigma=1.5, fused=fused)
        (loss * torch.arange(6.0).view(2, 3)).sum().backward()
        values.append(loss.detach())
        grads.append(s.grad)
    torch.testing.assert_close(values[0], values[1], rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_gradient_is_softmax_minus_target():
    scores = torch.tensor([[[[0.0, 1.0, 2.0]]]], requires_grad=True)
    kp = torch.tensor([[[1.0, 0.0]]])
    structured_loss(scores, kp, alpha=0.0).backward()
    soft = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0)
    torch.testing.assert_close(scores.grad.flatten(), soft - torch.tensor([0.0, 1.0, 0.0]))


def test_fused_backward_twice_needs_copy(case):
    scores, kp = case
    s = scores.clone().requires_grad_()
    loss = structured_loss(s, kp)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="reuse_buffer=False"):
        loss.backward()


@pytest.mark.parametrize("margin", MARGIN_NAMES)
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_non_negative(margin, target):
    gen = torch.Generator().manual_seed(2)
    scores = torch.randn(3, 4, 7, 7, generator=gen) * 10
    kp = torch.rand(3, 4, 2, generator=gen) * 8 - 0.5
    loss = structured_loss(scores, kp, margin=margin, target=target, sigma=1.0, reduction="none")
    assert (loss >= -1e-5).all()


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_small_eps_approaches_structured_hinge(case, target):
    scores, kp = case
    alpha, eps = 1.5, 1e-4
    _, _, h, w = scores.shape
    got = structured_loss_per_keypoint(scores, kp, eps=eps, alpha=alpha, target=target, sigma=0.8)
    for b in range(2):
        for k in range(2):
            x, y = kp[b, k].tolist()
            cells = [(r, c) for r in range(h) for c in range(w)]
            top = max(alpha * math.hypot(c - x, r - y) + scores[b, k, r, c].item() for r, c in cells)
            q = _target_weights(target, x, y, h, w, 0.8)
            hinge = top - sum(q[r][c] * scores[b, k, r, c].item() for r, c in cells)
            # eps * logsumexp(z / eps) lies between max z and max z + eps * log(H * W).
            assert 0.0 <= got[b, k].item() - hinge <= eps * math.log(h * w) + 1e-12


def test_eps_to_zero_limit_is_hinge_nearest():
    scores = torch.tensor([[[[0.0, 3.0, 1.0], [2.0, 0.5, 0.0]]]], dtype=torch.float64)
    kp = torch.tensor([[[0.0, 1.0]]], dtype=torch.float64)  # target cell (row 1, col 0), F(y) = 2
    # max_p [Delta + F]: row 0 col 1 gives sqrt(2) + 3.
    hinge = math.sqrt(2) + 3.0 - 2.0
    for eps, tol in [(1e-1, 0.2), (1e-3, 2e-3), (1e-5, 2e-5)]:
        assert structured_loss(scores, kp, eps=eps).item() == pytest.approx(hinge, abs=tol)


def test_alpha_zero_eps_one_is_cross_entropy(case):
    scores, kp = case
    b, k, h, w = scores.shape
    cells = (torch.floor(kp[..., 1] + 0.5).clamp(0, h - 1) * w + torch.floor(kp[..., 0] + 0.5).clamp(0, w - 1)).long()
    ce = F.cross_entropy(scores.view(b * k, h * w), cells.view(-1), reduction="none").view(b, k)
    got = structured_loss(scores, kp, alpha=0.0, eps=1.0, target="nearest", reduction="none")
    torch.testing.assert_close(got, ce)


def test_zero_weight_gives_zero_loss_and_gradient(case):
    scores, kp = case
    kp = kp.clone()
    kp[1, 0] = float("nan")  # a missing landmark
    weights = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    s = scores.clone().requires_grad_()
    per = structured_loss(s, kp, weights, reduction="none")
    assert per[1, 0].item() == 0.0 and torch.isfinite(per).all()
    structured_loss(s, kp, weights, target="gaussian", sigma=1.0).backward()
    assert (s.grad[1, 0] == 0).all() and s.grad[0, 0].abs().sum() > 0


def test_all_zero_weights_mean_is_zero_not_nan(case):
    scores, kp = case
    s = scores.clone().requires_grad_()
    loss = structured_loss(s, kp, torch.zeros(2, 2, dtype=torch.float64))
    loss.backward()
    assert loss.item() == 0.0 and (s.grad == 0).all()


def test_reductions(case):
    scores, kp = case
    weights = torch.tensor([[1.0, 0.5], [0.0, 2.0]], dtype=torch.float64)
    per = structured_loss(scores, kp, reduction="none")
    torch.testing.assert_close(structured_loss(scores, kp, weights, reduction="none"), per * weights)
    torch.testing.assert_close(structured_loss(scores, kp, weights, reduction="sum"), (per * weights).sum())
    torch.testing.assert_close(structured_loss(scores, kp, weights), (per * weights).sum() / 3.5)


def test_batch_permutation_permutes_none_output(case):
    scores, kp = case
    perm = torch.tensor([1, 0])
    a = structured_loss(scores, kp, target="bilinear", reduction="none")
    b = structured_loss(scores[perm], kp[perm], target="bilinear", reduction="none")
    torch.testing.assert_close(b, a[perm])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs(case, dtype):
    scores, kp = case
    low = scores.to(dtype).requires_grad_()
    loss = structured_loss(low, kp.to(dtype), target="gaussian", sigma=1.0)
    loss.backward()
    assert loss.dtype == torch.float32 and low.grad.dtype == dtype
    ref = structured_loss(low.detach().double(), kp.to(dtype).double(), target="gaussian", sigma=1.0)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize("target", TARGET_NAMES)
def test_scores_of_magnitude_1e4_stay_finite(target):
    scores = torch.tensor([[[[1e4, -1e4, 0.0], [5e3, 1e4, -2e4]]]], requires_grad=True)
    kp = torch.tensor([[[2.0, 0.0]]])
    for eps in (1.0, 1e-3):
        loss = structured_loss(scores, kp, eps=eps, target=target, sigma=1.0)
        (g,) = torch.autograd.grad(loss, scores)
        assert torch.isfinite(loss) and torch.isfinite(g).all()
    # F(y) = 0 vs max 1e4 (+ Delta <= sqrt(5)): the loss is about 1e4.
    assert structured_loss(scores, kp).item() == pytest.approx(1e4 + 1.0, rel=1e-3)


def test_module_matches_function_and_image_aware_needs_image(case):
    scores, kp = case
    loss = StructuredLoss(eps=0.5, margin="l1", target="bilinear")
    torch.testing.assert_close(loss(scores, kp), structured_loss(scores, kp, eps=0.5, margin="l1", target="bilinear"))
    aware = StructuredLoss(target="image_aware", sigma=1.0)
    with pytest.raises(ValueError, match="image"):
        aware(scores, kp)
    value = aware(scores, kp, image=torch.rand(2, 3, 20, 24, dtype=torch.float64))
    assert torch.isfinite(value)


def test_rejects_bad_arguments(case):
    scores, kp = case
    with pytest.raises(ValueError):
        structured_loss(scores, kp, eps=0.0)
    with pytest.raises(ValueError):
        structured_loss(scores, kp, target="gaussian")
    with pytest.raises(ValueError):
        structured_loss(scores, kp, margin="l3")
    with pytest.raises(ValueError):
        structured_loss(scores, kp[:, :1])
