"""The symbols of MoE scaling laws, defined once for the whole project.

=======  ===================================================================================
symbol   meaning
=======  ===================================================================================
``D``    training tokens
``N``    total non-embedding parameters
``Na``   activated (non-embedding) parameters per token
``G``    number of activated routed experts per token
``S``    shared-expert ratio: shared / (shared + activated routed), in activated parameters
``E``    number of routed experts
``C``    training compute, about ``6 * Na * D`` FLOPs
``L``    loss (nats per token)
=======  ===================================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import sympy as sp

D, N, Na, G, E, C = sp.symbols("D N Na G E C", positive=True)
S = sp.Symbol("S", nonnegative=True)
L = sp.Symbol("L", positive=True)
#: activation ratio Na / N, used when a law is reparametrised (Na -> r * N)
r = sp.Symbol("r", positive=True)

#: The default run-table schema: the features and the target.
DEFAULT_FEATURES: tuple[str, ...] = ("D", "N", "Na", "G", "S")
DEFAULT_TARGET = "loss"

#: Canonical variables and what they mean, for messages and docs.
MEANINGS: dict[str, str] = {
    "D": "training tokens",
    "N": "total non-embedding parameters",
    "Na": "activated parameters per token",
    "G": "activated routed experts per token",
    "S": "shared-expert ratio",
    "E": "number of routed experts",
    "C": "training compute in FLOPs",
}

#: sympy's names that must not be mistaken for parameters when a formula is parsed.
CANONICAL: dict[str, sp.Symbol] = {s.name: s for s in (D, N, Na, G, S, E, C)}


#: Variables bounded in [0, 1) and read on a linear scale; every other variable is positive and read
#: on a log scale (engines see log(x), plots use log axes, grids are geometric).
LINEAR = frozenset({"S"})

#: The role of each canonical variable in a scaling law: ``size`` (the loss must not rise as the model
#: grows), ``data`` (nor as the tokens grow), ``shape`` (hooks allowed), ``compute``.
ROLES: dict[str, str] = {"N": "size", "Na": "size", "D": "data", "G": "shape", "S": "shape", "E": "shape",
                         "C": "compute"}


def symbol(name: str) -> sp.Symbol:
    """Return the project's symbol for a variable name (canonical ones carry assumptions)."""
    return CANONICAL.get(name, sp.Symbol(name, positive=True))


#: Words of a column's name that mark a proportion in [0, 1] (a data mixture's ``proportion_domain_1``,
#: ``code_fraction``): read on a linear scale, never logged (zeros occur), 1 included.
_PROPORTION_WORDS = frozenset({"proportion", "proportions", "fraction", "frac", "share", "mixture", "mix", "prop"})


def is_proportion(name: str) -> bool:
    """Whether a column holds a proportion in ``[0, 1]`` by its name (``proportion_domain_1``)."""
    return name not in ROLES and bool(_PROPORTION_WORDS & set(_words(name)))


def is_unique(name: str) -> bool:
    """Whether a data column counts unique data (``unique_tokens``), which repeated epochs reuse: a
    data-like quantity, but not the tokens trained on."""
    return "unique" in _words(name)


def scale(name: str) -> str:
    """``"linear"`` for a bounded ratio (``S``, a proportion by its name), ``"log"`` for every other variable."""
    return "linear" if name in LINEAR or is_proportion(name) else "log"


def in_domain(name: str, x: float | np.ndarray) -> np.ndarray:
    """Where ``x`` lies in the variable's domain: ``[0, 1)`` for ``S``, ``[0, 1]`` for a proportion,
    ``> 0`` for every other variable."""
    x = np.asarray(x, dtype=float)
    if scale(name) == "log":
        return x > 0
    return (x >= 0) & ((x <= 1) if is_proportion(name) else (x < 1))


def domain_text(name: str) -> str:
    """The domain of :func:`in_domain` in words: ``"in [0, 1)"``, ``"in [0, 1]"`` or ``"> 0"``."""
    return "> 0" if scale(name) == "log" else "in [0, 1]" if is_proportion(name) else "in [0, 1)"


def interpolate(name: str, lo: float, hi: float, t: float | np.ndarray) -> float | np.ndarray:
    """The point(s) a fraction ``t`` of the way from ``lo`` to ``hi`` on the variable's scale: geometric
    for a log-scale variable (where ``lo > 0``), arithmetic otherwise. ``t = 0.5`` is the middle of a
    range, ``linspace(0, 1, n)`` a grid, uniform draws a random design."""
    t = np.asarray(t, dtype=float)
    if scale(name) == "log" and lo > 0:
        out = lo * (hi / lo) ** t
    else:
        out = lo + (hi - lo) * t
    return float(out) if out.ndim == 0 else out


#: Roles a column may be given (``--role COL=ROLE``): ``size`` and ``data`` (the loss must not rise as
#: they grow), ``hook`` (a shape variable: a minimum inside the range allowed, bounded below as it
#: grows), ``free`` (no constraint at all).
ROLE_CHOICES = ("size", "data", "hook", "free")

# Word parts of a column's name (split at ``_``, ``-``, spaces and case changes) that mark it.
_PARAM_WORDS = frozenset({"param", "params", "parameter", "parameters", "nparams", "numparams"})
_DATA_WORDS = frozenset({"token", "tokens", "characters", "chars", "data", "dataset", "samples", "examples"})
_COMPUTE_WORDS = frozenset({"flops", "compute"})
#: a ratio, a rate or a setting of the run, never a size or an amount of data, whatever else its name says
_NEVER_GROWS = frozenset({"per", "ratio", "fraction", "frac", "proportion", "share", "lr", "learning", "rate",
                          "bsz", "batch", "context", "ctx", "seq", "sequence", "len", "length", "warmup",
                          "epochs", "epoch", "repetitions", "repeats", "repeat", "experts", "expert", "parallel",
                          "vocab", "granularity", "topk", "sparsity", "steps"})


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.split(r"[_\W]+", name) if w]


def infer_role(name: str) -> str:
    """A column's role from its name as researchers write it: ``size``, ``data``, ``compute`` or
    ``shape`` (hooks allowed; every column the rules below do not recognise).

    ``size``: ``N``, ``Na``, ``N_<name>`` (``N_active``, ``N_dense``), ``model_size`` and names with a
    word ``params``/``parameters`` (``num_params``, ``non_embedding_param_size``,
    ``non_vocab_parameters``, ``dense_parameter_count``). ``data``: ``D``, ``D<digits>`` or ``D_<name>``
    (``D1``, ``D_train``), and names with a word ``tokens``/``characters``/``data``/``samples``
    (``num_tokens``, ``data_size``, ``num_characters``, ``unique_tokens``: more unique data at fixed
    tokens lowers the loss too). ``compute``: ``C`` and names with ``flops``/``compute``. A name with a
    word of a ratio or a setting (``per``, ``ratio``, ``proportion``, ``lr``, ``batch``, ``seq``,
    ``context``, ``experts``, ``parallel``, ``vocab``, ``epochs``, ...) is never a size or data (a
    parameter count such as ``non_vocab_parameters`` is the exception: its ``params`` word wins over
    ``vocab``), and neither are counts such as ``E``, ``G``, ``num_experts``, ``vocab_size``,
    ``parallel_size`` or ``bsz``.
    """
    if name in ROLES:
        return ROLES[name]
    words = _words(name)
    ratio = {"per", "ratio", "fraction", "frac", "proportion", "share"} & set(words)
    if ratio:
        return "shape"
    if _PARAM_WORDS & set(words) or name.lower() in ("model_size", "modelsize"):
        return "size"
    if re.fullmatch(r"N_[A-Za-z]\w*", name) and not _NEVER_GROWS & set(words[1:]) and \
            words[1] not in ("layers", "layer", "heads", "head", "embd", "embed", "ctx", "vocab"):
        return "size"
    if _NEVER_GROWS & set(words):
        return "shape"
    if re.fullmatch(r"D(\d+|_[A-Za-z0-9]\w*)", name) or _DATA_WORDS & set(words):
        return "data"
    if name == "C" or _COMPUTE_WORDS & set(words):
        return "compute"
    return "shape"


def role(name: str) -> str:
    """A variable's role: ``size``, ``data``, ``shape`` or ``compute`` (:func:`infer_role`)."""
    return infer_role(name)


def canonical(expr: sp.Expr, names: Iterable[str] | None = None) -> sp.Expr:
    """``expr`` with its variables replaced by the project's symbols of the same name, so that their
    assumptions hold (``N`` positive, ``S`` non-negative). ``names``: the variables (default: the
    canonical ones, ``D, N, Na, G, S, E, C``); other symbols, the parameters, are left as they are."""
    names = set(CANONICAL) if names is None else set(names)
    return expr.xreplace({s: symbol(s.name) for s in expr.free_symbols if s.name in names})
