"""``lawfind optimize``: optima, effects, plots and JSON of a typed law or a fit file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lawfind import catalog
from lawfind.cli import main
from lawfind.export import write_json

from .conftest import one_line_error

TYPED = "1.7 + 50*Na**-0.24*exp(-0.24*log(G) + 0.06*log(G)**2) + 350*D**-0.27"


def test_optimize_command(tmp_path, capsys, monkeypatch):
    from matplotlib.image import imread

    from lawfind import plots

    drawn = {}  # what the command hands each plot, drawn as usual

    def spy(name, real):
        def draw(*args, **kwargs):
            drawn[name] = args
            return real(*args, **kwargs)
        return draw

    for name in ("partial_dependence", "iso_loss"):
        monkeypatch.setattr(plots, name, spy(name, getattr(plots, name)))
    out = tmp_path / "opt.json"
    assert main(["optimize", "--law", TYPED, "--wrt", "G", "--ranges", "G=1:24,Na=1e7:1e9,D=1e10:1e11", "--effects",
                 "--out", str(out), "--plots", str(tmp_path / "plots")]) == 0
    text = capsys.readouterr().out
    assert "G* = " in text and "independent of D, Na" in text and "hook (minimum)" in text
    record = json.loads(out.read_text())
    assert record["optima"][0]["value"] == pytest.approx(np.exp(2.0))
    assert {e["variable"]: e["shape"] for e in record["effects"]}["G"] == "hook (minimum)"
    curves, optima = drawn["partial_dependence"][:2]
    assert set(curves) == {"D", "Na", "G"} and optima == {"G": pytest.approx(np.exp(2.0))}
    g, loss = curves["G"]
    assert abs(np.log(g[np.argmin(loss)]) - 2.0) <= np.diff(np.log(g)).max()  # the curve's lowest point is G*
    assert drawn["iso_loss"][3] == ("G", "D")  # the optimised variable first
    for name in ("partial_dependence.png", "iso_loss_G_D.png"):
        assert min(imread(tmp_path / "plots" / name).shape[:2]) > 200, name
    assert main(["export", str(out)]) == 0
    assert "{G}^{*} = 7.39" in capsys.readouterr().out


def test_typed_law_reads_the_functions_of_fit(capsys):
    # the one formula parser: tanh (and every function fit --law reads) in optimize --law too
    assert main(["optimize", "--law", "1.7 + 400*N**-0.34*(1 + 0.1*tanh(log(G) - 2)**2)", "--wrt", "G",
                 "--ranges", "G=1:24", "--at", "N=1e9"]) == 0
    assert "G* = " in capsys.readouterr().out


def test_allocation_from_a_fit_file(tmp_path, capsys):
    law = catalog.get("chinchilla2022")
    v = dict(law.reference)
    path = write_json(tmp_path / "fit.json", {"formula": str(law.expr), "variables": list(law.variables),
                                              "parameters": {k: {"value": x} for k, x in v.items()}})
    out = tmp_path / "alloc.json"
    assert main(["optimize", str(path), "--budget", "1e23", "--out", str(out)]) == 0
    assert "under 6*D*N = C (closed form)" in capsys.readouterr().out
    # Chinchilla's N_opt = G (C/6)^(b/(a+b)), G = (a A / (b B))^(1/(a+b))
    a, b = v["alpha"], v["beta"]
    n_opt = (a * v["A"] / (b * v["B"])) ** (1 / (a + b)) * (1e23 / 6) ** (b / (a + b))
    record = json.loads(out.read_text())
    assert record["allocation"]["values"]["N"] == pytest.approx(n_opt, rel=1e-9)
    assert record["allocation"]["exponents"]["N"] == pytest.approx(b / (a + b), rel=1e-9)
    assert record["parameters"]["alpha"]["value"] == a  # the file's record, with the results added


def test_bad_input_refused_before_any_work(tmp_path, capsys, no_work):
    no_work("lawfind.cli.optimize.analyse")
    (tmp_path / "file").write_text("x")
    for argv, message in [
        (["--law", "1.7 + 400*N**-0.34 + x", "--wrt", "N"], "unknown names ['x']"),
        (["--law", TYPED, "--budget", "-1"], "argument --budget: must be > 0, got -1"),
        (["--law", TYPED, "--target-loss", "0"], "argument --target-loss: must be > 0, got 0"),
        (["--law", TYPED, "--at", "N"], "cannot read 'N': write NAME=VALUE"),
        (["--law", TYPED, "--plots", str(tmp_path / "file")], "--plots '"),
        (["--law", TYPED, "--out", str(tmp_path / "file" / "o.json")], "which is a file, not a folder"),
        (["--law", TYPED, "--plots", str(tmp_path / "p")], "need the data's ranges of ['D', 'Na', 'G']"),
        ([], "give a JSON file (best.json or fit.json) or --law"),
    ]:
        assert main(["optimize", *argv]) == 2, argv
        assert message in one_line_error(capsys), argv
