"""A/B: one MLP training epoch under two git revisions of numnet, in fresh processes.

Used to check that a change to the engine costs nothing measurable (e.g. the version
counters: ``docs/performance.md``). Each revision is checked out with
``git worktree add --detach`` into a temporary folder; every round starts one fresh
Python process per revision (NumPy imported first, as most users do), in alternating
order (A B, B A, A B...), and times one epoch of the 784-512-512-512-10 ReLU MLP
(SGD with momentum, float32, random MNIST-shaped data). It prints the medians, the
median of the per-round ratios B/A and the OpenBLAS kernel in use.

Usage::

    python benchmarks/ab_revisions.py HEAD~1 HEAD --rounds 7
    python benchmarks/ab_revisions.py HEAD~1 HEAD --batch 32 --samples 20000   # overhead-bound
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, gc
import numpy as np                      # NumPy first, as most users import it
sys.path.insert(0, sys.argv[1])
import numnet
import numnet.nn as nn
import numnet.nn.functional as F
from numnet.optim import SGD

batch, samples, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sizes = (784, 512, 512, 512, 10)
rng = np.random.default_rng(0)
x = rng.random((samples, sizes[0]), dtype=np.float32)
y = rng.integers(0, sizes[-1], size=samples, dtype=np.int64)
layers = []
for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
    layers.append(nn.Linear(a, b, generator=i))
    if i < len(sizes) - 2:
        layers.append(nn.ReLU())
model = nn.Sequential(*layers)
opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_limits, info = None, []
else:
    info = [(d.get("internal_api"), d.get("architecture")) for d in threadpool_info()]
spans = [(s, min(s + batch, samples)) for s in range(0, samples, batch)]

def epoch():
    for s, e in spans:
        opt.zero_grad()
        loss = F.cross_entropy(model(numnet.Tensor(x[s:e])), numnet.Tensor(y[s:e]))
        loss.backward()
        opt.step()
    return loss

def run():
    epoch()  # warm-up: first-touch of the buffers
    gc.collect()
    t0 = time.perf_counter()
    loss = epoch()
    return time.perf_counter() - t0, float(loss.item())

if threadpool_limits is not None:
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds, loss = run()
else:
    seconds, loss = run()
print(json.dumps({"seconds": seconds, "loss": loss, "blas": info}))
"""


def checkout(rev: str, root: str, where: str) -> str:
    subprocess.run(
        ["git", "-C", root, "worktree", "add", "--detach", "--quiet", where, rev], check=True
    )
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="revision A (the baseline), e.g. HEAD~1")
    ap.add_argument("b", help="revision B, e.g. HEAD")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds (>= 5)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--samples", type=int, default=60_000)
    ap.add_argument("--threads", type=int, default=2, help="BLAS threads (threadpoolctl)")
    args = ap.parse_args()
    root = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {
            "A": checkout(args.a, root, os.path.join(tmp, "a")),
            "B": checkout(args.b, root, os.path.join(tmp, "b")),
        }
        try:
            times: dict[str, list[float]] = {"A": [], "B": []}
            blas = None
            for r in range(args.rounds):
                order = ("A", "B") if r % 2 == 0 else ("B", "A")
                for key in order:
                    out = subprocess.run(
                        [sys.executable, "-c", CHILD, trees[key], str(args.batch),
                         str(args.samples), str(args.threads)],
                        capture_output=True, text=True, check=True,
                    )
                    res = json.loads(out.stdout.strip().splitlines()[-1])
                    times[key].append(res["seconds"])
                    blas = res["blas"]
                print(f"round {r + 1}: A {times['A'][-1]:.3f} s  B {times['B'][-1]:.3f} s  "
                      f"B/A {times['B'][-1] / times['A'][-1]:.3f}", flush=True)
        finally:
            for where in trees.values():
                subprocess.run(["git", "-C", root, "worktree", "remove", "--force", where],
                               check=False)
    ratios = [b / a for a, b in zip(times["A"], times["B"])]
    print(f"A = {args.a}: median {statistics.median(times['A']):.3f} s/epoch "
          f"(min {min(times['A']):.3f}, max {max(times['A']):.3f})")
    print(f"B = {args.b}: median {statistics.median(times['B']):.3f} s/epoch "
          f"(min {min(times['B']):.3f}, max {max(times['B']):.3f})")
    print(f"B/A per round: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); batch {args.batch}, "
          f"{args.samples} samples, {args.threads} BLAS threads; BLAS {blas}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")


if __name__ == "__main__":
    main()
