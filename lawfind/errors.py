"""The errors lawfind raises for bad input.

Every error is a :class:`ValueError` whose message names the problem (a row, a column, an option)
and says how to fix it. The command-line interface prints the message on one line and exits with a
non-zero status; no traceback reaches a user.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

__all__ = ["LawfindError", "DataError", "FormulaError", "OptionError", "FitError", "LawfindWarning", "did_you_mean",
           "check_choice", "printable", "show_path"]


class LawfindError(ValueError):
    """Base class of lawfind's own errors for bad input."""


class DataError(LawfindError):
    """A run table is unreadable, malformed or inconsistent."""


class FormulaError(LawfindError):
    """A law's formula cannot be parsed or does not fit the data's variables."""


class OptionError(LawfindError):
    """An option or argument has an unknown or invalid value."""


class FitError(LawfindError):
    """A fit could not be carried out (for example, too few runs for the parameters)."""


class LawfindWarning(UserWarning):
    """Input that lawfind accepts but that may not mean what was intended (the command line prints it)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice to ``name``, or ``""``.

    Parameters
    ----------
    name:
        The misspelt name.
    choices:
        The valid names.
    """
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return f" (did you mean '{printable(lowered[name.lower()], 40)}'?)"
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{printable(close[0], 40)}'?)" if close else ""


def check_choice(option: str, value: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise an :class:`OptionError`."""
    choices = list(choices)
    if value not in choices:
        raise OptionError(
            f"unknown {option} '{printable(value, 40)}'{did_you_mean(value, choices)}; "
            f"choose one of: {', '.join(choices)}"
        )
    return value


def printable(text: object, limit: int = 80) -> str:
    """Text for a one-line message: control characters escaped, a long text shortened in the middle."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    if len(text) > limit:
        text = f"{text[:limit // 2 - 2]}...{text[-(limit // 2 - 1):]} ({len(text)} characters)"
    return text


def show_path(path: str | bytes | os.PathLike, limit: int = 80) -> str:
    """A path for a one-line message (see :func:`printable`)."""
    return printable(os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else path, limit)
