"""What every command shares: the parser, option types, loading a table, consoles and writing.

Option types check a value's range when the command line is parsed, and output paths are checked
(and their folders made) before any work, so that bad input never costs a run.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .. import catalog
from ..data import REPEATS, SCALES, RunTable, load_runs
from ..errors import LawfindError, OptionError, check_choice, show_path
from ..fit import LOSSES
from ..laws import Law, parse_law, parse_ranges
from ..splits import parse_holdout
from ..symbols import ROLE_CHOICES

console = Console(highlight=False)
if not console.is_terminal:  # pipes and files get full tables rather than 80 columns
    console = Console(highlight=False, width=140)
err_console = Console(stderr=True, highlight=False)


class Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line with exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102
        raise OptionError(f"{message} (see '{self.prog} --help')")


def add_command(sub, name: str, help: str, example: str) -> argparse.ArgumentParser:  # noqa: A002
    """A subcommand whose help ends with its example."""
    return sub.add_parser(name, help=help, epilog=example, formatter_class=argparse.RawDescriptionHelpFormatter)


# ---- option types: each raises a one-line error at parse time ---------------------------------------

def _number(kind: type, ok: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {'an integer' if kind is int else 'a number'}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    convert.__name__ = rule
    return convert


def positive(kind: type = float) -> Callable[[str], float]:
    """A finite number > 0 (a Huber threshold, a budget, a loss)."""
    return _number(kind, lambda v: v > 0, "> 0")


def at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low`` (a count of starts, seeds, generations, refits)."""
    return _number(int, lambda v: v >= low, f">= {low}")


def fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    return _number(float, lambda v: 0 < v < 1, "in (0, 1)")(text)


def factor(text: str) -> float:
    """A number >= 1: how many times beyond the data."""
    return _number(float, lambda v: v >= 1, ">= 1 (a factor beyond the data)")(text)


def option(parse: Callable[[str], object], keep_text: bool = False) -> Callable[[str], object]:
    """An option type from a lawfind parser: its error becomes argparse's one-line message.

    ``keep_text``: validate only, and pass the text on unchanged.
    """
    def convert(text: str) -> object:
        try:
            value = parse(text)
        except LawfindError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text if keep_text else value

    convert.__name__ = parse.__name__
    return convert


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list of identifiers, e.g. ``Q,E0``."""
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in items if not t.isidentifier()]
    if bad:
        raise argparse.ArgumentTypeError(f"'{bad[0]}' is not a name: write NAME,NAME, e.g. Q,E0")
    return items


def choice(what: str, choices) -> Callable[[str], str]:  # noqa: ANN001
    """One of ``choices``, with a did-you-mean for a misspelt one."""
    return option(lambda text: check_choice(what, text, list(choices)))


HOLDOUT = option(parse_holdout, keep_text=True)


def role_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``"num_experts=hook,params=size"`` -> ``(("num_experts", "hook"), ("params", "size"))``: columns
    (or features) and their roles, checked against :data:`lawfind.symbols.ROLE_CHOICES`."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        column, sep, r = (x.strip() for x in item.partition("="))
        if not sep or not column or not r:
            raise argparse.ArgumentTypeError(f"cannot read '{item}': write COLUMN=ROLE, ROLE one of "
                                             f"{', '.join(ROLE_CHOICES)} (e.g. num_experts=hook)")
        try:
            check_choice(f"role for '{column}'", r, ROLE_CHOICES)
        except OptionError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        out.append((column, r))
    return tuple(out)


def declared_roles(args: argparse.Namespace) -> dict[str, str]:
    """The roles of ``--role`` options (repeatable; the last word on a column wins)."""
    return {c: r for pairs in (getattr(args, "role", None) or ()) for c, r in pairs}


# ---- shared options -----------------------------------------------------------------------------------

def add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="run table (.parquet, .csv, .csv.gz or .tsv)")
    p.add_argument("--target", default="loss", help="column to predict (default: loss)")
    p.add_argument("--features", help="comma-separated columns; NAME=column maps a column to a variable "
                                      "(default: the columns of D,N,Na,G,S present; in a table with none of "
                                      "them, the columns named as a size, data or compute: params, tokens, ...)")
    p.add_argument("--group", help="column that splits runs into groups, e.g. router_type")
    p.add_argument("--where", help="pandas query selecting runs, e.g. \"step == 249000 and k == 1\"")
    p.add_argument("--repeats", type=choice("repeats option", REPEATS), default="keep",
                   help="repeated configurations (seeds, merged groups): keep (default; counted in a note), "
                        "mean (average them) or error (refuse repeats with different losses and no seed column)")
    p.add_argument("--scale", type=choice("target scale", SCALES),
                   help="the target's scale: log (relative errors; needs a positive target) or linear (a target of "
                        "any sign, errors in its units divided by its spread); default: log where every target "
                        "value is > 0, else linear")


def add_role_args(p: argparse.ArgumentParser) -> None:
    """``--role COL=size|data|hook|free`` (admissibility and the splits: which columns are model sizes,
    amounts of data, hooks or unconstrained; the others by their names)."""
    p.add_argument("--role", type=role_pairs, action="append", metavar="COL=ROLE",
                   help="a column's role, repeatable or comma-separated: size (loss must not rise as it grows: "
                        "params), data (nor as it grows: tokens), hook (a minimum allowed, bounded below: num_experts, "
                        "lr), free (no constraint); default: from the names (params, N_*, tokens, D*, ... are sizes "
                        "and data, every other column a hook)")


def add_fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loss", type=choice("loss", LOSSES), default="huber", help=f"objective: {' or '.join(LOSSES)} (default: huber, delta 1e-3 on log loss)")
    p.add_argument("--delta", type=positive(), default=1e-3, help="Huber threshold on log residuals (> 0)")
    p.add_argument("--starts", type=at_least(1), default=256, help="number of L-BFGS starts (default: 256)")
    p.add_argument("--seed", type=at_least(0), default=0, help="seed of starts and bootstrap (default: 0)")


def add_formula_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", type=names, default=(), help="names in a formula that are constants to fit, "
                   "e.g. Q,E0: silences the note on names that look like columns, and wins over a column's name")


def load(args: argparse.Namespace) -> RunTable:
    """The run table the data options describe; notes say what the loader read otherwise than written
    (a header cell ``'N '`` read as ``N``) and how many runs repeat a configuration."""
    table = load_runs(args.file, target=args.target, features=args.features, group=args.group,
                      where=args.where, repeats=args.repeats, scale=getattr(args, "scale", None))
    for note in table.notes:
        err_console.print(f"note: {note}", markup=False, soft_wrap=True)
    if table.repeated:
        err_console.print(f"note: {table.repeated} of {len(table)} runs share their configuration with another "
                          "(seeds, or groups merged): kept; --repeats mean averages them", markup=False, soft_wrap=True)
    return table


def scale_line(table: RunTable) -> str:
    """One line: the target and the scale it is fitted and scored on."""
    if table.scale == "log":
        return f"target: {table.target} on the log scale (errors are RMSE of log {table.target})"
    why = "it has values <= 0" if (table.y <= 0).any() else "as asked"
    return (f"target: {table.target} on the linear scale ({why}): errors in its units, residuals divided by its "
            f"spread {table.spread:.4g} in the fit")


def is_catalogue(spec: str) -> bool:
    """Whether ``spec`` names a catalogue law (in any case)."""
    return spec.replace("_", "").isalnum() and spec.lower() in {n.lower() for n in catalog.names()}


def check_params(spec: str, params: tuple[str, ...]) -> None:
    """Refuse ``--params`` for a catalogue law (its constants are declared already)."""
    if params and is_catalogue(spec):
        raise OptionError(f"--params names constants of a formula; '{spec}' is a catalogue law")


def resolve_law(spec: str, table: RunTable | None = None, init: str | None = None,
                params: tuple[str, ...] = ()) -> Law:
    """A catalogue law by name, or a law parsed from a formula over the table's features.

    ``params``: names of the formula to fit as constants (see :func:`lawfind.laws.parse_law`).
    """
    if is_catalogue(spec):
        check_params(spec, params)
        return catalog.get(spec)
    if spec.replace("_", "").isalnum() and not any(ch in spec for ch in "+-*/^()"):
        catalog.get(spec)  # a bare word that is no catalogue law: raise with a did-you-mean
    return parse_law(spec, table.features if table is not None else None, init=parse_ranges(init), params=params)


# ---- output paths: checked, and their folders made, before any work ---------------------------------

def output_file(path: str | None, option_name: str = "--out") -> Path | None:
    """Check that ``path`` can be written as a file, making its folder; ``None`` passes through.

    Raises
    ------
    OptionError
        If ``path`` is a folder, lies under a file, has too long a name, or cannot be written.
    """
    if path is None:
        return None
    out = Path(path)
    try:
        if out.is_dir():
            raise OptionError(f"{option_name} '{show_path(out)}' is a folder: give a file name inside it, "
                              f"e.g. {show_path(out / 'result')}")
        _make_folder(out.parent, option_name, out)
        if out.exists():
            with out.open("a"):  # writable, left as it is
                pass
        else:
            with out.open("x"):
                pass
            out.unlink()
    except OSError as exc:
        raise _cannot_write(option_name, out, exc) from None
    return out


def output_folder(path: str | None, option_name: str = "--out") -> Path | None:
    """Make the folder ``path`` (with its parents) and check that files can be written in it."""
    if path is None:
        return None
    out = Path(path)
    try:
        _make_folder(out, option_name, out)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise _cannot_write(option_name, out, exc) from None
    return out


def _make_folder(folder: Path, option_name: str, out: Path) -> None:
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            if part == out:
                raise OptionError(f"{option_name} '{show_path(out)}' is a file, not a folder: give a folder's name "
                                  "(or move the file away)")
            raise OptionError(f"{option_name} '{show_path(out)}' lies under '{show_path(part)}', which is a file, not "
                              "a folder: choose another path (or move the file away)")
    folder.mkdir(parents=True, exist_ok=True)


def _cannot_write(option_name: str, out: Path, exc: OSError) -> OptionError:
    why = exc.strerror or type(exc).__name__
    hint = ("shorten the name (at most 255 bytes a part)" if exc.errno == 36 else
            "choose a folder you may write to")
    return OptionError(f"cannot write {option_name} '{show_path(out)}': {why}; {hint}")


# ---- printing -----------------------------------------------------------------------------------------

def print_table(title: str, rows: list[list[str]], header: list[str]) -> None:
    t = Table(title=title, header_style="bold")
    for h in header:
        t.add_column(h, justify="right" if h not in ("law", "parameter", "certainty", "reason") else "left")
    for r in rows:
        t.add_row(*r)
    console.print(t)


def fmt(x: float | None, d: int = 4) -> str:
    """A number to ``d`` significant digits, ``-`` for none."""
    return "-" if x is None else f"{x:.{d}g}"


def wrote(path: Path | str) -> None:
    console.print(f"wrote {path}", markup=False)
