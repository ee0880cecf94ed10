"""`classify train`: fit a model + head on an ImageFolder into a run folder."""
from __future__ import annotations

ORDER = 10


def add_parser(subparsers) -> None:
    from classify.settings import TrainClassifierConfig
    from faceswap.config import add_arguments

    parser = subparsers.add_parser(
        "train", help="train a classifier on an ImageFolder",
        description="Train a registered model and head. --pretrained imagenet with --freeze trains a new head on "
                    "cached features of the fixed backbone; with --finetune all layers train, the backbone slower.")
    add_arguments(parser, TrainClassifierConfig)
    parser.add_argument("--config", help="JSON file of settings (flags win over it)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    import classify
    from faceswap.config import from_args

    config = from_args(classify.TrainClassifierConfig, args, args.config)
    result = classify.train(config)
    val = f", {result.val_images} validation" if result.val_images else ""
    print(f"trained {config.model} + {config.head} head on {result.train_images} images{val} "
          f"({len(result.classes)} classes: {', '.join(result.classes[:10])}{' ...' if len(result.classes) > 10 else ''})")
    shown = {k: v for k, v in result.metrics.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    print("final metrics: " + ", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    print(f"run folder: {result.run_dir} (weights from the {result.weights_from} checkpoint)")
    return 0
