"""`classify pretrained`: a run folder holding a pretrained ImageNet classifier as it is."""
from __future__ import annotations

ORDER = 60


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("pretrained", help="write a run folder for a pretrained ImageNet classifier",
                                   description="Classes are ImageNet-1k's class names (read from torchvision's wheel as "
                                               "data); try `classify predict` on photos.")
    parser.add_argument("--out", required=True, help="run folder to create")
    parser.add_argument("--model", default="mobilenet_v2", help="model with pretrained weights (default: mobilenet_v2)")
    parser.add_argument("--weights", default="imagenet", help="pretrained weights: imagenet (mobilenet_v2), or a torchvision "
                                                                 "weights file for alexnet, vgg11 or vgg16 (default: imagenet)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from classify.pretrained import export_pretrained

    print(f"run folder: {export_pretrained(args.out, args.model, args.weights)}")
    return 0
