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


def two_dataset_frame(n: int, n_range: tuple[float, float] = (7, 10), d_range: tuple[float, float] = (9, 11.5),
                      seed: int = 5) -> pd.DataFrame:
    """Chinchilla runs on two datasets (column ``kind``: x, y) that differ in E0 and A, 0.5 % noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for level, (e0, a) in {"x": (1.6, 300.0), "y": (1.9, 500.0)}.items():
        N, D = 10 ** rng.uniform(*n_range, n), 10 ** rng.uniform(*d_range, n)
        L = (e0 + a / N ** 0.34 + 410.7 / D ** 0.28) * np.exp(rng.normal(0, 0.005, n))
        frames.append(pd.DataFrame({"N": N, "D": D, "loss": L, "kind": level}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def chinchilla_table():
    return load_runs(chinchilla_frame())


#: The small discovery behind the report's tests: planted moe5 runs on the ladder design, the test
#: split N >= 1.6e9, the grammar engine at depth 2, 20 bootstrap refits.
SMALL_DISCOVERY = ["--engine", "grammar", "--max-depth", "2", "--beam", "3", "--bootstrap", "20",
                   "--holdout", "N>=1.6e9"]


@pytest.fixture(scope="session")
def discovered(tmp_path_factory) -> Path:
    """The output folder of ``lawfind discover`` (report on, as by default) for 110 planted runs;
    ``discovered.parent / "runs.csv"`` is the data file. Shared by the report's tests (about 20 s)."""
    from lawfind.cli import main
    from lawfind.planted import planted_law, sample

    root = tmp_path_factory.mktemp("discovered")
    data, out = root / "runs.csv", root / "out"
    sample(planted_law("moe5"), n=110, ladder=True).to_csv(data, index=False)
    assert main(["discover", str(data), *SMALL_DISCOVERY, "--out", str(out)]) == 0
    return out
