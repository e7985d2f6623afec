"""``lawfind report``: one self-contained HTML page of a discovery's output folder."""

from __future__ import annotations

import argparse

from .common import add_command, err_console, output_file, wrote

EXAMPLE = ("example:\n  lawfind report out/discover                 # writes out/discover/report.html\n"
           "  lawfind report out/discover --out study.html")


def register(sub) -> None:
    p = add_command(sub, "report", "one self-contained HTML page of a discovery (figures and maths inside)", EXAMPLE)
    p.add_argument("folder", help="the --out folder of 'lawfind discover'")
    p.add_argument("--out", help="the page to write (default: FOLDER/report.html)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import read_folder, write_report

    data = read_folder(args.folder)  # a folder that is not a discovery's is refused before any work
    out = output_file(args.out)
    if data.optima is None:
        err_console.print("note: no optima.json in the folder: deriving the optima (sympy, a few seconds) and "
                          "writing it", markup=False, soft_wrap=True)
    with err_console.status("writing the report"):
        path = write_report(data, out)
    wrote(path)
    return 0
