"""``lawfind export``: LaTeX of a fitted law and its derived optima, or the law as a Python function."""

from __future__ import annotations

import argparse

from ..export import latex_groups, latex_record
from ..pyexport import python_source
from ..record import load_discovery
from .common import add_command, at_least, console, output_file, wrote

EXAMPLE = ("example:\n  lawfind export out/best.json --precision 3 --out best.tex\n"
           "  lawfind export out/discover --python --out law.py   (a numpy-only function law(input_data, group))")


def register(sub) -> None:
    p = add_command(sub, "export", "LaTeX of a fitted law (and its optima), or a standalone Python function", EXAMPLE)
    p.add_argument("fit", help="a JSON file written by 'fit --out' or 'discover' (best.json), or discover's folder")
    p.add_argument("--precision", type=at_least(1), default=3, help="significant digits (default: 3)")
    p.add_argument("--python", action="store_true",
                   help="write the law as Python source instead: law(input_data, group=None) -> list of dicts, "
                        "rows keyed by the table's column names, constants per group where the law has them")
    p.add_argument("--out", help="write the LaTeX (or the Python source) to a file")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    out = output_file(args.out)
    record = load_discovery(args.fit)
    if args.python:
        text = python_source(record.law, record.values_by_group() or record.values, columns=record.columns,
                             target=record.target)
    elif record.per_group:
        text = latex_groups(record, precision=args.precision)
    else:
        text = latex_record(record.law, record.values, record.to_dict(), precision=args.precision)
    if out:
        out.write_text(text.rstrip("\n") + "\n")
        wrote(out)
    else:
        console.print(text, markup=False)
    return 0
