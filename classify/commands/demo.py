"""`classify demo`: the talk's story, perceptron to fine-tuning, on offline real data."""
from __future__ import annotations

ORDER = 70


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="perceptron, MLP, LeNet, CNN, AlexNet/VGG-small, then transfer learning, in one table",
        description="Trains the talk's models from scratch on MNIST, then compares training from scratch with "
                    "frozen and fine-tuned ImageNet MobileNetV2 on a small faces-vs-non-faces set; prints a table and "
                    "writes learning curves and confusion matrices as PNGs.")
    parser.add_argument("--out", default="classify_demo", help="new folder for data, runs, PNGs and results.json "
                                                               "(default: classify_demo)")
    parser.add_argument("--quick", action="store_true", help="smaller data and schedules (about a minute on a CPU)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits and the training (default: 0)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1, often fastest for small models)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from classify.demo import run_demo, table

    result = run_demo(args.out, args.quick, args.seed, args.threads)
    print("\n" + table(result.results))
    scratch, best = result.best("scratch"), result.best("transfer")
    print(f"\nfrom scratch, best on MNIST: {scratch.name} ({scratch.test_accuracy:.3f}); on the small set "
          f"({result.small_set}), best: {best.name} ({best.test_accuracy:.3f})")
    print("pictures: " + ", ".join(result.pngs))
    return 0
