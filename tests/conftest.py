from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lawfind.data import load_runs

ROOT = Path(__file__).resolve().parents[1]
CLARK = ROOT.parent / "shared" / "data" / "clark2022" / "curves.csv.gz"
CLARK_FINAL = "step == 249000 and k == 1 and (routing_frequency == 0.5 or router_type == 'Dense')"


@pytest.fixture(scope="session")
def clark_path() -> Path:
    if not CLARK.exists():
        pytest.skip(f"the shared Clark et al. 2022 data is absent ({CLARK})")
    return CLARK


def chinchilla_frame(n: int = 450, noise: float = 0.01, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 11.5, n)
    L = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, noise, n))
    return pd.DataFrame({"N": N, "D": D, "loss": L})


@pytest.fixture(scope="session")
def chinchilla_table():
    return load_runs(chinchilla_frame())
