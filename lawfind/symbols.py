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
    "S": "shared-expert ratio in [0, 1)",
    "E": "number of routed experts",
    "C": "training compute in FLOPs",
}

#: Variables whose logarithm a law may take: they must be strictly positive.
POSITIVE = frozenset({"D", "N", "Na", "G", "E", "C"})

#: sympy's names that must not be mistaken for parameters when a formula is parsed.
CANONICAL: dict[str, sp.Symbol] = {s.name: s for s in (D, N, Na, G, S, E, C)}


def symbol(name: str) -> sp.Symbol:
    """Return the project's symbol for a variable name (canonical ones carry assumptions)."""
    return CANONICAL.get(name, sp.Symbol(name, positive=True))
