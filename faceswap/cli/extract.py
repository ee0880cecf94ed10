"""`faceswap extract -i INPUT -o FACES_DIR`: find, align and save the faces of a video, an
image or a folder of images."""
from __future__ import annotations

import argparse

ORDER = 10


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments
    from faceswap.extract.config import ExtractConfig

    parser = subparsers.add_parser(
        "extract", help="find, align and save the faces of a video, image or image folder",
        description="Detect faces, follow them across frames, align them to the template and write "
                    "faces/, masks/ and alignments.json into the faces folder.")
    parser.add_argument("-i", "--input", required=True, help="video file, image file or folder of images")
    parser.add_argument("-o", "--output-dir", required=True, help="faces folder to write")
    parser.add_argument("--json", action="store_true", help="print one JSON summary line instead of a progress bar")
    parser.add_argument("--config", help="JSON file with settings (flags override it)")
    add_arguments(parser, ExtractConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from faceswap.cli.stage_log import shown_on_stderr
    from faceswap.config import from_args
    from faceswap.extract import ExtractConfig, extract

    config = from_args(ExtractConfig, args, args.config, input=args.input, output_dir=args.output_dir,
                       progress=False if args.json else None)
    with shown_on_stderr("faceswap.extract"):  # the detector's start line and any fall back to the CPU
        summary = extract(config)
    if args.json:
        fields = ("frames", "frames_with_faces", "faces", "tracks", "seconds", "fps", "skipped_frames", "warnings")
        print(json.dumps({name: getattr(summary, name) for name in fields}))
    else:
        for warning in summary.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(summary.human())
    return 0
