"""Write runs/planted_moe5.parquet: 450 runs of a planted five-factor MoE law with 0.75 % noise.

This table stands in for real sweep data until `moe sweep` has produced a real one. The law and its
constants are `lawfind.planted.PLANTED` entry "moe5":

    L = E0 + A Na^-alpha (N/Na)^-rho exp(g1 ln G + g2 (ln G)^2 + s1 S + s2 S^2) + B D^-beta

with E0 = 1.6, A = 60, alpha = 0.25, rho = 0.08, g1 = -0.24, g2 = 0.06 (G* = e^2 = 7.4),
s1 = -0.7, s2 = 1.1 (S* = 0.32), B = 400, beta = 0.28.

Usage: python runs/make_planted.py  (deterministic: seed 0)
"""

from __future__ import annotations

from pathlib import Path

from lawfind.planted import planted_law, sample

if __name__ == "__main__":
    out = Path(__file__).with_name("planted_moe5.parquet")
    frame = sample(planted_law("moe5"), n=450, noise=0.0075, seed=0)
    frame.to_parquet(out, index=False)
    print(f"wrote {out} ({len(frame)} runs)")
