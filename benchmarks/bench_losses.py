"""Forward + backward time and peak memory of every loss, and decoder time, on CPU.

    python benchmarks/bench_losses.py                 # B=32, K=98, 64x64, 2 threads
    python benchmarks/bench_losses.py --repeats 5 --batch 8

Time: median of ``--repeats`` timed runs after ``--warmup`` untimed ones, the cases
interleaved round-robin so that load from other processes hits every case alike.
Memory: peak of the torch CPU allocator during one forward + backward, from the
PyTorch profiler's memory events (``profile_memory=True``: allocations and frees in
order, cumulated), above what was allocated before the call; the scores and their
gradient buffer are counted. tracemalloc is not used: it does not see torch's allocator.
Every ratio is against soft-argmax measured in the same run.

Equal cost per step: each baseline next to a plain reference implementation of the same
loss (written the textbook way, no fusion, no tricks), timed in the same interleaved loop;
a baseline slower than 1.1x its plain reference would make every seconds-based speed-up
favour the new method. The second table reports those ratios (never a timed test).
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from harness.decoding import DECODERS, decode_heatmaps
from harness.losses import (
    softargmax_loss,
    star_loss,
    structured_loss,
    structured_loss_per_keypoint,
)
from harness.losses.targets import gaussian_target, image_aware_target


def loss_cases(kp: torch.Tensor, image: torch.Tensor, height: int, width: int) -> dict[str, Callable]:
    heat_target = gaussian_target(kp, height, width, 1.5).dense() * 2 * torch.pi * 1.5**2  # peak ~1, MMPose-like
    return {
        "softargmax (l1, beta 1)": lambda s: softargmax_loss(s, kp),
        "structured l2 nearest (fused)": lambda s: structured_loss(s, kp),
        "structured l2 bilinear (fused)": lambda s: structured_loss(s, kp, target="bilinear"),
        "structured l2 gaussian s=1 (fused)": lambda s: structured_loss(s, kp, target="gaussian", sigma=1.0),
        "structured smooth_l1 gaussian (fused)": lambda s: structured_loss(
            s, kp, margin="smooth_l1", target="gaussian", sigma=1.0
        ),
        "structured l2 image-aware (fused, incl. label)": lambda s: structured_loss(
            s, kp, target=image_aware_target(kp, image, height, width, sigma=1.0).prob
        ),
        "structured l2 nearest (plain autograd)": lambda s: structured_loss_per_keypoint(s, kp, fused=False).mean(),
        "structured l2 gaussian (plain autograd)": lambda s: structured_loss_per_keypoint(
            s, kp, target="gaussian", sigma=1.0, fused=False
        ).mean(),
        "STAR (relu_instance_norm)": lambda s: star_loss(s, kp),
        "heatmap MSE (precomputed target)": lambda s: F.mse_loss(s, heat_target),
    }


def _plain_expectation(scores: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) -> (B, K, 2): softmax over the grid, then E[x] and E[y] as weighted sums."""
    _, _, h, w = scores.shape
    prob = torch.softmax(scores.flatten(2), -1)
    xs = torch.arange(w, dtype=scores.dtype).repeat(h)
    ys = torch.arange(h, dtype=scores.dtype).repeat_interleave(w)
    return torch.stack([(prob * xs).sum(-1), (prob * ys).sum(-1)], -1)


def _plain_star(scores: torch.Tensor, kp: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """STAR as its paper reads: instance norm, ReLU, normalise; moments by full-map products;
    eigen-decomposition of each 2x2 covariance by torch.linalg.eigh; [-1, 1] units."""
    b, k, h, w = scores.shape
    x = F.relu(F.instance_norm(scores.reshape(1, b * k, h, w)).reshape(b, k, h, w))
    prob = x / x.sum((-2, -1), keepdim=True).clamp_min(1e-12)
    u = (torch.arange(w, dtype=scores.dtype) * (2.0 / (w - 1)) - 1.0).view(1, 1, 1, w)
    v = (torch.arange(h, dtype=scores.dtype) * (2.0 / (h - 1)) - 1.0).view(1, 1, h, 1)
    mu_x, mu_y = (prob * u).sum((-2, -1)), (prob * v).sum((-2, -1))
    du, dv = u - mu_x[..., None, None], v - mu_y[..., None, None]
    cov = torch.stack([torch.stack([(prob * du * du).sum((-2, -1)), (prob * du * dv).sum((-2, -1))], -1),
                       torch.stack([(prob * du * dv).sum((-2, -1)), (prob * dv * dv).sum((-2, -1))], -1)], -2)
    evals, evecs = torch.linalg.eigh(cov.double())
    err = torch.stack([kp[..., 0] * (2.0 / (w - 1)) - 1.0 - mu_x, kp[..., 1] * (2.0 / (h - 1)) - 1.0 - mu_y], -1)
    along = (evecs.transpose(-1, -2).to(err.dtype) @ err[..., None]).squeeze(-1)
    ax = along.abs()
    dist = torch.where(ax < threshold, 0.5 * ax.square() / threshold, ax - 0.5 * threshold)
    lam = evals.to(err.dtype).clamp_min(0)
    return ((dist / (lam + 1e-5).sqrt()).sum(-1) + lam.sum(-1)).mean()


def _plain_js(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence of two (B, K, HW) distributions, summed over cells, mean over B."""
    m = 0.5 * (prob + target)
    kl = lambda p: (p * ((p + 1e-24).log() - (m + 1e-24).log())).sum()  # noqa: E731
    return 0.5 * (kl(prob) + kl(target)) / len(prob)


def reference_cases(kp: torch.Tensor, height: int, width: int) -> dict[str, tuple[Callable, Callable]]:
    """baseline -> (the project's loss as a baseline trains with it, a plain reference of it)."""
    import harness.mm  # noqa: F401  (registers the project's DSNT term; MMPose through harness.compat)
    from harness.mm.losses import MaskedJSDiscretLoss

    heat_target = gaussian_target(kp, height, width, 1.5).dense() * 2 * torch.pi * 1.5**2
    dist_target = gaussian_target(kp, height, width, 1.5).dense()
    ones = torch.ones(kp.shape[:2])
    js = MaskedJSDiscretLoss(use_target_weight=True)

    def project_dsnt(s: torch.Tensor) -> torch.Tensor:
        prob = torch.softmax(s.flatten(2), -1).view_as(s)
        return softargmax_loss(s, kp) + js(prob, dist_target, ones)

    def plain_dsnt(s: torch.Tensor) -> torch.Tensor:
        prob = torch.softmax(s.flatten(2), -1)
        coords = (_plain_expectation(s) - kp).abs().sum(-1).mean()
        return coords + _plain_js(prob, dist_target.flatten(2))

    return {
        "soft-argmax (l1)": (lambda s: softargmax_loss(s, kp),
                             lambda s: (_plain_expectation(s) - kp).abs().sum(-1).mean()),
        "DSNT (l1 + JS)": (project_dsnt, plain_dsnt),
        "STAR": (lambda s: star_loss(s, kp), lambda s: _plain_star(s, kp)),
        "heatmap MSE": (lambda s: F.mse_loss(s, heat_target), lambda s: ((s - heat_target) ** 2).mean()),
    }


def _interleaved_medians(cases: dict[str, Callable[[], None]], warmup: int, repeats: int) -> dict[str, float]:
    """Median ms per case; repeats go round-robin so load changes on a shared machine hit every case alike."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def _peak_mib(fn: Callable[[], None]) -> float:
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    level = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        level += event.self_cpu_memory_usage
        peak = max(peak, level)
    return peak / 2**20


def bench(args: argparse.Namespace) -> list[tuple[str, str, float, float]]:
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(args.batch, args.keypoints, args.size, args.size, generator=gen)
    kp = torch.rand(args.batch, args.keypoints, 2, generator=gen) * (args.size - 1)
    image = torch.rand(args.batch, 3, 4 * args.size, 4 * args.size, generator=gen)
    steps, resets = {}, {}
    for name, loss in loss_cases(kp, image, args.size, args.size).items():
        scores = raw.clone().requires_grad_()
        resets[name] = lambda scores=scores: setattr(scores, "grad", None)
        steps[name] = lambda loss=loss, scores=scores: loss(scores).backward()
    timed = {name: (lambda n=name: (resets[n](), steps[n]())) for name in steps}
    options = {"local_softargmax": dict(radius=2), "softargmax": dict(beta=1.0)}
    decoders = {m: (lambda m=m: decode_heatmaps(raw, m, **options.get(m, {}))) for m in DECODERS}
    loss_ms = _interleaved_medians(timed, args.warmup, args.repeats)
    dec_ms = _interleaved_medians(decoders, args.warmup, args.repeats)
    rows = []
    for name in steps:
        resets[name]()  # the previous gradient is freed before, not during, the measured step
        rows.append(("loss", name, loss_ms[name], _peak_mib(steps[name])))
    rows += [("decoder", m, dec_ms[m], _peak_mib(fn)) for m, fn in decoders.items()]
    return rows


def bench_references(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    """(baseline, project ms, plain ms) for forward + backward, interleaved in one loop."""
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(args.batch, args.keypoints, args.size, args.size, generator=gen)
    kp = torch.rand(args.batch, args.keypoints, 2, generator=gen) * (args.size - 1)
    steps = {}
    for name, pair in reference_cases(kp, args.size, args.size).items():
        for side, loss in zip(("project", "plain"), pair, strict=True):
            scores = raw.clone().requires_grad_()
            steps[(name, side)] = (lambda loss=loss, scores=scores:
                                   (setattr(scores, "grad", None), loss(scores).backward()))
    ms = _interleaved_medians(steps, args.warmup, args.repeats)  # type: ignore[arg-type]
    return [(name, ms[(name, "project")], ms[(name, "plain")]) for name in dict.fromkeys(n for n, _ in steps)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--keypoints", type=int, default=98)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--references-only", action="store_true", help="only the baseline-vs-plain table")
    args = parser.parse_args()
    print(f"B={args.batch} K={args.keypoints} {args.size}x{args.size}, {args.threads} threads, "
          f"torch {torch.__version__}, median of {args.repeats} interleaved runs after {args.warmup} warm-up")
    if not args.references_only:
        rows = bench(args)
        base = rows[0][2]  # the soft-argmax loss step; decoders are shown against it too
        print(f"| {'kind':<7} | {'what':<47} | {'ms':>7} | {'x soft-argmax':>13} | {'peak MiB':>8} |")
        print(f"|{'-' * 9}|{'-' * 49}|{'-' * 9}|{'-' * 15}|{'-' * 10}|")
        for kind, name, ms, mib in rows:
            print(f"| {kind:<7} | {name:<47} | {ms:7.1f} | {ms / base:13.2f} | {mib:8.1f} |")
    print("\nEqual cost per step: each baseline against its plain reference (goal: ratio <= 1.10)")
    print(f"| {'baseline':<18} | {'project ms':>10} | {'plain ms':>8} | {'ratio':>5} | {'<= 1.1x':>7} |")
    print(f"|{'-' * 20}|{'-' * 12}|{'-' * 10}|{'-' * 7}|{'-' * 9}|")
    for name, own, plain in bench_references(args):
        ok = "yes" if own <= 1.1 * plain else "NO"
        print(f"| {name:<18} | {own:10.1f} | {plain:8.1f} | {own / plain:5.2f} | {ok:>7} |")


if __name__ == "__main__":
    main()
