"""Sweep specs: a frozen, validated SweepSpec; unknown keys named with "did you mean"; the plan of runs,
with unrealisable random draws counted and common random numbers across all runs."""

from __future__ import annotations

import dataclasses

import pytest

from moe.cli import main
from moe.spec import SpecError, expand, load_spec, parse_spec

BASE = dict(N=2e5, Na=8e4, G=2, S=0.0, D=1.2e4, d_model=32, n_layers=1, n_heads=2, seq_len=32, batch_size=8)


def _raw(**extra) -> dict:
    return {"name": "t", "base": dict(BASE), **extra}


@pytest.mark.parametrize("table, key, hint", [("base", "bach_size", "batch_size"), ("base", "learning_rate", "lr"),
                                              ("top", "familly", "family"), ("random", "ratoi", "ratio")])
def test_unknown_keys_are_named_with_a_suggestion(table, key, hint):
    raw = _raw(random={"n": 1})
    {"base": raw["base"], "random": raw["random"], "top": raw}[table][key] = 1
    with pytest.raises(SpecError, match=f"unknown key '{key}' in .*did you mean '{hint}'"):
        parse_spec(raw, "s.toml")


def test_family_keys_and_values_are_checked():
    with pytest.raises(SpecError, match=r"unknown key 'valeus' in \[\[family\]\] 1 .*did you mean 'values'"):
        parse_spec(_raw(family=[{"vary": "G", "valeus": [1]}]))
    with pytest.raises(SpecError, match="needs vary = one of N, ratio, G, S, D .*did you mean 'ratio'"):
        parse_spec(_raw(family=[{"vary": "Ratio", "values": [0.1]}]))
    with pytest.raises(SpecError, match="unknown key 'Na' in 'at' of"):
        parse_spec(_raw(family=[{"vary": "G", "values": [1], "at": {"Na": 1e5}}]))
    with pytest.raises(SpecError, match="'seeds' in .* must hold integers"):
        parse_spec(_raw(family=[{"vary": "G", "values": [1], "seeds": [0.5]}]))
    with pytest.raises(SpecError, match="'lr' in \\[base\\] .* must be float, got 'fast'"):
        parse_spec({"base": {**BASE, "lr": "fast"}})
    with pytest.raises(SpecError, match=r"lacks \['D'\]"):
        parse_spec({"base": {k: v for k, v in BASE.items() if k != "D"}})


def test_spec_is_frozen_and_typed():
    spec = parse_spec(_raw(family=[{"vary": "G", "values": [1, 4], "seeds": [0, 1]}], seeds={"values": [3]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"
    with pytest.raises(TypeError):
        spec.point["N"] = 1.0
    assert spec.point["G"] == 2.0 and spec.train == {"batch_size": 8} and spec.families[0].values == (1.0, 4.0)
    assert spec.model["d_model"] == 32 and spec.seeds == (3,)


def test_families_around_other_points_with_seeds():
    spec = parse_spec(_raw(family=[{"vary": "G", "values": [1, 4], "at": {"N": 4e5, "D": 2.4e4}, "seeds": [0, 1]},
                                   {"vary": "S", "values": [0.3], "label": "S near the hook"}]))
    runs = expand(spec).runs
    at = [r for r in runs if r.label == "vary G at N=400000, D=24000"]
    assert len(runs) == 1 + 4 + 1 and len(at) == 4
    assert {(r.target["G"], r.train.seed) for r in at} == {(1, 0), (1, 1), (4, 0), (4, 1)}
    assert all(r.target["N"] == 4e5 and r.target["Na"] == pytest.approx(1.6e5) and r.train.tokens == 24000 for r in at)
    (s,) = [r for r in runs if r.label == "S near the hook"]
    assert s.target["S"] == 0.3 and s.model.d_shared > 0


def test_common_random_numbers_across_every_run():
    spec = parse_spec(_raw(family=[{"vary": "G", "values": [1, 4]}, {"vary": "D", "values": [2.4e4]}],
                           random={"n": 4, "N": [2e5, 4e5], "G": [1, 4]}, seeds={"values": [1, 2]}))
    runs = expand(spec).runs
    assert len(runs) == 1 + 3 + 4 + 2
    assert {r.train.data_seed for r in runs} == {0}
    assert {(r.train.batch_size, r.model.seq_len) for r in runs} == {(8, 32)}


def test_unrealisable_random_points_are_counted_and_reported():
    # Na below the attention parameters of width 32 (about 8.4e3) cannot be realised
    spec = parse_spec(_raw(random={"n": 3, "seed": 0, "N": [1e4, 3e4], "ratio": [0.3, 0.9]}))
    plan = expand(spec)
    assert plan.redrawn > 0 and len(plan.runs) == 1 + 3 - plan.dropped
    assert "draws could not be realised and were redrawn" in plan.report()
    assert "below the attention parameters" in plan.report()
    hopeless = expand(parse_spec(_raw(random={"n": 2, "N": [1e3, 2e3]})))
    assert (hopeless.redrawn, hopeless.dropped, len(hopeless.runs)) == (40, 2, 1)
    assert "2 points dropped after 20 draws each" in hopeless.report()


def test_random_points_the_designer_misses_are_redrawn():
    box = {"n": 5, "N": [2e5, 4e5], "ratio": [0.1, 0.6], "G": [1, 16]}
    loose, strict = (expand(parse_spec(_raw(random={**box, "max_error": e}))) for e in (1.0, 0.01))
    assert loose.redrawn == 0 and max(r.error for r in loose.runs) > 0.01
    assert strict.redrawn > 0 and "misses them by" in strict.report()
    assert all(r.error <= 0.01 for r in strict.runs if r.label == "random")
    with pytest.raises(SpecError, match="did you mean 'max_error'"):
        parse_spec(_raw(random={**box, "max_err": 0.1}))


def test_cli_names_a_misspelt_key_on_one_line(tmp_path, capsys):
    spec = tmp_path / "typo.toml"
    spec.write_text("[base]\n" + "\n".join(f"{k} = {v}" for k, v in BASE.items()) + "\nlearning_rate = 1e-3\n")
    assert main(["sweep", str(spec), "-o", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: unknown key 'learning_rate' in [base]")
    assert "did you mean 'lr'?" in err and not (tmp_path / "x.parquet").exists()


def test_cli_reports_unrealisable_draws(tmp_path, capsys):
    spec = tmp_path / "r.toml"
    spec.write_text("[base]\n" + "\n".join(f"{k} = {v}" for k, v in BASE.items())
                    + "\n[random]\nn = 2\nN = [1e3, 2e3]\n")
    assert main(["sweep", str(spec), "-o", str(tmp_path / "x.parquet"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 runs in the spec" in out and "40 draws could not be realised" in out and "2 points dropped" in out


def test_load_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="no such sweep spec"):
        load_spec(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[base\n")
    with pytest.raises(SpecError, match="is not valid TOML"):
        load_spec(tmp_path / "bad.toml")
