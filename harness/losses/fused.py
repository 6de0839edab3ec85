"""Fused autograd path of the structured loss.

Autograd through ``eps * logsumexp((alpha * Delta + F) / eps) - E_q[F]`` keeps several
(B, K, H, W) intermediates alive and runs a generic logsumexp backward. The gradient has
a closed form, dL/dF = softmax((alpha * Delta + F) / eps) - q (method.md section 2), so
this Function builds z in one buffer (reusing the margin map when the caller owns it),
turns that buffer into softmax(z) in place during forward (the logsumexp falls out of
it), and in backward subtracts q in place (a scatter for sparse targets, a rank-1
update for separable ones) and scales by the incoming gradient. One (B, K, H, W)
buffer in all, which is also the returned gradient; backward can run once.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["fused_structured"]


def _softmax_(flat: Tensor) -> None:
    """Softmax over the last dim of a contiguous buffer, in place.

    A fresh 50 MB buffer costs as much as the softmax itself on CPU (page faults), so the
    kernel writes over its input; the fallback is the same computation in public ops.
    """
    try:
        torch.ops.aten._softmax.out(flat, -1, False, out=flat)
    except (RuntimeError, NotImplementedError):
        flat.sub_(flat.amax(-1, keepdim=True)).exp_()
        flat.div_(flat.sum(-1, keepdim=True))


class _FusedStructured(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, delta, target, alpha, eps, delta_is_scratch, reuse_buffer):
        if delta_is_scratch:
            z = delta.mul_(alpha).add_(scores) if alpha != 1.0 else delta.add_(scores)
        else:
            z = torch.add(scores, delta, alpha=alpha)
        if eps != 1.0:
            z.div_(eps)
        flat = z.view(*z.shape[:2], -1)
        top = flat.amax(-1)
        _softmax_(flat)
        # The softmax at the arg-max cell is exp(top - lse) >= 1 / (H * W): its log is
        # well conditioned, so lse needs no second pass over the exponentials.
        lse = top - flat.amax(-1).log()
        ctx.target = target
        ctx.reuse_buffer, ctx.used = reuse_buffer, False
        ctx.save_for_backward(z)
        return eps * lse - target.expect(scores)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        if ctx.used:
            raise RuntimeError(
                "the fused structured loss reused its buffer for the gradient, so backward can run only once; "
                "pass reuse_buffer=False to back-propagate repeatedly (retain_graph, gradcheck)"
            )
        (prob,) = ctx.saved_tensors  # softmax(z), computed once in forward
        # Overwriting prob saves one (B, K, H, W) allocation; autograd then adopts the
        # buffer as the gradient without a copy.
        grad = prob if ctx.reuse_buffer else prob.clone()
        ctx.used = ctx.reuse_buffer
        ctx.target.subtract_from(grad)
        grad.mul_(grad_out[..., None, None])
        return grad, None, None, None, None, None, None


def fused_structured(
    scores: Tensor,
    delta: Tensor,
    target,
    *,
    alpha: float,
    eps: float,
    delta_is_scratch: bool,
    reuse_buffer: bool = True,
) -> Tensor:
    """Per-keypoint structured loss (B, K) with the closed-form backward.

    Args:
        scores: (B, K, H, W) in the working dtype.
        delta: margin map broadcastable to (B, K, H, W), grid cells, no gradient.
        target: a target from ``harness.losses.targets`` (expect / subtract_from).
        alpha, eps: margin scale and temperature (eps > 0).
        delta_is_scratch: delta is a full (B, K, H, W) buffer nobody else reads, so it
            may be overwritten to hold z (saves one allocation and one pass).
        reuse_buffer: backward turns the saved softmax into the gradient in place, so
            it can run once per forward; False clones it (for retain_graph/gradcheck).
    """
    scratch = delta_is_scratch and delta.shape == scores.shape and delta.is_contiguous()
    return _FusedStructured.apply(scores, delta, target, float(alpha), float(eps), scratch, reuse_buffer)
