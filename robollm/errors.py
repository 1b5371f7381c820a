"""Errors that mean "the user gave us something wrong".

The CLI prints these as one line and exits with status 2; anything else is a bug and
keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input: a file, a flag, a plan, a predicate, a config."""


class ConfigError(UserError):
    """A launch or scene file that does not match its schema."""


class RobotError(RuntimeError):
    """The robot stopped itself (a driver fault or a refused unsafe command).

    Not the user's mistake, and not a bug in robollm: the CLI reports it in one line
    and exits 1.
    """
