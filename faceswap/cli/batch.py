"""`faceswap batch`: convert many videos with one model (local workers or a Ray cluster)."""
from __future__ import annotations

import argparse

ORDER = 35
_NOT_FOR_BATCH = ("alignments", "side_by_side", "preview", "frames", "progress", "writer")  # outputs are .mp4


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments
    from faceswap.convert.config import ConvertConfig

    parser = subparsers.add_parser(
        "batch", help="convert many videos (a folder, a glob or a list file) with one model",
        description="Convert every input video into OUT_DIR/<name>.mp4. Finished outputs are skipped, so the "
                    "command can be re-run; one failing file does not stop the others.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders, glob patterns or list files (.txt)")
    parser.add_argument("-m", "--model-dir", dest="model_dir", required=True, help="trained model folder")
    parser.add_argument("-o", "--output-dir", dest="output_dir", required=True, help="folder for the converted videos")
    parser.add_argument("--backend", choices=("local", "ray"), default="local", help="local worker processes or a Ray cluster (default: local)")
    parser.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes (default: 1)")
    parser.add_argument("--overwrite", action="store_true", help="convert again even where the output exists")
    parser.add_argument("--config", help="JSON file of convert settings (flags override it)")
    add_arguments(parser, ConvertConfig, skip=_NOT_FOR_BATCH)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from faceswap.config import from_args, write_resolved
    from faceswap.convert.batch import run_batch
    from faceswap.convert.config import ConvertConfig

    config = from_args(ConvertConfig, args, args.config)
    print_choices(config)
    summary = run_batch(args.inputs, args.model_dir, args.output_dir, config, backend=args.backend,
                        workers=args.workers, address=args.address, overwrite=args.overwrite)
    write_resolved(config, Path(args.output_dir) / "batch_config.json")
    for item in summary.warned:
        print(f"warning: {item.reason}", file=sys.stderr)
    print(summary.describe())
    return 1 if summary.failed else 0


def print_choices(config) -> None:
    """The start line every converting command prints (device, precision, threads, paste, encoder) on stderr."""
    import sys

    from faceswap.convert.choices import plan_choices
    from faceswap.convert.pipeline import check_plugins

    check_plugins(config)  # a bad name is the one line printed, not after this one
    choices, warnings = plan_choices(config)
    print(choices.describe(), file=sys.stderr, flush=True)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
