"""The ``moe`` command: ``moe sweep SPEC -o runs/NAME.parquet``, ``moe train``, ``moe design``.

Exit status: 0 on success, 1 when runs of a sweep failed (they are journalled; ``--retry-failed``),
2 on bad input (one line ``error: ...``), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXAMPLES = ("examples:\n  moe sweep runs/tiny.toml -o runs/tiny.parquet --workers 2\n"
            "  moe train --N 1e6 --Na 3e5 --G 4 --S 0.2 --D 2e5 -o row.json\n"
            "  moe design --N 1e6 --Na 3e5 --G 4 --S 0.2")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D102
        raise ValueError(f"{message} (see '{self.prog} --help')")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _count(text: str) -> int:
    """A whole number >= 1 (``2``, ``2.0`` and ``2e5`` too)."""
    value = _number(text)
    if not (math.isfinite(value) and value.is_integer() and value >= 1):
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got '{text}'")
    return int(value)


def _positive(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got '{text}'")
    return value


def _share(text: str) -> float:
    """S: a number in [0, 1)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1) (the shared share of the activated FFN), got '{text}'")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="moe", description="Train controlled MoE families and write their runs.", epilog=EXAMPLES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    s = sub.add_parser("sweep", help="run a sweep spec into a parquet table (resumable)")
    s.add_argument("spec")
    s.add_argument("-o", "--out", required=True, help="output parquet, e.g. runs/NAME.parquet")
    s.add_argument("--workers", type=_count, default=2, help="parallel runs, one thread each (default: 2)")
    s.add_argument("--backend", default="local", choices=("local", "ray"), help="local (default) or ray")
    s.add_argument("--ray-address", help="address of a Ray cluster (default: start a local one)")
    s.add_argument("--dry-run", action="store_true", help="list the runs without training")
    s.add_argument("--retry-failed", action="store_true", help="run the runs the journal holds as failed again")
    for name in ("train", "design"):
        t = sub.add_parser(name, help="train one model" if name == "train" else "show the designed shape")
        for k, kind, d in (("N", _positive, 1e6), ("Na", _positive, 3e5), ("G", _count, 4), ("S", _share, 0.2),
                           ("D", _count, 200_000)):
            t.add_argument(f"--{k}", type=kind, default=d)
        t.add_argument("--d-model", type=_count, default=64)
        t.add_argument("--n-layers", type=_count, default=2)
        t.add_argument("--n-heads", type=_count, default=4)
        t.add_argument("--seq-len", type=_count, default=64)
        if name == "train":
            t.add_argument("--batch-size", type=_count, default=16)
            t.add_argument("--lr", type=_positive, default=3e-3)
            t.add_argument("--seed", type=int, default=0)
            t.add_argument("--corpus", default="", help="folder of .txt files or a uint16 token file")
            t.add_argument("--threads", type=_count, default=os.cpu_count() or 1)
            t.add_argument("-o", "--out", help="write the row as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "sweep":
            return _sweep(args)
        if args.command in ("train", "design"):
            return _single(args)
        build_parser().print_help()
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are in the journal; run the same command to resume", file=sys.stderr)
        return 130


def _sweep(args) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .spec import expand, load_spec
    from .sweep import check_sweep, read_records, run_sweep

    check_sweep(args.out, args.workers, args.backend)  # before any work: nothing is written when it fails
    plan = expand(load_spec(args.spec))
    runs = plan.runs
    finished, failures = read_records(args.out)
    done, failed = {r["run_key"] for r in finished}, set(failures)  # failures: keys that never finished
    n_done, n_failed = sum(r.key in done for r in runs), sum(r.key in failed for r in runs)
    print(f"{len(runs)} runs in the spec, {n_done} already finished, {n_failed} failed before"
          + ("" if not n_failed else " (rerun)" if args.retry_failed else " (skipped; --retry-failed reruns them)"))
    if plan.report():
        print(plan.report())
    if args.dry_run:
        for r in runs:
            t, m = r.target, r.model
            print(f"{r.key} {r.label:<14} seed={r.train.seed} N={t['N']:.3g} Na={t['Na']:.3g} G={t['G']} "
                  f"S={t['S']:.2f} D={t['D']:.3g} E={m.n_experts} h={m.d_expert} d_shared={m.d_shared}")
        return 0
    new_failures = []

    def ended(record: dict, n: int, total: int) -> None:
        bar.update(task, completed=n)
        if record.get("status") == "failed":
            new_failures.append(record)
            bar.console.print(f"run {record['run_key']} ({record['label']}) failed: {record['error']}")

    with Progress(TextColumn("sweep"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("runs", total=len(runs), completed=n_done + (0 if args.retry_failed else n_failed))
        result = run_sweep(runs, args.out, workers=args.workers, backend=args.backend,
                           ray_address=args.ray_address, retry_failed=args.retry_failed, on_done=ended)
    print(f"wrote {args.out}: {len(result.frame)} finished runs")
    if new_failures:
        print(f"{len(new_failures)} of {result.ran} runs failed (journalled in {args.out}.journal.jsonl; "
              "rerun with --retry-failed)", file=sys.stderr)
        return 1
    return 0


def _single(args) -> int:
    from .designer import design

    if args.command == "train" and args.out:
        from .output import check_output

        check_output(args.out, "-o", example="row.json")  # before training: never a run for nothing
    d = design(args.N, args.Na, args.G, args.S, d_model=args.d_model, n_layers=args.n_layers,
               n_heads=args.n_heads, seq_len=args.seq_len)
    print(f"design: E={d.config.n_experts} G={d.config.top_k} d_expert={d.config.d_expert} "
          f"d_shared={d.config.d_shared}; achieved N={d.achieved['N']:.4g} Na={d.achieved['Na']:.4g} "
          f"S={d.achieved['S']:.3f} (error {d.error:.2%})")
    if args.command == "design":
        return 0
    from .data import load_corpus
    from .train import TrainConfig, TrainingDiverged, divergence, train

    try:
        row = train(d.config, TrainConfig(tokens=args.D, batch_size=args.batch_size, lr=args.lr,
                                          seed=args.seed, threads=args.threads), load_corpus(args.corpus or None))
    except TrainingDiverged as exc:
        print(f"error: {exc} (try a smaller --lr)", file=sys.stderr)
        return 1
    print(f"loss {row['loss']:.4f} after D={row['D']:.4g} tokens; {row['tokens_per_s']:.0f} tokens/s; "
          f"dispatch {row['dispatch']}")
    why = divergence(row["loss"], row["vocab_size"])
    if why:
        print(f"warning: {why}", file=sys.stderr)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(row, fh, indent=2)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
