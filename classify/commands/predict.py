"""`classify predict`: label and probability for each image."""
from __future__ import annotations

ORDER = 30


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="classify image files with a run folder",
                                   description="Print the most likely class and its probability for each image.")
    parser.add_argument("run_dir", metavar="RUN", help="run folder written by `classify train` or `classify pretrained`")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    parser.add_argument("--top-k", type=int, default=1, help="also list the k most likely classes (default: 1)")
    parser.add_argument("--json", action="store_true", help="print the predictions as JSON")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: library default)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    import json

    from classify.prediction import predict

    predictions = predict(args.run_dir, args.images, args.top_k, args.device, args.threads)
    if args.json:
        print(json.dumps([p.to_dict() for p in predictions], indent=1))
        return 0
    for prediction in predictions:
        others = "".join(f"  {label} {prob:.3f}" for label, prob in prediction.top[1:])
        print(f"{prediction.image}\t{prediction.label}\t{prediction.probability:.4f}{others}")
    return 0
