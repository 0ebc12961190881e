"""How close to the GEMM-only bound can a NumPy MLP training step get at all?

An experiment behind docs/performance.md ("The <= 1.10x target is out of reach"), not
part of numnet. For the MLP benchmark (784-512-512-512-10, ReLU, softmax
cross-entropy, batch 128, SGD momentum 0.9, 469 batches) it times hand-written training
loops with no framework at all, in interleaved rounds, against the GEMM-only bound:

* ``bound``         -- only the 11 matrix products, results preallocated;
* ``numpy``         -- the whole step in NumPy: preallocated arrays, in-place passes,
                       SGD momentum in four passes per parameter;
* ``numpy+saxpy``   -- the same, the weight update ``θ -= lr·v`` as one BLAS ``saxpy``;
* ``fused``         -- as far as BLAS goes: the momentum update folded into the
                       weight-gradient GEMM (``v ← μv + δsᵀa`` with ``beta = μ``), the
                       bias folded into the forward GEMM (``beta = 1`` on a copy of the
                       bias), the weight update one ``saxpy``;
* ``scipy-bound``, ``scipy-fused`` -- the bound and ``fused`` with every product and
                       the ``saxpy`` through SciPy's public ``scipy.linalg.blas`` (its
                       own OpenBLAS, so NumPy's thread pool stays idle).

The ``numpy+saxpy`` and ``fused`` BLAS calls go through ``ctypes`` into the OpenBLAS
that NumPy's wheel bundles (``cblas_sgemm`` with ``beta`` is not reachable from NumPy).
That symbol is private and version-named, which is why numnet itself does not do this;
without it those two systems are skipped. The ``scipy-*`` systems use SciPy's public
wrappers instead; SciPy's BLAS is a second OpenBLAS with its own thread pool, so they
route *every* product through it (one product left to NumPy's pool made the loop 15×
slower: each pool's idle threads spin while the other works).

The bound does not depend on the optimizer (Adam, SGD: the same 11 products per
batch), so ``--systems bound`` is the GEMM-only floor of any implementation of the
MNIST benchmark of ``bench_sklearn_mlp.py`` (784-512-512-512-10, batch 128).

Usage::

    python benchmarks/mlp_numpy_floor.py [--rounds 3] [--samples 60000]
    python benchmarks/mlp_numpy_floor.py --systems bound --rounds 5
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

SIZES = (784, 512, 512, 512, 10)
BATCH, LR, MU = 128, np.float32(0.01), np.float32(0.9)


def _bundled_cblas():
    """``(sgemm, saxpy)`` from NumPy's bundled OpenBLAS, or None."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "libscipy_openblas64_*.so")):
        lib = ctypes.CDLL(path)
        try:
            sgemm, saxpy = lib.scipy_cblas_sgemm64_, lib.scipy_cblas_saxpy64_
        except AttributeError:
            continue
        i64, f32, ptr = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
        sgemm.argtypes = [ctypes.c_int] * 3 + [i64] * 3 + [f32, ptr, i64, ptr, i64, f32, ptr, i64]
        sgemm.restype = None
        saxpy.argtypes = [i64, f32, ptr, i64, ptr, i64]
        saxpy.restype = None
        return sgemm, saxpy
    return None


BLAS = _bundled_cblas()


def gemm(a, b, c, *, ta=False, tb=False, beta=0.0):
    """``c ← op(a) op(b) + beta·c`` for C-contiguous float32 arrays (row-major cblas)."""
    if SCIPY[0]:
        return scipy_gemm(a, b, c, ta=ta, tb=tb, beta=beta)
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    BLAS[0](101, 112 if ta else 111, 112 if tb else 111, m, n, k, 1.0,
            a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], beta, c.ctypes.data, n)


def axpy(alpha, x, y):
    """``y ← alpha·x + y`` in place."""
    if SCIPY[0]:
        from scipy.linalg import blas

        blas.saxpy(x.reshape(-1), y.reshape(-1), a=alpha)
        return
    BLAS[1](x.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


SCIPY = [False]  # route gemm/axpy through scipy.linalg.blas (its own OpenBLAS)


def scipy_gemm(a, b, c, *, ta=False, tb=False, beta=0.0):
    """``c ← op(a) op(b) + beta·c`` through SciPy's public Fortran ``sgemm`` wrapper.

    Row-major ``C = op(A) op(B)`` is column-major ``Cᵀ = op(B)ᵀ op(A)ᵀ``: the transposed
    views of C-contiguous arrays are Fortran-contiguous, so nothing is copied and
    ``c`` is written in place (``overwrite_c``).
    """
    from scipy.linalg import blas

    out = blas.sgemm(1.0, b.T, a.T, beta=beta, c=c.T, trans_a=int(tb), trans_b=int(ta),
                     overwrite_c=1)
    assert np.shares_memory(out, c)


def scipy_bound(x, y):
    """The bound's 11 products, each through SciPy's ``sgemm`` into preallocated arrays."""
    return bound(x, y, product=scipy_gemm)


def scipy_fused(x, y):
    """``fused`` with every product and the saxpy through SciPy's BLAS (one pool)."""
    SCIPY[0] = True
    try:
        return step_loop(x, y, fused=True)
    finally:
        SCIPY[0] = False


def make_data(n):
    rng = np.random.default_rng(0)
    return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], n)


def init():
    rng = np.random.default_rng(1)
    ws = [rng.uniform(-1, 1, (o, i)).astype(np.float32) / np.float32(np.sqrt(i))
          for i, o in zip(SIZES[:-1], SIZES[1:])]
    return ws, [np.zeros(o, np.float32) for o in SIZES[1:]]


def numpy_gemm(a, b, c, *, ta=False, tb=False):
    """``c ← op(a) op(b)`` with ``numpy.matmul`` into ``c``."""
    np.matmul(a.T if ta else a, b.T if tb else b, out=c)


def bound(x, y, product=numpy_gemm):
    """Only the 11 products of forward and backward, results preallocated."""
    ws, _ = init()
    outs = [np.empty((BATCH, o), np.float32) for o in SIZES[1:]]
    gws = [np.empty_like(w) for w in ws]
    gxs = [np.empty((BATCH, i), np.float32) for i in SIZES[:-1]]
    t0 = time.perf_counter()
    for s in range(0, len(x), BATCH):
        n = min(BATCH, len(x) - s)
        acts = [x[s:s + n]]
        for k, w in enumerate(ws):
            product(acts[-1], w, outs[k][:n], tb=True)  # z = a Wᵀ
            acts.append(outs[k][:n])
        g = acts[-1]
        for k in range(len(ws) - 1, -1, -1):
            product(g, acts[k], gws[k], ta=True)  # δW = δsᵀ a
            if k:
                product(g, ws[k], gxs[k][:n])  # δa = δs W
                g = gxs[k][:n]
    return time.perf_counter() - t0, float("nan")


def step_loop(x, y, *, saxpy_update=False, fused=False):
    ws, bs = init()
    vws, vbs = [np.zeros_like(w) for w in ws], [np.zeros_like(b) for b in bs]
    gws, gbs = [np.empty_like(w) for w in ws], [np.empty_like(b) for b in bs]
    tmp = [np.empty_like(w) for w in ws]
    outs = [np.empty((BATCH, o), np.float32) for o in SIZES[1:]]
    gxs = [np.empty((BATCH, i), np.float32) for i in SIZES[1:-1]]
    masks = [np.empty((BATCH, i), bool) for i in SIZES[1:-1]]
    ones, rows, last = np.ones(BATCH, np.float32), np.arange(BATCH), len(ws) - 1
    t0 = time.perf_counter()
    for s in range(0, len(x), BATCH):
        n = min(BATCH, len(x) - s)
        acts = [x[s:s + n]]
        for k, (w, b) in enumerate(zip(ws, bs)):
            z = outs[k][:n]
            if fused:
                z[...] = b
                gemm(acts[-1], w, z, tb=True, beta=1.0)  # z = a Wᵀ + b
            else:
                np.matmul(acts[-1], w.T, out=z)
                z += b
            if k < last:
                np.maximum(z, 0, out=z)
            acts.append(z)
        z = acts[-1]
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = -np.log(z[rows[:n], y[s:s + n]]).mean()
        z[rows[:n], y[s:s + n]] -= 1
        z *= np.float32(1.0 / n)
        g = z
        for k in range(last, -1, -1):
            if fused:
                gemm(g, acts[k], vws[k], ta=True, beta=float(MU))  # v ← μv + δsᵀa
            else:
                np.matmul(g.T, acts[k], out=gws[k])
                vws[k] *= MU
                vws[k] += gws[k]
            if SCIPY[0]:  # δb = 1ᵀδs through the same BLAS as the products (one pool)
                from scipy.linalg import blas

                blas.sgemv(1.0, g, ones[:n], trans=1, y=gbs[k], overwrite_y=1)
            else:
                np.matmul(ones[:n], g, out=gbs[k])
            vbs[k] *= MU
            vbs[k] += gbs[k]
            if k:
                gx = gxs[k - 1][:n]
                if fused:
                    gemm(g, ws[k], gx)  # δa = δs W
                else:
                    np.matmul(g, ws[k], out=gx)
                np.greater(acts[k], 0, out=masks[k - 1][:n])
                gx *= masks[k - 1][:n]
                g = gx
            if saxpy_update or fused:
                axpy(-float(LR), vws[k], ws[k])
            else:
                np.multiply(vws[k], LR, out=tmp[k])
                ws[k] -= tmp[k]
            bs[k] -= LR * vbs[k]
    return time.perf_counter() - t0, float(loss)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=60_000)
    ap.add_argument(
        "--systems",
        nargs="+",
        choices=("bound", "numpy", "numpy+saxpy", "fused", "scipy-bound", "scipy-fused"),
        help="run only these (default: all that the BLAS allows)",
    )
    args = ap.parse_args(argv)
    x, y = make_data(args.samples)
    systems = {"bound": bound, "numpy": step_loop}
    if BLAS is not None:
        systems["numpy+saxpy"] = lambda a, b: step_loop(a, b, saxpy_update=True)
        systems["fused"] = lambda a, b: step_loop(a, b, fused=True)
    else:
        print("NumPy's bundled OpenBLAS symbols not found: BLAS variants skipped")
    if importlib.util.find_spec("scipy") is not None:
        systems["scipy-bound"], systems["scipy-fused"] = scipy_bound, scipy_fused
    if args.systems:
        systems = {k: v for k, v in systems.items() if k in args.systems or k == "bound"}
    for fn in systems.values():  # warm-up
        fn(x[: 10 * BATCH], y[: 10 * BATCH])
    times = {k: [] for k in systems}
    for r in range(args.rounds):
        parts = []
        for name, fn in systems.items():
            seconds, loss = fn(x, y)
            times[name].append(seconds)
            parts.append(f"{name} {seconds:.2f}s" + ("" if np.isnan(loss) else f" ({loss:.3f})"))
        print(f"round {r + 1}: " + ", ".join(parts), flush=True)
    b = statistics.median(times["bound"])
    print(f"\n{'system':<12} {'median s':>9} {'/ bound':>8}")
    for name, v in times.items():
        print(f"{name:<12} {statistics.median(v):9.3f} {statistics.median(v) / b:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
