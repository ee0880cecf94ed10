"""``faceswap`` entry point: finds the subcommand modules in this package and dispatches.

A subcommand module defines ``add_parser(subparsers)``, which registers its parser and sets
``run`` (a function of the parsed args returning an exit code) as a default, and may set
``ORDER`` to place itself in ``--help``. Heavy imports stay inside ``run`` so that
``faceswap --help`` is instant.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import pkgutil
import sys

from faceswap import __version__
from faceswap.errors import UserError

PROGRAM_DESCRIPTION = (
    "Swap faces in video: `extract` faces from two people's videos, `train` a model on them, "
    "`convert` a video with the trained model. Run `faceswap demo` for the whole path on sample media."
)


# What the user can do about an OSError that the machine, not the program, caused; other OSErrors stay bugs.
DISK_FIXES = {
    errno.ENOSPC: ("write", "free some space on that disk or choose a folder on another one"),
    errno.EDQUOT: ("write", "free some space within your disk quota or choose a folder on another disk"),
    errno.EROFS: ("write", "choose a writable folder"),
    errno.EACCES: ("access", "check its permissions or choose a folder you can write to"),
    errno.EPERM: ("access", "check its permissions or choose a folder you can write to"),
}


def disk_error_message(error: OSError) -> str:
    """One sentence for a full, read-only or forbidden disk, naming the path when the error knows it."""
    verb, fix = DISK_FIXES[error.errno]
    where = f"'{error.filename}'" if error.filename else "the output"
    return f"Cannot {verb} {where} ({error.strerror or error}); {fix}."


def build_parser(prog: str, description: str, package: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    package_module = importlib.import_module(package)
    modules = [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(package_module.__path__)]
    for module in sorted((m for m in modules if hasattr(m, "add_parser")), key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.add_parser(subparsers)
    return parser


def run_cli(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 1
    try:
        return int(args.run(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # every command: a full or read-only disk is the user's to fix
        if error.errno not in DISK_FIXES:
            raise
        print(f"error: {disk_error_message(error)}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_cli(build_parser("faceswap", PROGRAM_DESCRIPTION, "faceswap.cli"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
