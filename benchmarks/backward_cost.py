"""Backward / forward time per layer type (seed 002: backward ≈ 2 × forward), robustly.

    python benchmarks/backward_cost.py [--rounds 5] [--repeats 60] [--batch 256 --width 512]

The measurement harness behind ``numnet reproduce backward-cost``: every round runs
the reproduction's cases (:func:`numnet.experiments.backward_cost.cases`, each timed by
its :func:`~numnet.experiments.backward_cost.time_pair`) in a fresh process with
single-threaded BLAS (``OMP_NUM_THREADS=1`` etc. for that process; NumPy imported
first), and the rounds alternate the order of the cases. Printed: a Markdown table of
the medians across rounds of each case's forward and backward medians, and the median
and range of its per-round backward / forward ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np  # noqa: F401  (NumPy first, as in every process of the benchmarks)

try:
    import numnet  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def worker(batch: int, width: int, repeats: int, seed: int, reverse: bool) -> int:
    """One round in this (fresh) process: one JSON line of rows."""
    from numnet.experiments.backward_cost import cases, time_pair

    table = list(cases(batch, width, seed).items())
    rows = {}
    for name, (forward, backward) in table[::-1] if reverse else table:
        f, b = time_pair(forward, backward, repeats)
        rows[name] = {"forward_ms": 1e3 * f, "backward_ms": 1e3 * b, "ratio": b / f}
    print(json.dumps([{"layer": n, **rows[n]} for n, _ in table]), flush=True)
    return 0


def run_round(args, reverse: bool) -> list[dict]:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--batch", str(args.batch),
           "--width", str(args.width), "--repeats", str(args.repeats), "--seed", str(args.seed)]
    res = subprocess.run(cmd + (["--reverse"] if reverse else []), capture_output=True,
                         text=True, env={**os.environ, **ONE_THREAD})
    if res.returncode != 0:
        raise RuntimeError(f"a round failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def summarize(rounds: list[list[dict]]) -> str:
    lines = ["| layer | forward (ms) | backward (ms) | backward / forward (median, range) |",
             "|---|---|---|---|"]
    for k, row in enumerate(rounds[0]):
        per_round = [r[k] for r in rounds]
        ratios = [r["ratio"] for r in per_round]
        fw = statistics.median(r["forward_ms"] for r in per_round)
        bw = statistics.median(r["backward_ms"] for r in per_round)
        lines.append(f"| {row['layer']} | {fw:.3f} | {bw:.3f} | {statistics.median(ratios):.2f} "
                     f"({min(ratios):.2f}–{max(ratios):.2f}) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="fresh-process rounds (>= 5)")
    ap.add_argument("--repeats", type=int, default=60, help="timed repeats per case and round")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: batch 64, width 128, 10 repeats, 2 rounds")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reverse", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.batch, args.width, args.repeats, args.seed, args.reverse)
    if args.quick:
        args.batch, args.width, args.repeats, args.rounds = 64, 128, 10, 2
    elif args.rounds < 5:
        ap.error("--rounds must be at least 5")
    rounds = [run_round(args, reverse=bool(r % 2)) for r in range(args.rounds)]
    print(f"batch {args.batch}, width {args.width}, {args.repeats} repeats, "
          f"{args.rounds} rounds, single-threaded BLAS")
    print(summarize(rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
