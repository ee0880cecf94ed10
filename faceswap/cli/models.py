"""`faceswap models`: the swap model presets with their size and parameter counts."""
from __future__ import annotations

ORDER = 25


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("models", help="list swap model presets with parameter counts",
                                   description="Every registered swap model (built-in and from installed packages) "
                                               "at its default settings; pick one with `faceswap train --preset`.")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from faceswap import registry

    print(f"{'preset':<16} {'px':>4} {'parameters':>12}  {'encoder / bottleneck / decoder widths':<44} source")
    for name in registry.names("swap_model"):
        model = registry.get("swap_model", name)()
        options = getattr(model, "options", {})
        widths = f"{options.get('encoder_widths')} / {options.get('bottleneck')} / {options.get('decoder_widths')}"
        parameters = sum(p.numel() for p in model.parameters())
        print(f"{name:<16} {model.resolution:>4} {parameters:>12,}  {widths:<44} {registry.source('swap_model', name)}")
    return 0
