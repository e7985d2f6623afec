"""``lawfind export``: LaTeX of a fitted law and its derived optima."""

from __future__ import annotations

import argparse

from ..export import latex, load_fit
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
    law, values, record = load_fit(args.fit)
    lines = [r"\begin{equation}", latex(law.substitute(values), args.precision), r"\end{equation}"]
    for item in record.get("optima") or []:
        if item.get("latex"):
            lines += [r"\begin{equation}", item["latex"], r"\end{equation}"]
        else:
            lines.append(f"% {item['description']}")
    for line in (record.get("allocation") or {}).get("latex", []):
        lines += [r"\begin{equation}", line, r"\end{equation}"]
    text = "\n".join(lines)
    if out:
        out.write_text(text + "\n")
        wrote(out)
    else:
        console.print(text, markup=False)
    return 0
