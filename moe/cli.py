"""The ``moe`` command: ``moe sweep SPEC -o runs/NAME.parquet``, ``moe train``, ``moe design``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

EXAMPLES = ("examples:\n  moe sweep runs/tiny.toml -o runs/tiny.parquet --workers 2\n"
            "  moe train --N 1e6 --Na 3e5 --G 4 --S 0.2 --D 2e5 -o row.json\n"
            "  moe design --N 1e6 --Na 3e5 --G 4 --S 0.2")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D102
        raise ValueError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="moe", description="Train controlled MoE families and write their runs.", epilog=EXAMPLES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    s = sub.add_parser("sweep", help="run a sweep spec into a parquet table (resumable)")
    s.add_argument("spec")
    s.add_argument("-o", "--out", required=True, help="output parquet, e.g. runs/NAME.parquet")
    s.add_argument("--workers", type=int, default=2, help="parallel runs, one thread each (default: 2)")
    s.add_argument("--backend", default="local", help="local (default) or ray")
    s.add_argument("--ray-address", help="address of a Ray cluster (default: start a local one)")
    s.add_argument("--dry-run", action="store_true", help="list the runs without training")
    for name in ("train", "design"):
        t = sub.add_parser(name, help="train one model" if name == "train" else "show the designed shape")
        for k, d in (("N", 1e6), ("Na", 3e5), ("G", 4), ("S", 0.2), ("D", 2e5)):
            t.add_argument(f"--{k}", type=float, default=d)
        t.add_argument("--d-model", type=int, default=64)
        t.add_argument("--n-layers", type=int, default=2)
        t.add_argument("--n-heads", type=int, default=4)
        t.add_argument("--seq-len", type=int, default=64)
        if name == "train":
            t.add_argument("--batch-size", type=int, default=16)
            t.add_argument("--lr", type=float, default=3e-3)
            t.add_argument("--seed", type=int, default=0)
            t.add_argument("--corpus", default="", help="folder of .txt files or a uint16 token file")
            t.add_argument("--threads", type=int, default=os.cpu_count() or 1)
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

    from .sweep import expand, load_spec, read_journal, run_sweep

    runs = expand(load_spec(args.spec))
    done = {r["run_key"] for r in read_journal(args.out)}
    print(f"{len(runs)} runs in the spec, {sum(r.key in done for r in runs)} already finished")
    if args.dry_run:
        for r in runs:
            print(f"{r.key} {r.label:<10} N={r.target['N']:.3g} Na={r.target['Na']:.3g} G={r.target['G']} "
                  f"S={r.target['S']:.2f} D={r.target['D']:.3g} E={r.model.n_experts} h={r.model.d_expert}")
        return 0
    with Progress(TextColumn("sweep"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("runs", total=len(runs), completed=sum(r.key in done for r in runs))
        run_sweep(runs, args.out, workers=args.workers, backend=args.backend, ray_address=args.ray_address,
                  on_done=lambda row, n, total: bar.update(task, completed=n))
    print(f"wrote {args.out}")
    return 0


def _single(args) -> int:
    from .designer import design

    d = design(args.N, args.Na, int(args.G), args.S, d_model=args.d_model, n_layers=args.n_layers,
               n_heads=args.n_heads, seq_len=args.seq_len)
    print(f"design: E={d.config.n_experts} G={d.config.top_k} d_expert={d.config.d_expert} "
          f"d_shared={d.config.d_shared}; achieved N={d.achieved['N']:.4g} Na={d.achieved['Na']:.4g} "
          f"S={d.achieved['S']:.3f} (error {d.error:.2%})")
    if args.command == "design":
        return 0
    from .data import load_corpus
    from .train import TrainConfig, train

    row = train(d.config, TrainConfig(tokens=int(args.D), batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                      threads=args.threads), load_corpus(args.corpus or None))
    print(f"loss {row['loss']:.4f} after D={row['D']:.4g} tokens; {row['tokens_per_s']:.0f} tokens/s")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(row, fh, indent=2)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
