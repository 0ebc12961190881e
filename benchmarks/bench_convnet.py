"""Training throughput of the seeds' MNIST ConvNet: numnet vs PyTorch CPU vs the GEMM bound.

The model is the MNIST ConvNet of docs/convnet.md (83 MFLOP per training sample)::

    conv 5×5 1→32 (pad 2) → ReLU → max-pool 2 → conv 5×5 32→64 (pad 2) → ReLU →
    max-pool 2 → flatten 3136 → fc 3136→1024 → ReLU → fc 1024→10

float32, batch 128, softmax cross-entropy, SGD (lr 0.01, momentum 0.9), random
MNIST-shaped data. In one run the systems are timed in interleaved rounds (the order
rotating every round) so that drifts of the machine hit all of them alike; **every
measurement runs in a fresh Python process** (NumPy imported first, as most users do),
so no system inherits another's threads, allocator state or BLAS settings. Medians of
the per-round throughputs, and of the per-round ratios, are compared:

* ``numnet``      -- ``numnet.models.convnet()`` (``Conv2d``, ``MaxPool2d``, ...), the
                     whole batch in one step (BLAS with ``--threads`` threads);
* ``numnet-split``-- the same, each minibatch split over ``--threads`` Python threads
                     (``numnet.parallel.data_parallel_step``: single-threaded BLAS per
                     shard, gradients summed), what ``train.fit`` does by default;
* ``torch``       -- the same ``torch.nn.Sequential`` with the same initial weights,
                     on the CPU with ``torch.set_num_threads(--threads)`` (default 2);
* ``gemm-bound``  -- only the matrix products of the same training step in NumPy
                     (im2col GEMMs of the convolutions: forward, weight gradient, and
                     input gradient of the second one; 3 per linear layer), into
                     preallocated outputs: what no im2col implementation can beat.

``--profile`` adds numnet's time per primitive (forward and VJP) and the peak memory
of one training step (``tracemalloc``: every NumPy allocation of the step).

``numnet-ref`` and ``numnet-split-ref`` (``--reference``) are the same on the NumPy
reference path (``NUMNET_DISABLE_NUMBA=1`` in their processes), when Numba is installed.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_convnet.py
    python benchmarks/bench_convnet.py                  # ~3 minutes
    python benchmarks/bench_convnet.py --quick          # a smoke run (seconds)
    python benchmarks/bench_convnet.py --rounds 9 --batches 10 --profile
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

try:
    import numnet  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

BATCH, LR, MOMENTUM = 128, 0.01, 0.9
FLOP_PER_SAMPLE = 3 * 2 * (28 * 28 * 32 * 25 + 14 * 14 * 64 * 32 * 25 + 3136 * 1024 + 1024 * 10)


def make_data(n_batches: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n_batches * BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=n_batches * BATCH, dtype=np.int64)
    return x, y


# -- numnet ---------------------------------------------------------------------------------
class NumnetRunner:
    def __init__(self, seed: int = 0, split: int = 1):
        import numnet.nn.functional as F
        from numnet import models, optim

        self.F = F
        self.split = split
        self.model = models.convnet(generator=seed)
        self.opt = optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(self, xb, yb):
        from numnet import Tensor
        from numnet.parallel import data_parallel_step

        self.opt.zero_grad()
        if self.split > 1:
            loss = data_parallel_step(
                self.model, self.F.cross_entropy, xb, yb, num_threads=self.split
            )
        else:
            loss = self.F.cross_entropy(self.model(Tensor._wrap(xb)), Tensor._wrap(yb))
            loss.backward()
        self.opt.step()
        return loss


# -- torch ----------------------------------------------------------------------------------
class TorchRunner:
    def __init__(self, numnet_model, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        nn = torch.nn
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(3136, 1024),
            nn.ReLU(),
            nn.Linear(1024, 10),
        )
        self.model.load_state_dict(
            {k: torch.from_numpy(v.copy()) for k, v in numnet_model.state_dict().items()}
        )
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(self, xb, yb):
        torch = self.torch
        self.opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            self.model(torch.from_numpy(xb)), torch.from_numpy(yb)
        )
        loss.backward()
        self.opt.step()
        return loss


# -- GEMM bound -----------------------------------------------------------------------------
class GemmBound:
    """The matrix products of one training step, with preallocated operands and outputs."""

    def __init__(self):
        rng = np.random.default_rng(0)
        f32 = np.float32

        def r(*shape):
            return rng.random(shape, dtype=f32)

        m1, m2 = BATCH * 28 * 28, BATCH * 14 * 14
        self.ops = []
        # conv1 (im2col K = 25, +1 bias column): forward, δW (no δx: the input is data)
        c1, w1, y1 = r(m1, 26), r(32, 26), np.empty((m1, 32), f32)
        self.ops += [(c1, w1.T, y1), (y1.T, c1, np.empty((32, 26), f32))]
        # conv2 (K = 801): forward, δW, δx (per kernel offset: (M, 64) @ (64, 32), 25 times)
        c2, w2, y2 = r(m2, 801), r(64, 801), np.empty((m2, 64), f32)
        self.ops += [(c2, w2.T, y2), (y2.T, c2, np.empty((64, 801), f32))]
        self.ops += [(y2[None], r(25, 64, 32), np.empty((25, m2, 32), f32))]
        # fc1 and fc2: forward, δW, δx
        for n_in, n_out in ((3136, 1024), (1024, 10)):
            x, w, y = r(BATCH, n_in), r(n_out, n_in), np.empty((BATCH, n_out), f32)
            self.ops += [
                (x, w.T, y),
                (y.T, x, np.empty((n_out, n_in), f32)),
                (y, w, np.empty((BATCH, n_in), f32)),
            ]

    def step(self, xb=None, yb=None):
        for a, b, out in self.ops:
            np.matmul(a, b, out=out)


# -- measurement ----------------------------------------------------------------------------
def time_epoch(runner, x, y) -> float:
    """Samples per second over all batches of ``x``."""
    gc.collect()
    t0 = time.perf_counter()
    for s in range(0, len(x), BATCH):
        runner.step(x[s : s + BATCH], y[s : s + BATCH])
    return len(x) / (time.perf_counter() - t0)


def profile_numnet(runner, x, y, steps: int = 5) -> dict[str, float]:
    """Milliseconds per training step spent in each primitive's forward and VJP."""
    from numnet.autograd import registry

    totals: dict[str, float] = collections.defaultdict(float)
    original = registry.apply

    def timed_apply(prim, inputs, kwargs):
        if not prim.differentiable:
            return original(prim, inputs, kwargs)
        forward = prim.forward

        def timed_forward(*arrays, **kw):
            t0 = time.perf_counter()
            out, vjp = forward(*arrays, **kw)
            totals[f"{prim.name} forward"] += time.perf_counter() - t0

            def timed_vjp(g, needs):
                t1 = time.perf_counter()
                res = vjp(g, needs)
                totals[f"{prim.name} vjp"] += time.perf_counter() - t1
                return res

            return out, timed_vjp

        return original(dataclasses.replace(prim, forward=timed_forward), inputs, kwargs)

    registry.apply = timed_apply
    try:
        runner.step(x[:BATCH], y[:BATCH])
        totals.clear()
        t0 = time.perf_counter()
        for i in range(steps):
            s = (i * BATCH) % len(x)
            runner.step(x[s : s + BATCH], y[s : s + BATCH])
        totals["(whole step)"] = time.perf_counter() - t0
    finally:
        registry.apply = original
    return {k: 1e3 * v / steps for k, v in totals.items()}


def peak_memory_mib(runner, x, y) -> tuple[float, float]:
    """Peak MiB allocated during one training step (tracemalloc, every NumPy allocation,
    im2col workspace and recycled arrays included: both are emptied first) and MiB held
    between steps (parameters, gradients, momentum buffers)."""
    import numnet
    from numnet.ops.conv import WORKSPACE

    runner.step(x[:BATCH], y[:BATCH])
    WORKSPACE.clear()
    numnet.empty_cache()
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    runner.step(x[:BATCH], y[:BATCH])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    params = sum(p.data.nbytes for p in runner.model.parameters())
    return (peak - base) / 2**20, 3 * params / 2**20


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        return (
            "; ".join(
                f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
                f"{i.get('num_threads')} threads"
                for i in threadpool_info()
                if i.get("user_api") == "blas"
            )
            + "; "
            + " ".join(
                f"{k}={os.environ.get(k)}"
                for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_THREAD_TIMEOUT")
            )
        )
    except ImportError:
        return "(threadpoolctl not installed)"


def make_system(name: str, threads: int):
    if name in ("numnet", "numnet-ref"):
        return NumnetRunner()
    if name in ("numnet-split", "numnet-split-ref"):
        return NumnetRunner(split=threads)
    if name == "gemm-bound":
        return GemmBound()
    if name == "torch":
        return TorchRunner(NumnetRunner().model, threads)
    raise ValueError(name)


def worker(name: str, batches: int, threads: int) -> int:
    """One measurement in this (fresh) process: a JSON line with samples/s."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
    x, y = make_data(batches)
    runner = make_system(name, threads)
    time_epoch(runner, x[: 2 * BATCH], y[: 2 * BATCH])  # warm-up: compile, allocate, threads
    rate = time_epoch(runner, x, y)
    print(json.dumps({"system": name, "rate": rate, "blas": blas_info()}), flush=True)
    return 0


def run_worker(name: str, batches: int, threads: int) -> dict:
    env = dict(os.environ)
    if name.endswith("-ref"):
        env["NUMNET_DISABLE_NUMBA"] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name]
    cmd += ["--batches", str(batches), "--threads", str(threads)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batches", type=int, default=8, help="training steps per round")
    ap.add_argument("--threads", type=int, default=2, help="BLAS, torch and split threads")
    ap.add_argument("--quick", action="store_true", help="2 rounds of 2 batches")
    ap.add_argument("--profile", action="store_true", help="numnet time per primitive")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--reference", action="store_true", help="also numnet without Numba")
    ap.add_argument("--systems", help="comma-separated subset of the systems")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.batches, args.threads)
    if args.quick:
        args.rounds, args.batches = 2, 2

    names = ["numnet", "numnet-split", "gemm-bound"]
    if args.reference:
        names[2:2] = ["numnet-ref", "numnet-split-ref"]
    if not args.no_torch:
        try:
            import torch  # noqa: F401

            names.append("torch")
        except ImportError:
            print("torch is not installed: skipping it")
    if args.systems:
        names = args.systems.split(",")
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()}")
    results: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            rec = run_worker(name, args.batches, args.threads)
            results[name].append(rec["rate"])
            if r == 0 and name == order[0]:
                print(f"BLAS: {rec['blas']}")
        print(
            f"round {r + 1}/{args.rounds}: "
            + ", ".join(f"{n} {results[n][-1]:.0f}" for n in names)
            + f" samples/s (load {os.getloadavg()[0]:.2f})",
            flush=True,
        )

    print(
        f"\nConvNet training throughput, batch {BATCH}, float32, "
        f"{FLOP_PER_SAMPLE / 1e6:.0f} MFLOP/sample; median of {args.rounds} rounds "
        f"x {args.batches} batches, a fresh process per system and round (samples/s):"
    )
    med = {n: statistics.median(v) for n, v in results.items()}
    for n in names:
        gflops = med[n] * FLOP_PER_SAMPLE / 1e9
        print(
            f"  {n:17s} {med[n]:8.0f}   ({gflops:5.1f} GFLOP/s, range "
            f"{min(results[n]):.0f}-{max(results[n]):.0f})"
        )
    for ref in ("torch", "gemm-bound"):
        if ref not in med:
            continue
        for n in names:
            if n.startswith("numnet"):
                per_round = [a / b for a, b in zip(results[n], results[ref])]
                print(
                    f"  ratio {n} / {ref} = {med[n] / med[ref]:.2f}x "
                    f"(median of the per-round ratios {statistics.median(per_round):.2f}x)"
                )
    print(f"load average at the end: {os.getloadavg()}")

    if args.profile:
        x, y = make_data(args.batches)
        for split in (1, args.threads):
            runner = NumnetRunner(split=split)
            prof = profile_numnet(runner, x, y)
            print(f"\nnumnet (split {split}), ms per training step:")
            for k, v in sorted(prof.items(), key=lambda kv: -kv[1]):
                print(f"  {k:28s} {v:7.2f}")
        step, held = peak_memory_mib(NumnetRunner(), x, y)
        print(
            f"\nnumnet memory: peak {step:.0f} MiB allocated during one training step "
            f"(activations, im2col workspace, gradients) on top of {held:.0f} MiB of "
            "parameters, gradients and momentum"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
