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


class LanguageModelUnavailable(RobotError):
    """The language model stopped answering in the middle of a run (its server died,
    timed out or began refusing requests after it had answered).

    Not the user's mistake, and not a bug: a planner that catches it ends the run where
    it stands and reports what was done; anywhere else the CLI reports it in one line
    and exits 1, like a robot that stopped itself.
    """
