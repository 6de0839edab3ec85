"""Head + loss + decoder cost of every method, as MMPose builds them from the shipped configs.

    .venv/bin/python benchmarks/bench_heads.py            # B=32, WFLW heads (K=98, 64x64), 2 threads
    .venv/bin/python benchmarks/bench_heads.py --batch 8 --repeats 3

For each method of mm_configs/wflw/ the head is built by MMPose's registry exactly as in
training, fed the same random (B, 270, 64, 64) stride-4 features and one batch of targets
from the shared codec, and timed for a training step of the head (forward, loss, backward)
and for prediction (forward and the method's decoder, via ``head.predict``). Times are
medians of interleaved repeats; ratios are to the soft-argmax head measured in the same run.
The backbone is left out: it is identical for every method.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.structures import PoseDataSample

import harness.mm  # noqa: F401  (registration)
from bench_losses import _interleaved_medians, _peak_mib

ROOT = Path(__file__).resolve().parents[1]


def _samples(cfg: Config, batch: int, gen: np.random.Generator) -> list[PoseDataSample]:
    codec = KEYPOINT_CODECS.build(cfg.codec)
    width, height = cfg.input_size
    samples = []
    for _ in range(batch):
        keypoints = gen.uniform(8, [width - 8, height - 8], size=(1, cfg.num_keypoints, 2))
        encoded = codec.encode(keypoints, np.ones((1, cfg.num_keypoints)))
        sample = PoseDataSample(metainfo=dict(input_size=cfg.input_size, flip_indices=list(range(cfg.num_keypoints))))
        sample.gt_instance_labels = InstanceData(
            keypoint_labels=torch.from_numpy(encoded["keypoint_labels"]),
            keypoint_weights=torch.from_numpy(encoded["keypoint_weights"]),
        )
        sample.gt_fields = PixelData(heatmaps=torch.from_numpy(encoded["heatmaps"]))
        samples.append(sample)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope("mmpose")
    gen = np.random.default_rng(0)
    configs = sorted((ROOT / "mm_configs/wflw").glob("*.py"))
    first = Config.fromfile(str(configs[0]))
    feats = (torch.randn(args.batch, first.model.head.in_channels, *first.heatmap_size[::-1]),)
    samples = _samples(first, args.batch, gen)
    # The input crops, for the image-aware label (built in every step, as in training).
    images = torch.rand(args.batch, 3, *first.input_size[::-1])
    train, predict = {}, {}
    for path in configs:
        cfg = Config.fromfile(str(path))
        head = MODELS.build(cfg.model.head)
        head.init_weights()
        name = path.name.split("_")[0]  # the variant: structured and structured-imageaware share a method
        extra = dict(images=images) if cfg.model.type == "ImageAwareTopdownPoseEstimator" else {}

        def step(head=head, extra=extra):
            head.zero_grad(set_to_none=True)
            losses = head.loss(feats, samples, {}, **extra)
            losses["loss_kpt"].backward()

        def infer(head=head):
            with torch.no_grad():
                head.predict(feats, samples, {})

        train[name], predict[name] = step, infer
    train_ms = _interleaved_medians(train, args.warmup, args.repeats)
    predict_ms = _interleaved_medians(predict, args.warmup, args.repeats)
    base_train, base_pred = train_ms["softargmax"], predict_ms["softargmax"]
    print(f"B={args.batch} K={first.num_keypoints} {first.heatmap_size[0]}x{first.heatmap_size[1]}, "
          f"{args.threads} threads, torch {torch.__version__}, median of {args.repeats} interleaved runs")
    print(f"| {'method':<21} | {'train step ms':>13} | {'x soft-argmax':>13} | {'peak MiB':>8} | "
          f"{'predict ms':>10} | {'x soft-argmax':>13} |")
    print(f"|{'-' * 23}|{'-' * 15}|{'-' * 15}|{'-' * 10}|{'-' * 12}|{'-' * 15}|")
    for name in train:
        print(f"| {name:<21} | {train_ms[name]:13.1f} | {train_ms[name] / base_train:13.2f} | "
              f"{_peak_mib(train[name]):8.1f} | {predict_ms[name]:10.1f} | {predict_ms[name] / base_pred:13.2f} |")


if __name__ == "__main__":
    main()
