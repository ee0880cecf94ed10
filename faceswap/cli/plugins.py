"""`faceswap plugins`: every plugin family and its members."""
from __future__ import annotations

ORDER = 90


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("plugins", help="list plugin families and their members",
                                   description="Built-in plugins and those that installed packages add through entry points.")
    parser.set_defaults(run=_run)


def _run(args) -> int:
    from faceswap import registry

    for family in registry.families().values():
        print(f"{family.name}: {family.description} (entry point group {family.entry_point_group})")
        for name in registry.names(family.name):
            print(f"  {name:<20} {registry.source(family.name, name)}")
    return 0
