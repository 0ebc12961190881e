"""Where does a numnet training epoch spend its time beyond the GEMMs?

Companion of ``bench_mlp.py`` (same model, data and optimizer). It prints

1. a phase breakdown of one epoch (forward, loss, backward, optimizer step);
2. a per-primitive breakdown: time inside each primitive's NumPy forward and VJP,
   and the rest of each phase (the engine's and the modules' Python overhead);
3. a dtype audit: every array produced on the hot path (forward outputs, VJP
   results, leaf gradients) is checked to be float32 (int64 for labels, bool masks);
4. minor page faults per epoch (fresh large arrays from the OS) for numnet and the
   GEMM-only loop;
5. micro-benchmarks of the non-GEMM kernels on the hot path, as now and with a
   cheaper alternative, scaled to milliseconds per epoch;
6. optionally a cProfile (``--cprofile``) or pyinstrument (``--pyinstrument``) report.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/profile_mlp.py
    python benchmarks/profile_mlp.py --samples 12800 --cprofile
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import timeit
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_mlp  # noqa: E402
from bench_mlp import (  # noqa: E402
    BATCH,
    SIZES,
    batches,
    gemm_epoch,
    make_data,
    numnet_model,
    numnet_optimizer,
)

import numnet  # noqa: E402
import numnet.nn.functional as F  # noqa: E402
from numnet.autograd import registry  # noqa: E402

PC = [time.perf_counter]  # the clock (``--clock cpu``: process CPU time)


# -- instrumentation --------------------------------------------------------------------
class Probe:
    """Times every primitive's forward and VJP and audits the dtypes they produce."""

    def __init__(self) -> None:
        self.fwd = defaultdict(float)
        self.vjp = defaultdict(float)
        self.calls = defaultdict(int)
        self.bad_dtypes: dict[str, set] = defaultdict(set)
        self.seen_dtypes: dict[str, set] = defaultdict(set)
        self._saved = {}

    def _audit(self, where: str, arr) -> None:
        if isinstance(arr, np.ndarray):
            self.seen_dtypes[where].add(str(arr.dtype))
            if arr.dtype.kind == "f" and arr.dtype != np.float32:
                self.bad_dtypes[where].add(str(arr.dtype))

    def install(self) -> None:
        for name, prim in registry.PRIMITIVES.items():
            self._saved[name] = prim.forward
            object.__setattr__(prim, "forward", self._wrap_forward(name, prim))

    def uninstall(self) -> None:
        for name, fn in self._saved.items():
            object.__setattr__(registry.PRIMITIVES[name], "forward", fn)

    def _wrap_forward(self, name, prim):
        fn = prim.forward

        def forward(*args, **kwargs):
            t0 = PC[0]()
            res = fn(*args, **kwargs)
            self.fwd[name] += PC[0]() - t0
            self.calls[name] += 1
            if not prim.differentiable:
                self._audit(f"{name} forward", res)
                return res
            out, vjp = res
            self._audit(f"{name} forward", out)

            def timed_vjp(g, needs):
                t1 = PC[0]()
                grads = vjp(g, needs)
                self.vjp[name] += PC[0]() - t1
                for i, gi in enumerate(grads):
                    self._audit(f"{name} vjp[{i}]", gi)
                return grads

            return out, timed_vjp

        return forward


def epoch_phases(x, y, probe: Probe | None = None, seed: int = 0):
    """One epoch with the four phases timed separately (seconds)."""
    model = numnet_model(seed)
    opt, _ = numnet_optimizer(model)
    t = defaultdict(float)
    pc = PC[0]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for s, e in batches(len(x)):
        t0 = pc()
        opt.zero_grad()
        t1 = pc()
        out = model(numnet.Tensor(x[s:e]))
        t2 = pc()
        loss = F.cross_entropy(out, numnet.Tensor(y[s:e]))
        t3 = pc()
        loss.backward()
        t4 = pc()
        opt.step()
        t5 = pc()
        t["zero_grad"] += t1 - t0
        t["forward (model)"] += t2 - t1
        t["loss (F.cross_entropy)"] += t3 - t2
        t["backward"] += t4 - t3
        t["optimizer step"] += t5 - t4
    epoch_phases.faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    if probe is not None:
        for name, p in model.named_parameters():
            probe._audit(f"leaf grad {name}", p.grad)
            probe._audit(f"param {name}", p.data)
        for st in getattr(opt, "state", {}).values():
            for k, v in st.items():
                probe._audit(f"optimizer state {k}", v)
    return dict(t)


def minor_faults(fn, *args) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn(*args)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _best(fn, repeat: int, number: int, timer=None) -> float:
    """Best-of-``repeat`` µs per call (timer: the run's clock unless given)."""
    return min(timeit.repeat(fn, repeat=repeat, number=number, timer=timer or PC[0])) / number * 1e6


# -- micro-benchmarks -------------------------------------------------------------------
def micro(n_batches: int, repeat: int = 7, number: int = 200) -> list[tuple]:
    """(kernel, calls/batch, µs now, µs alternative, alternative) rows."""
    rng = np.random.default_rng(0)
    n, h = BATCH, SIZES[1]
    z = rng.standard_normal((n, h), dtype=np.float32)
    g = rng.standard_normal((n, h), dtype=np.float32)
    y = np.maximum(z, 0)
    mask = y > 0
    bias = rng.standard_normal(h, dtype=np.float32)
    ones = np.ones(n, dtype=np.float32)
    logits = rng.standard_normal((n, SIZES[-1]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], n)

    def best(stmt):
        return _best(stmt, repeat, number)

    rows = []
    g2 = g.copy()
    zeros = np.zeros_like(z)
    rows.append(("relu forward: np.maximum(z, 0)", 3, best(lambda: np.maximum(z, 0)),
                 best(lambda: np.maximum(z, zeros)),
                 "np.maximum(z, zeros) with a cached zeros array (SIMD path)"))
    rows.append(("relu vjp: g * (y > 0)", 3, best(lambda: g * (y > 0)),
                 best(lambda: np.multiply(g2, mask, out=g2)),
                 "np.multiply(g, mask, out=g), mask kept from forward, g owned"))
    zc = z.copy()
    rows.append(("linear: y += bias", 3, best(lambda: np.add(zc, bias, out=zc)),
                 best(lambda: np.add(zc, bias, out=zc)), "(already in place)"))
    rows.append(("linear vjp: δb = g.sum(axis=0)", 3, best(lambda: g.sum(axis=0)),
                 best(lambda: ones @ g), "ones @ g (GEMV)"))

    def ce_now():
        m = np.max(logits, axis=1, keepdims=True)
        s = logits - m
        lp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
        loss = -lp[np.arange(n), labels].mean(dtype=np.float32)
        p = np.exp(lp)
        p[np.arange(n), labels] -= 1
        p *= np.float32(1.0 / n)
        return loss, p

    rows.append(("cross-entropy fwd+vjp numerics (128x10)", 1, best(ce_now), best(ce_now),
                 "(tiny: its cost is Python)"))
    return rows


def sgd_micro(model, opt, repeat: int = 5, number: int = 50):
    """µs per optimizer step: numnet's, and two cheaper variants of the same update.

    * two threads: NumPy ufuncs release the GIL, so the same four in-place passes
      split over two halves of every (flattened) parameter run on both cores;
    * BLAS: ``sscal`` + two ``saxpy`` from ``scipy.linalg.blas`` (3 passes, threaded).
    """
    from concurrent.futures import ThreadPoolExecutor

    params = list(model.parameters())
    for p in params:
        p.grad = np.full_like(p.data, 1e-3)
    opt.step()  # create the momentum buffers
    now = _best(opt.step, repeat, number)

    flat = [(p.data.reshape(-1), p.grad.reshape(-1), np.zeros(p.data.size, np.float32),
             np.empty(p.data.size, np.float32)) for p in params]
    chunks = []
    for d, g, b, w in flat:
        h = d.size // 2
        chunks += [(d[:h], g[:h], b[:h], w[:h]), (d[h:], g[h:], b[h:], w[h:])]

    def update(part):
        for d, g, b, w in part:
            b *= 0.9
            b += g  # v ← μv + g
            np.multiply(b, 0.01, out=w)
            d -= w  # θ ← θ − lr v

    pool = ThreadPoolExecutor(2)
    halves = [chunks[0::2], chunks[1::2]]

    def threaded_step():
        for f in [pool.submit(update, part) for part in halves]:
            f.result()

    threaded = _best(threaded_step, repeat, number, time.perf_counter)  # 2 threads: wall time
    pool.shutdown()
    blas = None
    try:
        from scipy.linalg.blas import saxpy, sscal
    except ImportError:
        return now, threaded, blas

    def blas_step():
        for d, g, b, _ in flat:
            sscal(0.9, b)  # v ← μv   (in place: contiguous float32)
            saxpy(g, b, a=1.0)  # v ← v + g
            saxpy(b, d, a=-0.01)  # θ ← θ − lr v

    blas = _best(blas_step, repeat, number, time.perf_counter)
    return now, threaded, blas


def fixed_overhead(n_steps: int = 300, threads: int = 2) -> dict[str, float]:
    """µs per training step of a tiny MLP (16-16-16-16-10, batch 128): the arithmetic is
    negligible, so this is the per-step cost of the modules, the engine and the optimizer
    loop (8 parameters, 8 primitives), i.e. what a step costs beyond its kernels."""
    import numnet.nn as nn

    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 16), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    model = nn.Sequential(nn.Linear(16, 16, generator=0), nn.ReLU(),
                          nn.Linear(16, 16, generator=1), nn.ReLU(),
                          nn.Linear(16, 16, generator=2), nn.ReLU(),
                          nn.Linear(16, 10, generator=3))
    opt, _ = numnet_optimizer(model)
    pc = PC[0]
    parts = defaultdict(list)
    for i in range(n_steps + 50):
        t0 = pc()
        opt.zero_grad()
        loss = F.cross_entropy(model(numnet.Tensor(x)), numnet.Tensor(y))
        t1 = pc()
        loss.backward()
        t2 = pc()
        opt.step()
        t3 = pc()
        if i >= 50:
            parts["forward+loss"].append(t1 - t0)
            parts["backward"].append(t2 - t1)
            parts["step"].append(t3 - t2)
    out = {k: float(np.median(v)) * 1e6 for k, v in parts.items()}
    try:
        import torch
    except ImportError:
        return out
    torch.set_num_threads(threads)
    tm = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                             torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                             torch.nn.Linear(16, 10))
    topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    steps = []
    for i in range(n_steps + 50):
        t0 = pc()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(xt), yt).backward()
        topt.step()
        if i >= 50:
            steps.append(pc() - t0)
    out["torch (whole step)"] = float(np.median(steps)) * 1e6
    return out


# -- main ------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=60_000)
    ap.add_argument("--cprofile", action="store_true", help="print a cProfile of one epoch")
    ap.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument report")
    ap.add_argument("--threads", type=int, default=2, help="BLAS threads (threadpoolctl)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or process CPU time (only with --threads 1)")
    args = ap.parse_args(argv)
    if args.clock == "cpu":
        if args.threads != 1:
            ap.error("--clock cpu needs --threads 1")
        bench_mlp.CLOCK[0] = time.process_time
        PC[0] = time.process_time
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        pass
    x, y = make_data(args.samples)
    nb = len(batches(len(x)))
    print(f"{args.samples} samples = {nb} batches of {BATCH}; numpy {np.__version__}; "
          f"{args.threads} BLAS threads; load average {os.getloadavg()[0]:.2f}")

    epoch_phases(x[: 20 * BATCH], y[: 20 * BATCH])  # warm-up
    gemm = min(gemm_epoch(x, y)[0] for _ in range(2))
    phases = min((epoch_phases(x, y) for _ in range(2)), key=lambda d: sum(d.values()))
    total = sum(phases.values())
    print(f"\n1. phases of one epoch (best of 2): total {total:.3f} s, GEMM-only loop "
          f"{gemm:.3f} s, non-GEMM {total - gemm:.3f} s ({total / gemm:.2f}x)")
    for k, v in phases.items():
        print(f"   {k:<24} {v * 1e3:8.1f} ms/epoch {v / nb * 1e6:8.1f} us/batch")

    probe = Probe()
    probe.install()
    try:
        ph = epoch_phases(x, y, probe)
    finally:
        probe.uninstall()
    print("\n2. per primitive (instrumented epoch; ms/epoch inside the NumPy code):")
    print(f"   {'primitive':<22} {'calls':>7} {'forward':>9} {'vjp':>9}")
    for name in sorted(probe.calls, key=lambda k: -(probe.fwd[k] + probe.vjp[k])):
        print(f"   {name:<22} {probe.calls[name]:7d} {probe.fwd[name] * 1e3:9.1f} "
              f"{probe.vjp[name] * 1e3:9.1f}")
    fwd_in = sum(probe.fwd.values())
    vjp_in = sum(probe.vjp.values())
    fl = ph["forward (model)"] + ph["loss (F.cross_entropy)"]
    print(f"   forward+loss phase {fl * 1e3:.1f} ms, of which in primitives {fwd_in * 1e3:.1f} ms"
          f" -> Python overhead (modules, F, apply, Tensor) {(fl - fwd_in) * 1e3:.1f} ms")
    print(f"   backward phase {ph['backward'] * 1e3:.1f} ms, of which in VJPs {vjp_in * 1e3:.1f}"
          f" ms -> engine overhead (sort, routing, accumulation) "
          f"{(ph['backward'] - vjp_in) * 1e3:.1f} ms")

    print("\n3. dtype audit of the hot path:")
    if probe.bad_dtypes:
        for where, dts in sorted(probe.bad_dtypes.items()):
            print(f"   NOT float32: {where}: {sorted(dts)}")
    else:
        print("   every floating array (forward outputs, VJP results, leaf grads, params, "
              "optimizer state) is float32")
    kinds = sorted({d for ds in probe.seen_dtypes.values() for d in ds})
    print(f"   dtypes seen: {kinds}")

    print("\n4. minor page faults in the training loop (model creation excluded; a fresh "
          "array of >= 128 KiB may come from mmap):")
    epoch_phases(x, y)
    print(f"   numnet {epoch_phases.faults:,} ({epoch_phases.faults / nb:.1f}/batch)   "
          f"GEMM-only loop {minor_faults(gemm_epoch, x, y):,}")

    print("\n5. micro-benchmarks (best of 7; ms/epoch = us x calls/batch x batches):")
    print(f"   {'kernel':<42} {'now us':>7} {'ms/ep':>7} {'alt us':>7} {'ms/ep':>7}  alternative")
    for kernel, per, now, alt, what in micro(nb):
        print(f"   {kernel:<42} {now:7.1f} {now * per * nb / 1e3:7.1f} {alt:7.1f} "
              f"{alt * per * nb / 1e3:7.1f}  {what}")
    model = numnet_model()
    opt, opt_name = numnet_optimizer(model)
    now, threaded, blas = sgd_micro(model, opt)
    step = opt_name + ".step() (8 params)"
    print(f"   {step:<42} {now:7.1f} {now * nb / 1e3:7.1f} {threaded:7.1f} "
          f"{threaded * nb / 1e3:7.1f}  4 NumPy passes split over 2 threads (ufuncs drop "
          "the GIL; wall time, needs an idle 2nd core)")
    if blas is not None:
        print(f"   {step:<42} {now:7.1f} {now * nb / 1e3:7.1f} {blas:7.1f} "
              f"{blas * nb / 1e3:7.1f}  scipy.linalg.blas sscal + 2 saxpy in place "
              f"({args.threads} BLAS threads, wall time)")

    print("\n6. fixed per-step overhead (tiny 16-16-16-16-10 MLP, batch 128; median us):")
    fo = fixed_overhead(threads=args.threads)
    ours = sum(v for k, v in fo.items() if not k.startswith("torch"))
    for k, v in fo.items():
        print(f"   {k:<20} {v:8.1f} us")
    print(f"   numnet whole step    {ours:8.1f} us  -> {ours * nb / 1e3:.0f} ms per "
          f"{nb}-batch epoch")

    if args.cprofile:
        import cProfile
        import pstats

        print("\n7. cProfile of one epoch (tottime):")
        pr = cProfile.Profile()
        pr.enable()
        epoch_phases(x, y)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(25)
    if args.pyinstrument:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        prof.start()
        epoch_phases(x, y)
        prof.stop()
        print(prof.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
