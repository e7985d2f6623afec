"""How long a discovery's report takes to build, and how large it is (target: under 5 s and 3 MB).

A 450-run planted table (``moe5``, on the ladder design) is discovered once with the grammar engine
and 100 bootstrap refits (as ``lawfind discover`` does by default), its folder written as the command
writes it; then, ``--repeats`` times each, this script times:

- ``derive optima``: :func:`lawfind.report.analyse_discovery` (sympy's optima, the allocation and the
  effects: what ``optima.json`` holds, written once when the report is first asked for);
- ``render page``: :func:`lawfind.report.write_report` on the folder that has ``optima.json`` (reading
  the folder, partial-dependence bands, figures, MathML, the template);
- ``report, first time``: :func:`lawfind.report.write_report` on a folder without ``optima.json``
  (both of the above, as ``discover --report`` and a first ``lawfind report`` do: the optima are
  derived in a background process while the other sections are drawn).

Wall and CPU seconds of this process (sympy's solves run in child processes, whose CPU time is
counted too), medians over the repeats, and the machine's load average, since the machine may be
shared. Run: ``python benchmarks/bench_report.py [--runs 450] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from lawfind.data import load_runs
from lawfind.discovery import Discovery
from lawfind.planted import planted_law, sample
from lawfind.report import analyse_discovery, read_folder, write_report

TARGET_SECONDS = 5.0
TARGET_BYTES = 3 * 1024 * 1024


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), _cpu()
    fn()
    return time.perf_counter() - w, _cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=450)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=100)
    args = ap.parse_args()

    frame = sample(planted_law("moe5"), n=args.runs, ladder=True)
    t = time.perf_counter()
    disc = Discovery(engine="grammar", max_depth=3, bootstrap=args.bootstrap, seed=0).fit(load_runs(frame))
    print(f"discovery of {args.runs} runs (grammar engine, {args.bootstrap} bootstrap refits): "
          f"{time.perf_counter() - t:.0f} s; chosen: {disc.best_.n_params} constants, "
          f"{disc.n_candidates_} candidates")

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "discover"
        disc.save(base)
        data = read_folder(base)
        ranges = dict(data.record.ranges)
        boot = data.record.replicates()
        rows: dict[str, list[tuple[float, float]]] = {"derive optima": [], "render page": [],
                                                       "report, first time": []}
        loads = []
        for i in range(args.repeats):
            loads.append(os.getloadavg()[0])
            rows["derive optima"].append(_timed(lambda: analyse_discovery(data.law, data.values, ranges, boot,
                                                                          data.runs)))
            first = Path(tmp) / f"first{i}"
            shutil.copytree(base, first)
            rows["report, first time"].append(_timed(lambda: write_report(first)))
            rows["render page"].append(_timed(lambda: write_report(first)))  # optima.json is there now
        size = (first / "report.html").stat().st_size
        optima = (first / "optima.json").stat().st_size

    print(f"\nload average (1 min) before each repeat: {', '.join(f'{x:.2f}' for x in loads)} on {os.cpu_count()} cores")
    print(f"{'step':<22}{'wall s':>9}{'cpu s':>9}   (median of {args.repeats}; all wall: ...)")
    for name, times in rows.items():
        wall = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        print(f"{name:<22}{wall:>9.2f}{cpu:>9.2f}   {', '.join(f'{w:.2f}' for w, _ in times)}")
    first_wall = statistics.median(w for w, _ in rows["report, first time"])
    render_wall = statistics.median(w for w, _ in rows["render page"])
    print(f"\nreport.html: {size / 1e6:.2f} MB ({size} bytes; target under {TARGET_BYTES / 2**20:.0f} MiB: "
          f"{'met' if size < TARGET_BYTES else 'NOT met'}); optima.json {optima} bytes")
    print(f"build under {TARGET_SECONDS:.0f} s: render page {'met' if render_wall < TARGET_SECONDS else 'NOT met'} "
          f"({render_wall:.2f} s), first time with optima {'met' if first_wall < TARGET_SECONDS else 'NOT met'} "
          f"({first_wall:.2f} s)")


if __name__ == "__main__":
    main()
