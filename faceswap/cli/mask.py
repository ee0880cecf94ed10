"""`faceswap mask train -i FACES [FACES ...] -o SEGMENTER_DIR`: fit the face segmenter on its own.

`faceswap train` already fits one into MODEL_DIR/segmenter; this command gives control (longer
training, another preset, one segmenter for many models: pass it with `train --segmenter DIR`,
`convert --segmenter DIR` or `extract --masker segmenter --segmenter DIR`).
"""
from __future__ import annotations

import argparse

ORDER = 25


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments
    from faceswap.segment.config import SegmentTrainConfig

    parser = subparsers.add_parser("mask", help="train the face segmenter (the occlusion-aware mask)",
                                   description="Face masks that follow the visible face.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    train = commands.add_parser(
        "train", help="fit a Tiramisu face segmenter on faces folders",
        description="Fit a Tiramisu (FC-DenseNet) that finds the visible face in aligned crops. Labels come from the "
                    "landmark outline refined by GrabCut, with synthetic hands, objects and face pieces pasted over the "
                    "faces. SEGMENTER_DIR/preview.png shows held-out faces with the known and the predicted mask.")
    train.add_argument("-i", "--faces", nargs="+", required=True, help="faces folders written by `faceswap extract`")
    train.add_argument("-o", "--out-dir", dest="out_dir", required=True, help="segmenter folder to write (or --resume)")
    train.add_argument("--config", help="JSON file of settings (flags override it)")
    add_arguments(train, SegmentTrainConfig)
    train.set_defaults(run=_train)
    parser.set_defaults(run=lambda args: parser.print_help() or 1)


def _train(args: argparse.Namespace) -> int:
    import logging
    import sys

    from faceswap.config import from_args
    from faceswap.segment import SegmentTrainConfig, train_segmenter

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    config = from_args(SegmentTrainConfig, args, args.config, faces=tuple(args.faces), out_dir=args.out_dir)
    try:
        metrics = train_segmenter(config)
    except KeyboardInterrupt:
        print(f"Interrupted; the segmenter in '{config.out_dir}' is saved. Continue with --resume.", file=sys.stderr)
        return 130
    print(f"Segmenter saved in '{config.out_dir}' (held-out IoU {metrics.get('val_iou', float('nan')):.3f}, "
          f"with occluders {metrics.get('val_occluded_iou', float('nan')):.3f}).")
    return 0
