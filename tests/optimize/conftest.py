from __future__ import annotations

HOOK = "E0 + A*Na**(-alpha)*exp(g1*log(G) + g2*log(G)**2) + B*D**(-beta)"
HOOK_VALUES = dict(E0=1.7, A=50.0, alpha=0.24, g1=-0.24, g2=0.06, B=350.0, beta=0.27)
RANGES = {"G": (1.0, 24.0), "Na": (1e7, 1e9), "D": (1e10, 1e11), "N": (1e8, 1e10)}
