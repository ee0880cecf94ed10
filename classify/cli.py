"""``classify`` entry point: subcommands are the modules of classify.commands."""
from __future__ import annotations

from faceswap.cli.main import build_parser, run_cli

PROGRAM_DESCRIPTION = (
    "Image classification on the shared training engine: get data with `classify datasets`, "
    "`train` a registered model (see `classify models`), then `eval`, `predict` and `inspect` the run folder."
)


def main(argv: list[str] | None = None) -> int:
    return run_cli(build_parser("classify", PROGRAM_DESCRIPTION, "classify.commands"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
