"""`classify inspect`: pictures of the first layer's filters and of feature maps."""
from __future__ import annotations

ORDER = 40


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("inspect", help="draw first-layer filters and feature maps of a run",
                                   description="Write filters.png and, for IMAGE, feature_maps_*.png: what the network learned.")
    parser.add_argument("run_dir", metavar="RUN", help="run folder written by `classify train`")
    parser.add_argument("image", metavar="IMAGE", nargs="?", help="image whose feature maps to draw")
    parser.add_argument("--out", help="output folder (default: RUN/inspect)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from classify.inspection import inspect_run

    result = inspect_run(args.run_dir, args.image, args.out)
    print(f"first layer {result.first_layer}: {result.filters_png}")
    for path in result.feature_maps:
        print(f"feature maps: {path}")
    return 0
