"""`classify eval`: accuracy, per-class precision/recall/F1, macro averages, confusion matrix and top losses."""
from __future__ import annotations

ORDER = 20


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("eval", help="score a run folder on an ImageFolder",
                                   description="Accuracy, per-class precision, recall and F1 with macro averages, a confusion-matrix "
                                               "PNG and a gallery of the worst mistakes (top_losses.png).")
    parser.add_argument("run_dir", metavar="RUN", help="run folder written by `classify train`")
    parser.add_argument("--data", required=True, help="ImageFolder whose class folders are the run's classes")
    parser.add_argument("--out", help="folder for confusion_matrix.png, top_losses.png and report.json (default: RUN/eval)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps (default: cpu)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: library default)")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    import json

    from classify.evaluation import evaluate

    report = evaluate(args.run_dir, args.data, args.out, args.device, threads=args.threads)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
        return 0
    print(f"accuracy {report.accuracy:.4f} on {report.images} images of {report.data}")
    print(f"{'class':<16} {'precision':>9} {'recall':>7} {'f1':>7} {'images':>7}")
    for score in report.classes:
        print(f"{score.name:<16} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>7.3f} {score.support:>7}")
    print(f"{'macro average':<16} {report.macro_precision:>9.3f} {report.macro_recall:>7.3f} {report.macro_f1:>7.3f} "
          f"{report.images:>7}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} unreadable image(s): " + "; ".join(p for p, _ in report.skipped[:10]))
    print(f"confusion matrix: {report.confusion_png}")
    print(f"top losses: {report.top_losses_png}")
    return 0
