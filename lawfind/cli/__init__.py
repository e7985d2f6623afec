"""The ``lawfind`` command: a thin layer over the Python API.

One module per command (``discover``, ``fit``, ``compare``, ``optimize``, ``export``, ``predict``,
``suggest``, ``report``), each with a
``register`` that adds its options and a ``cmd_*`` that parses, calls the public API and writes;
:mod:`.common` holds what they share. Bad input ends with a one-line ``error: ...`` message and exit
status 2, before any work; notes on input that may not mean what was intended print as
``warning: ...``. No traceback reaches the user unless ``LAWFIND_DEBUG=1`` is set. Ctrl-C prints one
line, ``interrupted``, and exits with status 130; a second Ctrl-C while the first is being handled
ends the command at once, its worker processes with it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence

from ..errors import LawfindError, LawfindWarning
from . import compare, discover, export, fit, optimize, predict, report, suggest
from .common import Parser, err_console

__all__ = ["main", "build_parser"]

#: The commands in the order of the help; the examples of the top-level help follow ``EXAMPLES``.
COMMANDS = (fit, compare, export, discover, report, optimize, predict, suggest)
EXAMPLES = (discover, report, optimize, predict, suggest, fit, compare, export)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lawfind", description="Discover, fit, compare and differentiate MoE scaling laws.",
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="\n\n".join(m.EXAMPLE for m in EXAMPLES))
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    if issubclass(category, LawfindWarning):
        err_console.print(f"warning: {_one_line(message)}", markup=False, soft_wrap=True)
    else:
        _show_other(message, category, filename, lineno, file, line)


_show_other = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lawfind`` command; returns the exit status."""
    with warnings.catch_warnings(), _interrupts():
        warnings.simplefilter("always", LawfindWarning)
        warnings.showwarning = _print_warning
        return _run(argv)


class _interrupts:
    """The first SIGINT raises KeyboardInterrupt (the command cleans up and prints ``interrupted``); a
    second one, while that cleanup runs, kills the worker processes and exits 130 at once."""

    def __enter__(self) -> None:
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._count = 0
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        self._count += 1
        if self._count == 1:
            raise KeyboardInterrupt
        for child in mp.active_children():
            child.kill()
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        os._exit(130)


def _run(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for the provenance of results
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return args.func(args)
    except LawfindError as exc:
        err_console.print(f"error: {_one_line(exc)}", markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # the last guard: a bug must still not show a traceback to users
        if os.environ.get("LAWFIND_DEBUG"):
            raise
        err_console.print(f"internal error: {type(exc).__name__}: {_one_line(exc)} (set LAWFIND_DEBUG=1 for the traceback "
                          "and please report it)", markup=False, soft_wrap=True)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
