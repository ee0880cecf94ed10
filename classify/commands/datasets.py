"""`classify datasets`: write a shipped real data set as an ImageFolder."""
from __future__ import annotations

ORDER = 5


def add_parser(subparsers) -> None:
    from classify.datasets import DATASETS

    parser = subparsers.add_parser("datasets", help="write a real data set as OUT/train and OUT/test ImageFolders",
                                   description="Data sets: " + "; ".join(f"{n}: {d.description}" for n, (d, _) in DATASETS.items()))
    parser.add_argument("name", metavar="NAME", nargs="?", choices=sorted(DATASETS), help="data set (omit to list them)")
    parser.add_argument("--out", help="output folder (must be new or empty)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of each class put in test/ (default: 0.2)")
    parser.add_argument("--train-per-class", type=int, help="exact training images per class (the rest go to test/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default: 0)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from classify.datasets import DATASETS, write_dataset
    from faceswap.errors import UserError

    if args.name is None:
        for name, (info, _) in DATASETS.items():
            print(f"  {name:<18} {info.description} (asset {info.asset})")
        return 0
    if not args.out:
        raise UserError("classify datasets needs --out DIR for the ImageFolder.")
    written = write_dataset(args.name, args.out, args.test_fraction, args.train_per_class, args.seed)
    print(f"wrote {sum(written.train_counts)} training and {sum(written.test_counts)} test images "
          f"of {len(written.classes)} classes to {written.out}/train and {written.out}/test")
    return 0
