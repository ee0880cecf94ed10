"""`faceswap convert`: swap the faces of a video with a trained model."""
from __future__ import annotations

import argparse

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


def show_choices():
    """Convert's start line (device, precision, threads, paste, encoder) and its warnings on stderr, as they happen."""
    from faceswap.cli.stage_log import shown_on_stderr

    return shown_on_stderr("faceswap.convert")
