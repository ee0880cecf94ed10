"""`faceswap convert`: swap the faces of a video with a trained model."""
from __future__ import annotations

import argparse
import contextlib
from typing import Iterator

ORDER = 30


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments
    from faceswap.convert.config import ConvertConfig

    parser = subparsers.add_parser(
        "convert", help="swap faces in a video with a trained model",
        description="Swap the faces of a video with a trained model: same size, frame rate, length and sound. "
                    "Faces come from --alignments (an earlier `faceswap extract` of this video) or are found on the fly.")
    parser.add_argument("-i", "--input", required=True, help="video file, image or image folder")
    parser.add_argument("-m", "--model-dir", dest="model_dir", required=True, help="trained model folder (from `faceswap train`)")
    parser.add_argument("-o", "--output", required=True, help="output video (.mp4)")
    parser.add_argument("--config", help="JSON file of convert settings (flags override it)")
    add_arguments(parser, ConvertConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from faceswap.config import from_args, write_resolved
    from faceswap.convert import ConvertConfig, convert

    config = from_args(ConvertConfig, args, args.config)
    with show_choices():
        summary = convert(config)
    write_resolved(config, Path(config.output).with_suffix(".convert.json"))
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(summary.describe())
    if summary.side_by_side:
        print(f"side-by-side: {summary.side_by_side}")
    if summary.previews:
        print(f"previews: {len(summary.previews)} PNG files in {summary.previews[0].rsplit('/', 1)[0]}")
    return 0


@contextlib.contextmanager
def show_choices() -> Iterator[None]:
    """Convert's start line (device, precision, threads, paste, encoder) and its warnings on stderr, as they happen."""
    import logging
    import sys

    logger = logging.getLogger("faceswap.convert")
    handler = logging.StreamHandler(sys.stderr)  # this run's stderr (tests swap it per test)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # printed once, here, even where the root logger has a handler
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
