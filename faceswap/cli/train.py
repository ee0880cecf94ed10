"""`faceswap train -A FACES_A -B FACES_B -m MODEL_DIR`: learn to swap two people's faces."""
from __future__ import annotations

import argparse

ORDER = 20


def add_parser(subparsers) -> None:
    from faceswap.config import add_arguments, settings
    from faceswap.swap.config import SwapTrainConfig

    parser = subparsers.add_parser(
        "train", help="train a face-swap model on two faces folders",
        description="Train a shared-encoder / two-decoder model on the faces of A and B (folders written by "
                    "`faceswap extract`). Stops at --steps, after --minutes, or on Ctrl-C (which saves first). "
                    "MODEL_DIR/preview.png shows A, A->A, A->B, B, B->B, B->A on held-out faces. "
                    "For several GPUs launch it with `torchrun --nproc-per-node N -m faceswap train ...`.")
    parser.add_argument("-A", "--faces-a", dest="faces_a", metavar="FACES_A", help="faces folder of person A")
    parser.add_argument("-B", "--faces-b", dest="faces_b", metavar="FACES_B", help="faces folder of person B")
    parser.add_argument("-m", "--model-dir", dest="model_dir", metavar="MODEL_DIR", help="model folder to write (or --resume)")
    parser.add_argument("--config", help="JSON file of settings (flags override it)")
    add_arguments(parser, SwapTrainConfig, skip=("faces_a", "faces_b", "model_dir", "batch_size"))
    parser.add_argument("--batch-size", dest="batch_size", metavar="{auto,N}", type=_batch_size,
                        help=f"{settings(SwapTrainConfig)['batch_size'].help} (default: auto)")
    parser.set_defaults(run=_run)


def _batch_size(text: str) -> int:
    """``auto`` is 0, the config's word for it; otherwise a whole number of at least 1."""
    if text.strip().lower() == "auto":
        return 0
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is neither auto nor a whole number of at least 1")
    return value


def _run(args: argparse.Namespace) -> int:
    import logging
    import os
    import sys

    from faceswap.config import from_args
    from faceswap.swap import SwapTrainConfig, train_swap

    is_main_process = int(os.environ.get("RANK", "0")) == 0  # under torchrun, one rank speaks for all
    logging.basicConfig(level=logging.INFO if is_main_process else logging.WARNING,
                        format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout)
    config = from_args(SwapTrainConfig, args, args.config)
    try:
        metrics = train_swap(config)
    except KeyboardInterrupt:
        from faceswap.swap.model_dir import holds_weights

        if is_main_process and holds_weights(config.model_dir):
            print(f"Interrupted; the model in '{config.model_dir}' is saved. Continue with --resume.", file=sys.stderr)
        elif is_main_process:
            print(f"Interrupted before the first save; run the same command again to start over in '{config.model_dir}'.",
                  file=sys.stderr)
        return 130
    summary = ", ".join(f"{key} {metrics[key]:.4g}" for key in ("val_ssim_a", "val_ssim_b", "val_l1_a", "val_l1_b") if key in metrics)
    if is_main_process:
        print(f"Model saved in '{config.model_dir}' ({summary}).")
    return 0
