"""The benchmark and study scripts import only what lawfind and moe still have: a rename in the package
must not leave a script that fails on its first line (bench_discover.py imported a private name that
the refactor of issue 18 had made public under another name)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("docs/study/*.py"), *ROOT.glob("runs/*.py")])


def _imported(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` of every ``from lawfind... import name`` / ``from moe... import name``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("lawfind", "moe"):
            out += [(node.module, a.name) for a in node.names]
    return out


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 10 and any(p.name == "bench_discover.py" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_script_imports_names_that_exist(path):
    for module, name in _imported(path):
        mod = importlib.import_module(module)
        if not hasattr(mod, name):
            importlib.import_module(f"{module}.{name}")  # a submodule: raises where it does not exist


SLDBENCH = ROOT.parent / "shared" / "data" / "sldbench"


@pytest.mark.skipif(not SLDBENCH.exists(), reason="../shared/data/sldbench is absent")
def test_scalebench_laws_are_the_papers_65_and_predict_their_tasks(monkeypatch):
    """The benchmark's laws: 10, 4, 1, 10, 10, 10, 10, 10 per task, as many constants on average as the
    paper's registry (moe 5.3, lr_bsz 20.2, domain 29.0 over its five outputs), finite on the pool."""
    import numpy as np
    import pandas as pd

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    laws = importlib.import_module("scalebench_laws")
    counts = {t: len(v) for t, v in laws.LAWS.items()}
    assert counts == {"moe": 10, "sparsity": 4, "farseer": 1, "data_constrained": 10, "lr_bsz": 10, "parallel": 10,
                      "vocab": 10, "domain_mixture": 10}
    sizes = {t: np.mean([len(s.bounds) for s in v]) for t, v in laws.LAWS.items()}
    assert sizes["moe"] == pytest.approx(5.3) and sizes["lr_bsz"] == pytest.approx(20.2)
    assert sizes["domain_mixture"] == pytest.approx(29.0) and sizes["parallel"] == pytest.approx(4.2)
    for task in ("moe", "farseer", "vocab"):
        spec = laws.LAWS[task][0]
        law = laws.make_law(spec)
        pool = pd.read_csv(SLDBENCH / task / "train.csv.gz")
        theta = [np.mean(spec.bounds[p]) for p in law.param_names]
        assert np.all(np.isfinite(law.compiled(theta, [pool[v].to_numpy(float) for v in law.variables])))


@pytest.mark.skipif(not SLDBENCH.exists(), reason="../shared/data/sldbench is absent")
def test_scalebench_harness_runs_the_designs_on_a_small_task(monkeypatch):
    """parallel's pools (18 runs per group): both design criteria spend the budget within it and fit a
    law that predicts the region at 10 % (R2 above 0.95 at this law, as the full run measured, 0.999);
    at 1 % nothing is affordable (the cheapest run costs 1.6 %), scored -1 as the paper does."""
    import numpy as np

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("bench_scalebench")
    laws = importlib.import_module("scalebench_laws")
    spec = next(s for s in laws.LAWS["parallel"] if s.name == "sl_4")
    for method in ("lawfind", "misfit"):
        r = bench.run_law("parallel", spec, method, 1, 16, 8)
        assert r.shape == (1, 3) and r[0, 0] <= -0.8 and r[0, 2] > 0.95
    g = bench.groups("parallel")[0]
    law = laws.make_law(spec)
    order, _ = bench.sequence_b("lawfind", "parallel", [law], g, bench.checkpoints("parallel"), 8, 0)
    assert g.cost[order].sum() <= 0.10 * g.cost.sum() * (1 + 1e-9) and len(set(order)) == len(order)
    design = bench.Design.from_frames(g.pool, g.test, g.cost, g.cost.sum()).add([int(np.argmin(g.pool.num_params))])
    nxt = bench._next_size(design, "num_params")[0]
    assert g.pool.num_params[nxt] > 1.25 * g.pool.num_params.min()
