"""`harness data`: make, convert, check and look at landmark data sets."""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]

_SYNTH_EXAMPLE = """example:
  harness data synth --out data/synth-300w
  harness data synth --out data/synth-wflw --scheme 98 --n-train 3000 --seed 1
  harness data synth --out data/synth-scan --renderer photoreal --scan /tmp/x/menpo3d-0.8.6.tar.gz"""
_PREPARE_EXAMPLE = """example:
  harness data prepare wflw --src ~/datasets/WFLW --out data/wflw
  harness data prepare 300w --src ~/datasets/300W --out data/300w
  harness data prepare cofw --src ~/datasets/COFW --out data/cofw --skip-bad"""
_CHECK_EXAMPLE = """example:
  harness data check data/synth-300w"""
_SHOW_EXAMPLE = """example:
  harness data show data/synth-300w --n 16 --out grid.png"""


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _synth(args: argparse.Namespace) -> int:
    from harness.data.errors import DataError
    from harness.data.synth import generate

    try:
        out = generate(args.out, scheme=args.scheme, n_train=args.n_train, n_val=args.n_val, n_test=args.n_test,
                       size=args.size, seed=args.seed, renderer=args.renderer, scan=args.scan)
    except (DataError, ValueError) as exc:
        return _fail(exc)
    print(f"synthetic set ready: {out} (see {out}/README.md)")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from harness.data.convert import prepare
    from harness.data.errors import DataError

    try:
        out, skipped = prepare(args.benchmark, args.src, args.out, skip_bad=args.skip_bad)
    except (DataError, ValueError) as exc:
        return _fail(exc)
    print(f"{args.benchmark} prepared in {out}" + (f"; skipped {skipped} bad records (see the log)" if skipped else ""))
    return 0


def _check(args: argparse.Namespace) -> int:
    from harness.data.check import check_dataset
    from harness.data.errors import DataError

    try:
        summary = check_dataset(args.dir, decode_images=not args.no_decode)
    except DataError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['dir']}: {summary['name']} ({summary['kind']}, {summary['scheme']}, "
          f"{summary['num_keypoints']} points) OK")
    for split, s in summary["splits"].items():
        print(f"  {split:<20} {s['images']:>6} images {s['annotations']:>6} faces "
              f"{100 * s['occluded_fraction']:5.1f}% occluded points")
    return 0


def _show(args: argparse.Namespace) -> int:
    from harness.data.errors import DataError
    from harness.data.show import show_grid

    try:
        out = show_grid(args.dir, args.out, split=args.split, n=args.n, seed=args.seed)
    except DataError as exc:
        return _fail(exc)
    print(f"wrote {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `harness data {synth,prepare,check,show}`."""
    fmt = argparse.RawDescriptionHelpFormatter
    data = subparsers.add_parser("data", help="make, convert, check and show data sets",
                                 epilog=_SYNTH_EXAMPLE.replace("example:", "examples:") + "\n" +
                                 _CHECK_EXAMPLE.split("\n", 1)[1], formatter_class=fmt)
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("synth", help="generate the built-in synthetic face set", epilog=_SYNTH_EXAMPLE,
                       formatter_class=fmt)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--scheme", default="300w", help="300w|wflw|cofw or 68|98|29 (default 300w)")
    p.add_argument("--n-train", type=int, default=1500)
    p.add_argument("--n-val", type=int, default=300)
    p.add_argument("--n-test", type=int, default=300)
    p.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--renderer", choices=("procedural", "photoreal"), default="procedural")
    p.add_argument("--scan", help="menpo3d 0.8.6 sdist (.tar.gz) or its menpo3d/data folder (photoreal only)")
    p.set_defaults(func=_synth)

    p = sub.add_parser("prepare", help="convert WFLW, 300W or COFW from their official files",
                       epilog=_PREPARE_EXAMPLE, formatter_class=fmt)
    p.add_argument("benchmark", choices=("wflw", "300w", "cofw"))
    p.add_argument("--src", required=True, help="the official release (or MMPose's data root with its JSON)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--skip-bad", action="store_true", help="skip bad records (and count them) instead of failing")
    p.set_defaults(func=_prepare)

    p = sub.add_parser("check", help="validate a prepared or synthetic set", epilog=_CHECK_EXAMPLE,
                       formatter_class=fmt)
    p.add_argument("dir")
    p.add_argument("--no-decode", action="store_true", help="check that images exist without decoding them")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_check)

    p = sub.add_parser("show", help="draw samples with their landmarks", epilog=_SHOW_EXAMPLE, formatter_class=fmt)
    p.add_argument("dir")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--split", help="split to draw (default: the first)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_show)
