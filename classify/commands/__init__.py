"""One module per ``classify`` subcommand (see faceswap.cli.main for the protocol)."""
