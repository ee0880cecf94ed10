"""Errors a user can cause. The CLI prints their message as one sentence and exits non-zero."""


class UserError(Exception):
    """Bad input, missing file, wrong model for the data: the message names the input and the fix."""

    exit_code = 2
