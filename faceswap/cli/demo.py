"""`faceswap demo`: extract, train, convert and evaluate on the sample media, into one folder."""
from __future__ import annotations

import argparse

ORDER = 5


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments
    from faceswap.demo import DemoConfig

    parser = subparsers.add_parser(
        "demo", help="the whole path on sample media: extract, train, convert, evaluate",
        description="Fetch the sample videos, extract both faces, train the 64 px preset for a time budget, "
                    "convert the WolfgangLanger video to the other face and leave the swapped video (with sound), "
                    "a side-by-side video, the last training preview and the evaluate report in --out. "
                    "Re-running continues where it stopped.")
    parser.add_argument("--out", required=True, help="folder for the results")
    add_arguments(parser, DemoConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceswap.config import from_args, write_resolved
    from faceswap.demo import DemoConfig, run_demo

    config = from_args(DemoConfig, args)
    result = run_demo(config)
    write_resolved(config, f"{config.out}/demo_config.json")
    print(result.describe())
    return 0
