"""Thin command-line layer: each module here with ``add_parser`` is one ``faceswap`` subcommand."""
