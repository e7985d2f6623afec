"""Sweep specs: a TOML file -> a validated, frozen ``SweepSpec`` -> the runs it asks for.

Spec (``runs/*.toml``)::

    name = "tiny"
    corpus = ""                      # "" = the default corpus; or a folder / token file
    [base]                           # the base point: design targets, model and training settings
    N = 1e6
    Na = 3e5
    G = 4
    S = 0.2
    D = 2e5                          # training tokens
    d_model = 64                     # and any other MoEConfig field the designer does not set
    n_layers = 2
    seq_len = 64
    batch_size = 16                  # and any TrainConfig field but tokens (seed, data_seed, lr, ...)
    lr = 3e-3
    [[family]]                       # vary one factor around the base point
    vary = "G"                       # N, ratio (= Na/N), G, S or D
    values = [1, 2, 4, 8]
    at = { N = 3e6, D = 4e5 }        # optional: around another point (N keeps Na/N, as in vary)
    seeds = [0, 1, 2]                # optional: each point with these seeds (default: the base seed)
    label = "G at 3M"                # optional: the rows' label (default "vary G", plus the point)
    [random]                         # a random fill of the box
    n = 10
    seed = 0
    N = [3e5, 3e6]                   # log-uniform
    ratio = [0.1, 0.6]               # log-uniform
    G = [1, 8]                       # integers
    S = [0.0, 0.5]                   # uniform
    D = [1e5, 4e5]                   # log-uniform
    max_error = 0.1                  # redraw points whose designed N or Na misses by more (default 0.1)
    [seeds]                          # repeats at the base point, to measure noise
    values = [0, 1, 2]

Unknown keys are errors (with "did you mean"). Every run has the same ``data_seed`` (common random
numbers: the same batch order for every configuration) unless the base sets another one for all.
A random draw that cannot be realised (Na below the attention parameters of the width and depth, or a
designed N or Na off its target by more than ``max_error``) is redrawn, up to 20 times; redraws and
dropped points are counted in the plan and reported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .designer import design, vary
from .model import MoEConfig
from .train import TrainConfig, run_hash

__all__ = ["SpecError", "Family", "RandomFill", "SweepSpec", "RunSpec", "Plan", "load_spec", "parse_spec", "expand"]

POINT = ("N", "Na", "G", "S", "D")
FACTORS = ("N", "ratio", "G", "S", "D")
DESIGNER_KEYS = {"max_experts": "int", "align": "int"}
MODEL_KEYS = {f.name: f.type for f in fields(MoEConfig)
              if f.name not in ("n_experts", "top_k", "d_expert", "d_shared", "vocab_size")} | DESIGNER_KEYS
TRAIN_KEYS = {f.name: f.type for f in fields(TrainConfig) if f.name != "tokens"}
MAX_DRAWS = 20
ALIASES = {"learning_rate": "lr", "tokens": "D", "top_k": "G", "seeds": "seed"}  # names from other tools


class SpecError(ValueError):
    """A sweep spec is malformed: an unknown key, a wrong type, a missing value."""


@dataclass(frozen=True)
class Family:
    """Points that vary one factor around the base point (moved to ``at`` first), each with ``seeds``."""

    vary: str
    values: tuple[float, ...]
    at: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    seeds: tuple[int, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class RandomFill:
    """``n`` random points in the box ``ranges`` (keys among N, ratio, G, S, D), drawn from ``seed``;
    a point whose design misses N or Na by more than ``max_error`` (relative) is redrawn."""

    n: int
    seed: int = 0
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=lambda: MappingProxyType({}))
    max_error: float = 0.1


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep spec: the base point, model and training settings, families, random fill, seeds."""

    name: str
    corpus: str
    point: Mapping[str, float]
    model: Mapping[str, object]
    train: Mapping[str, object]
    families: tuple[Family, ...] = ()
    random: RandomFill | None = None
    seeds: tuple[int, ...] = ()
    source: str = "<spec>"


@dataclass(frozen=True)
class RunSpec:
    """One run: the designed model, its training settings, its targets, its hash and the design's
    largest relative error in N and Na (picklable: it travels to worker processes)."""

    model: MoEConfig
    train: TrainConfig
    target: dict[str, float]
    corpus: str
    key: str
    label: str
    error: float = 0.0


@dataclass(frozen=True)
class Plan:
    """The runs of a spec (no repeats), with the random draws that were redrawn or dropped."""

    runs: tuple[RunSpec, ...]
    redrawn: int = 0
    dropped: int = 0
    unrealisable: str = ""  # the first reason a random draw could not be realised

    def report(self) -> str:
        """One line on the random fill's unrealisable draws, or ``""``."""
        if not self.redrawn:
            return ""
        return (f"random fill: {self.redrawn} draws could not be realised and were redrawn, {self.dropped} "
                f"points dropped after {MAX_DRAWS} draws each (first reason: {self.unrealisable})")


def _unknown(keys, allowed, where: str, source: str) -> None:
    extra = [k for k in keys if k not in allowed]
    if extra:
        from lawfind.errors import did_you_mean  # imported here: lawfind's package import takes a second

        alias = ALIASES.get(extra[0])
        hint = f" (did you mean '{alias}'?)" if alias in allowed else did_you_mean(extra[0], allowed)
        raise SpecError(f"unknown key '{extra[0]}' in {where} of '{source}'{hint}; "
                        f"allowed: {', '.join(sorted(allowed))}")


def _typed(value, kind: str, key: str, where: str, source: str):
    """``value`` checked against a dataclass field's type name (int, float, str, bool)."""
    ok = {"int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "bool": isinstance(value, bool), "str": isinstance(value, str)}.get(kind, True)
    if not ok:
        raise SpecError(f"'{key}' in {where} of '{source}' must be {kind}, got {value!r}")
    return float(value) if kind == "float" else value


def _numbers(value, key: str, where: str, source: str, *, integer: bool = False) -> tuple:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise SpecError(f"'{key}' in {where} of '{source}' must be a non-empty list of numbers, got {value!r}")
    if integer and not all(float(v).is_integer() for v in value):
        raise SpecError(f"'{key}' in {where} of '{source}' must hold integers, got {value!r}")
    return tuple(int(v) for v in value) if integer else tuple(float(v) for v in value)


def _family(raw, i: int, source: str) -> Family:
    where = f"[[family]] {i + 1}"
    if not isinstance(raw, dict):
        raise SpecError(f"{where} of '{source}' must be a table")
    _unknown(raw, ("vary", "values", "at", "seeds", "label"), where, source)
    if raw.get("vary") not in FACTORS:
        from lawfind.errors import did_you_mean

        hint = did_you_mean(str(raw.get("vary")), FACTORS) if "vary" in raw else ""
        raise SpecError(f"{where} of '{source}' needs vary = one of {', '.join(FACTORS)} "
                        f"(got {raw.get('vary')!r}){hint}")
    at = raw.get("at", {})
    if not isinstance(at, dict):
        raise SpecError(f"'at' in {where} of '{source}' must be a table such as {{ N = 3e6 }}")
    _unknown(at, FACTORS, f"'at' of {where}", source)
    return Family(raw["vary"], _numbers(raw.get("values"), "values", where, source),
                  MappingProxyType({k: _typed(v, "float", k, where, source) for k, v in at.items()}),
                  _numbers(raw["seeds"], "seeds", where, source, integer=True) if "seeds" in raw else (),
                  _typed(raw.get("label", ""), "str", "label", where, source))


def _random(raw, source: str) -> RandomFill:
    if not isinstance(raw, dict):
        raise SpecError(f"[random] of '{source}' must be a table")
    _unknown(raw, ("n", "seed", "max_error", *FACTORS), "[random]", source)
    ranges = {}
    for k in FACTORS:
        if k in raw:
            lo_hi = _numbers(raw[k], k, "[random]", source)
            if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1]:
                raise SpecError(f"'{k}' in [random] of '{source}' must be [low, high], got {raw[k]!r}")
            ranges[k] = lo_hi
    max_error = _typed(raw.get("max_error", 0.1), "float", "max_error", "[random]", source)
    if max_error <= 0:
        raise SpecError(f"'max_error' in [random] of '{source}' must be > 0 (a relative error, e.g. 0.1)")
    return RandomFill(_typed(raw.get("n", 0), "int", "n", "[random]", source),
                      _typed(raw.get("seed", 0), "int", "seed", "[random]", source), MappingProxyType(ranges),
                      max_error)


def parse_spec(raw: Mapping, source: str = "<spec>") -> SweepSpec:
    """Validate a spec read from TOML; raise ``SpecError`` naming the key and the fix."""
    _unknown(raw, ("name", "corpus", "base", "family", "random", "seeds"), "the top level", source)
    base = raw.get("base")
    if not isinstance(base, dict):
        raise SpecError(f"'{source}' has no [base] table: it needs the base point (N, Na, G, S, D, ...)")
    missing = [k for k in POINT if k not in base]
    if missing:
        raise SpecError(f"[base] in '{source}' lacks {missing}")
    _unknown(base, (*POINT, *MODEL_KEYS, *TRAIN_KEYS), "[base]", source)
    point = {k: _typed(base[k], "float", k, "[base]", source) for k in POINT}
    model = {k: _typed(v, MODEL_KEYS[k], k, "[base]", source) for k, v in base.items() if k in MODEL_KEYS}
    train = {k: _typed(v, TRAIN_KEYS[k], k, "[base]", source) for k, v in base.items() if k in TRAIN_KEYS}
    families = raw.get("family", [])
    if not isinstance(families, list):
        raise SpecError(f"'family' in '{source}' must be an array of tables: write [[family]]")
    seeds = raw.get("seeds", {})
    if not isinstance(seeds, dict):
        raise SpecError(f"[seeds] of '{source}' must be a table with values = [...]")
    _unknown(seeds, ("values",), "[seeds]", source)
    return SweepSpec(
        name=_typed(raw.get("name", Path(source).stem), "str", "name", "the top level", source),
        corpus=_typed(raw.get("corpus", ""), "str", "corpus", "the top level", source),
        point=MappingProxyType(point), model=MappingProxyType(model), train=MappingProxyType(train),
        families=tuple(_family(f, i, source) for i, f in enumerate(families)),
        random=_random(raw["random"], source) if "random" in raw else None,
        seeds=_numbers(seeds["values"], "values", "[seeds]", source, integer=True) if "values" in seeds else (),
        source=source)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec."""
    path = Path(path)
    if path.is_dir():
        specs = sorted(path.glob("*.toml"))
        example = f"'{specs[0]}'" if specs else f"'{path / 'NAME.toml'}'"
        raise SpecError(f"the sweep spec '{path}' is a folder: give a spec file, e.g. {example}")
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"no such sweep spec: '{path}'") from None
    except OSError as exc:
        raise SpecError(f"cannot read the sweep spec '{path}' ({exc.strerror or exc}): give a readable file") from None
    except UnicodeDecodeError:
        raise SpecError(f"the sweep spec '{path}' is not UTF-8 text: give a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"'{path}' is not valid TOML: {exc}") from None
    return parse_spec(raw, str(path))


def _move(point: Mapping[str, float], at: Mapping[str, float]) -> dict[str, float]:
    """The base point moved to ``at`` (N first, keeping Na/N, then the ratio and the rest)."""
    t = dict(point)
    for k in sorted(at, key=FACTORS.index):
        t = vary(t, k, [at[k]])[0]
    return t


def _run(spec: SweepSpec, target: Mapping[str, float], seed: int, label: str) -> RunSpec:
    d = design(target["N"], target["Na"], int(round(target["G"])), float(target["S"]), **spec.model)
    tcfg = TrainConfig(tokens=int(target["D"]), **{**spec.train, "seed": seed})
    return RunSpec(d.config, tcfg, {**target, "G": int(round(target["G"]))}, spec.corpus,
                   run_hash(d.config, tcfg, spec.corpus), label, d.error)


def _draw(rng: np.random.Generator, ranges: Mapping[str, tuple[float, float]], point: Mapping[str, float]) -> dict:
    """A random point of the box: log-uniform N, ratio and D; integer G; uniform S."""
    t = dict(point)
    for k in ("N", "D"):
        if k in ranges:
            t[k] = float(np.exp(rng.uniform(*np.log(ranges[k]))))
    ratio = float(np.exp(rng.uniform(*np.log(ranges["ratio"])))) if "ratio" in ranges else point["Na"] / point["N"]
    t["Na"] = t["N"] * ratio
    if "G" in ranges:
        t["G"] = float(rng.integers(int(ranges["G"][0]), int(ranges["G"][1]) + 1))
    if "S" in ranges:
        t["S"] = float(rng.uniform(*ranges["S"]))
    return t


def _random_run(spec: SweepSpec, rng: np.random.Generator, point: Mapping[str, float],
                seed: int) -> tuple[RunSpec | None, str]:
    """A run at a random point, or ``None`` and why that point cannot be realised."""
    try:
        run = _run(spec, _draw(rng, spec.random.ranges, point), seed, "random")
    except ValueError as exc:
        return None, str(exc)
    if run.error > spec.random.max_error:
        t = run.target
        return None, (f"the closest shape to N = {t['N']:.3g}, Na = {t['Na']:.3g}, G = {t['G']} misses them "
                      f"by {run.error:.0%} (max_error {spec.random.max_error:g})")
    return run, ""


def _label(fam: Family) -> str:
    if fam.label:
        return fam.label
    at = ", ".join(f"{k}={v:g}" for k, v in fam.at.items())
    return f"vary {fam.vary}" + (f" at {at}" if at else "")


def expand(spec: SweepSpec) -> Plan:
    """The runs of a spec, without repeats (same hash = same run), and the random fill's redraws."""
    point = dict(spec.point)
    seed0 = int(spec.train.get("seed", 0))
    runs = [_run(spec, point, seed0, "base")]
    for fam in spec.families:
        try:
            targets = vary(_move(point, fam.at), fam.vary, fam.values)
            runs += [_run(spec, t, s, _label(fam)) for t in targets for s in (fam.seeds or (seed0,))]
        except ValueError as exc:
            raise SpecError(f"family '{_label(fam)}' of '{spec.source}' cannot be realised: {exc}") from None
    redrawn = dropped = 0
    reason = ""
    if spec.random:
        rng = np.random.default_rng(spec.random.seed)
        for _ in range(spec.random.n):
            for _attempt in range(MAX_DRAWS):
                run, why = _random_run(spec, rng, point, seed0)
                if run is not None:
                    runs.append(run)
                    break
                redrawn += 1
                reason = reason or why
            else:
                dropped += 1
    runs += [_run(spec, point, s, "seed") for s in spec.seeds]
    seen, out = set(), []
    for r in runs:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return Plan(tuple(out), redrawn, dropped, reason)
