"""A mistake a user can fix → UsageError: one line, exit status 2."""


class UsageError(Exception):
    """Bad input or a missing tool: printed as one line, exit status 2, no traceback.

    The message names what is wrong and what to do about it.
    """
