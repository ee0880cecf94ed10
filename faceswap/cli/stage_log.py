"""A stage's start line and warnings on stderr while one command runs (no add_parser: not a command)."""
from __future__ import annotations

import contextlib
import logging
import sys
from typing import Iterator


@contextlib.contextmanager
def shown_on_stderr(logger_name: str) -> Iterator[None]:
    """Print the named logger's INFO and above to this run's stderr, once, as they happen."""
    logger = logging.getLogger(logger_name)
    handler = logging.StreamHandler(sys.stderr)  # this run's stderr (tests swap it per test)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # printed once, here, even where the root logger has a handler
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
