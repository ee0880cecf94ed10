"""`classify models`: registered models and heads with parameter counts."""
from __future__ import annotations

ORDER = 50


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("models", help="list registered classifier models and heads",
                                   description="Built-in and third-party (entry point) models and heads.")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from classify.catalogue import list_models

    plugins = list_models()
    for family, title in (("classifier_model", "models (parameters at 3x32x32 input or their smallest size, without head)"),
                          ("classifier_head", "heads (parameters on 512 features, 10 classes)")):
        print(f"{title}:")
        for info in (p for p in plugins if p.family == family):
            count = f"{info.parameters:,}" if info.parameters is not None else "?"
            pretrained = f" [pretrained: {', '.join(info.pretrained)}]" if info.pretrained else ""
            print(f"  {info.name:<14} {count:>11}  {info.source:<12} {info.description}{pretrained}")
    return 0
