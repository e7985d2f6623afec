"""Output paths, checked before any work: a run is never trained only to find it cannot be written.

``check_output`` refuses a folder, a path under a file and a place without write access, and writes
nothing that stays: write access is probed with a temporary file, removed at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["OutputError", "check_output"]


class OutputError(ValueError):
    """An output path cannot be written (a folder, a path under a file, no write access)."""


def check_output(path: str | os.PathLike, option: str = "-o", *, example: str = "NAME.parquet",
                 companions: Iterable[str | os.PathLike] = ()) -> Path:
    """Return ``path`` as a ``Path`` if it (and its ``companions``, files written beside it) can be
    written; else raise :class:`OutputError` naming ``option`` and the fix.

    A missing parent folder is fine where the nearest existing folder above it is writable (the
    writers create it).
    """
    out = Path(path)
    for p in (out, *map(Path, companions)):
        if p.is_dir() and p == out:
            raise OutputError(f"{option} '{out}' is a folder, not a file: give a file path, e.g. '{p / example}'")
        if p.is_dir():
            raise OutputError(f"{option} '{out}' needs to write '{p}' beside it, which is a folder: "
                              f"move that folder away or choose another {option}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{option} '{out}' lies under '{folder}', which is a file, not a folder: "
                          "choose a path in a folder")
    for p in (out, *map(Path, companions)):
        if p.exists():
            try:
                with open(p, "ab"):  # appends nothing: only checks that the file takes writes
                    pass
            except OSError as exc:
                raise OutputError(f"cannot write {option} '{out}': '{p}' does not take writes "
                                  f"({exc.strerror or exc}); choose another {option}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".moe-write-check-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {option} '{out}': the folder '{folder}' does not take new files "
                          f"({exc.strerror or exc}); choose a path in a writable folder") from None
    return out
