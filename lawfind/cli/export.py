"""``lawfind export``: LaTeX of a fitted law and its derived optima."""

from __future__ import annotations

import argparse

from ..export import latex_record, load_fit
from .common import add_command, at_least, console, output_file, wrote

EXAMPLE = "example:\n  lawfind export out/best.json --precision 3 --out best.tex"


def register(sub) -> None:
    p = add_command(sub, "export", "LaTeX of a fitted law (and its optima)", EXAMPLE)
    p.add_argument("fit", help="a JSON file written by 'fit --out' or 'discover' (best.json)")
    p.add_argument("--precision", type=at_least(1), default=3, help="significant digits (default: 3)")
    p.add_argument("--out", help="write the LaTeX to a file")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    out = output_file(args.out)
    text = latex_record(*load_fit(args.fit), precision=args.precision)
    if out:
        out.write_text(text + "\n")
        wrote(out)
    else:
        console.print(text, markup=False)
    return 0
