"""Time one training epoch of an MNIST-shaped MLP in numnet, PyTorch and the GEMM bound.

The model (docs/performance.md): 784-512-512-512-10, ReLU, softmax cross-entropy,
float32, batch 128, SGD (lr 0.01, momentum 0.9), one epoch over 60,000 random
MNIST-shaped samples. In one run the systems are timed in interleaved rounds
(A B C A B C ...) so that drifts of the machine hit all of them alike, and the
medians are compared:

* ``numnet``      -- ``nn.Sequential(Linear, ReLU, ...)``, ``F.cross_entropy``,
                     ``numnet.optim.SGD`` (or an inline momentum update if ``numnet.optim``
                     is not there);
* ``torch``       -- the same model in PyTorch on the CPU, ``torch.set_num_threads(2)``
                     (``--threads``; NumPy's BLAS gets the same number);
* ``gemm-bound``  -- only the matrix products of the same forward/backward in NumPy
                     (3 GEMMs per layer, no input gradient for the first layer): what no
                     NumPy implementation can beat;
* ``sklearn``     -- ``MLPClassifier.partial_fit`` for one epoch (float32), if installed.

It also measures single-sample inference latency (numnet under ``no_grad``, torch under
``torch.no_grad``, and a bare NumPy forward as the floor).

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mlp.py
    python benchmarks/bench_mlp.py --quick          # a smoke run (seconds)
    python benchmarks/bench_mlp.py --rounds 7 --no-sklearn
    python benchmarks/bench_mlp.py --threads 1 --clock cpu   # on a busy machine

(``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are set on some machines of this workplace
for old OpenBLAS builds and slow down a current NumPy: unset them for this command
only; the script prints which OpenBLAS kernel actually runs.)
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

import numpy as np

try:
    import numnet  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

SIZES = (784, 512, 512, 512, 10)
# The clock: wall time by default; ``--clock cpu`` (process CPU time) with ``--threads 1``
# counts only this process's work, so other processes on a busy machine matter less.
CLOCK = [time.perf_counter]
CLOCK_NS = [time.perf_counter_ns]
LR, MOMENTUM, BATCH = 0.01, 0.9, 128


# -- data ---------------------------------------------------------------------------------
def make_data(n: int, seed: int = 0):
    """MNIST-shaped random data: pixels in [0, 1), float32; labels 0..9, int64."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n, dtype=np.int64)
    return x, y


def batches(n: int):
    return [(s, min(s + BATCH, n)) for s in range(0, n, BATCH)]


# -- numnet ---------------------------------------------------------------------------------
def numnet_model(seed: int = 0):
    import numnet.nn as nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(n_in, n_out, generator=seed + i))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class InlineSGD:
    """SGD with momentum in PyTorch's convention (``v ← μv + g``, ``θ ← θ − lr·v``).

    Used only while ``numnet.optim`` does not exist yet; in place, no allocation.
    """

    def __init__(self, params, lr, momentum):
        self.params = list(params)
        self.lr, self.momentum = lr, momentum
        self.bufs = [None] * len(self.params)
        self.work = [np.empty_like(p.data) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.bufs[i] is None:
                self.bufs[i] = p.grad.copy()
            else:
                self.bufs[i] *= self.momentum
                self.bufs[i] += p.grad
            np.multiply(self.bufs[i], self.lr, out=self.work[i])
            p.data -= self.work[i]


def numnet_optimizer(model):
    try:
        from numnet.optim import SGD
    except ImportError:
        return InlineSGD(model.parameters(), LR, MOMENTUM), "inline SGD"
    return SGD(model.parameters(), lr=LR, momentum=MOMENTUM), "numnet.optim.SGD"


def numnet_epoch(x, y, seed=0, split=1):
    import numnet
    import numnet.nn.functional as F
    from numnet.parallel import data_parallel_step

    model = numnet_model(seed)
    opt, _ = numnet_optimizer(model)
    spans = batches(len(x))
    gc.collect()
    t0 = CLOCK[0]()
    for s, e in spans:
        opt.zero_grad()
        if split > 1:
            loss = data_parallel_step(model, F.cross_entropy, x[s:e], y[s:e], num_threads=split)
        else:
            loss = F.cross_entropy(model(numnet.Tensor(x[s:e])), numnet.Tensor(y[s:e]))
            loss.backward()
        opt.step()
    seconds = CLOCK[0]() - t0
    for name, p in model.named_parameters():  # the hot path must stay float32
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    return seconds, float(loss.item())


# -- torch -------------------------------------------------------------------------------------
def torch_model(seed: int = 0):
    import torch

    torch.manual_seed(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_epoch(x, y, seed=0):
    import torch

    model = torch_model(seed)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    spans = batches(len(x))
    gc.collect()
    t0 = CLOCK[0]()
    for s, e in spans:
        opt.zero_grad()
        loss = loss_fn(model(xt[s:e]), yt[s:e])
        loss.backward()
        opt.step()
    seconds = CLOCK[0]() - t0
    return seconds, float(loss.item())


# -- the GEMM-only bound ------------------------------------------------------------------------
def gemm_epoch(x, y, seed=0):
    """Only the matrix products of forward and backward, with numnet's operand layouts.

    Per layer k (weight W_k of shape (out, in), as in ``numnet.nn.Linear``):
    forward ``z = a @ W.T``; backward ``δW = δzᵀ a`` and, except for the first layer,
    ``δa = δz W``. The "adjoints" are the forward outputs reused (values do not
    matter for timing; shapes and layouts do). Every product writes into a
    preallocated array (``out=``): allocating the 1-1.6 MB results afresh can cost
    more than half of the GEMM time when the C allocator hands the memory back to the
    OS on every ``free`` (measured: 2.85 s instead of 1.78 s per epoch, 1,960 page
    faults per batch), and a bound must not depend on the allocator's mood.
    """
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((o, i), dtype=np.float32) * 0.05
          for i, o in zip(SIZES[:-1], SIZES[1:])]
    outs = [np.empty((BATCH, o), np.float32) for o in SIZES[1:]]
    gws = [np.empty_like(w) for w in ws]
    gxs = [np.empty((BATCH, i), np.float32) for i in SIZES[:-1]]
    spans = batches(len(x))
    gc.collect()
    t0 = CLOCK[0]()
    for s, e in spans:
        n = e - s
        acts = [x[s:e]]
        for k, w in enumerate(ws):
            acts.append(np.matmul(acts[-1], w.T, out=outs[k][:n]))
        g = acts[-1]
        for k in range(len(ws) - 1, -1, -1):
            np.matmul(g.T, acts[k], out=gws[k])  # δW = δsᵀ x
            if k:
                g = np.matmul(g, ws[k], out=gxs[k][:n])  # δx = δs W
    return CLOCK[0]() - t0, float("nan")


# -- a hand-written NumPy training step: the floor for any NumPy implementation --------------
def numpy_step_epoch(x, y, seed=0):
    """The whole training step written by hand in NumPy, with no framework at all.

    Same model, initial weights (numnet's), loss and optimizer as ``numnet_epoch``;
    every array is preallocated and every pass is in place: forward ``z = a Wᵀ + b``,
    ReLU; stable softmax cross-entropy; backward ``δW = δsᵀ a``, ``δb = 1ᵀ δs``,
    ``δa = (δs W) ⊙ 1{a > 0}``; SGD with momentum in PyTorch's convention in four
    in-place NumPy passes per parameter. What it costs beyond ``gemm_epoch`` is the
    elementwise work that NumPy cannot fuse into the matrix products.
    """
    model = numnet_model(seed)
    params = [p.data.copy() for p in model.parameters()]  # w0, b0, w1, b1, ...
    ws, bs = params[0::2], params[1::2]
    vs = [np.zeros_like(p) for p in params]
    vws, vbs = vs[0::2], vs[1::2]
    gws = [np.empty_like(w) for w in ws]
    gbs = [np.empty_like(b) for b in bs]
    work = [np.empty_like(p) for p in params]
    outs = [np.empty((BATCH, o), np.float32) for o in SIZES[1:]]
    gxs = [np.empty((BATCH, i), np.float32) for i in SIZES[1:-1]]
    masks = [np.empty((BATCH, i), bool) for i in SIZES[1:-1]]
    ones = np.ones(BATCH, np.float32)
    rows = np.arange(BATCH)
    lr, mu = np.float32(LR), np.float32(MOMENTUM)
    last = len(ws) - 1
    spans = batches(len(x))
    gc.collect()
    t0 = CLOCK[0]()
    for s, e in spans:
        n = e - s
        acts = [x[s:e]]
        for k, (w, b) in enumerate(zip(ws, bs)):
            z = np.matmul(acts[-1], w.T, out=outs[k][:n])
            z += b
            if k < last:
                np.maximum(z, 0, out=z)
            acts.append(z)
        z = acts[-1]  # logits -> δs of the loss, in place
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = -np.log(z[rows[:n], y[s:e]]).mean()
        z[rows[:n], y[s:e]] -= 1
        z *= np.float32(1.0 / n)
        g = z
        for k in range(last, -1, -1):
            np.matmul(g.T, acts[k], out=gws[k])
            np.matmul(ones[:n], g, out=gbs[k])
            if k:
                gx = np.matmul(g, ws[k], out=gxs[k - 1][:n])
                np.greater(acts[k], 0, out=masks[k - 1][:n])
                gx *= masks[k - 1][:n]
                g = gx
        for p, v, gr, tmp in zip(ws + bs, vws + vbs, gws + gbs, work[0::2] + work[1::2]):
            v *= mu
            v += gr
            np.multiply(v, lr, out=tmp)
            p -= tmp
    return CLOCK[0]() - t0, float(loss)


# -- scikit-learn -------------------------------------------------------------------------------
def sklearn_epoch(x, y, seed=0):
    import warnings

    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="sgd",
                        learning_rate_init=LR, momentum=MOMENTUM, nesterovs_momentum=False,
                        batch_size=BATCH, alpha=0.0, shuffle=False, random_state=seed)
    gc.collect()
    t0 = CLOCK[0]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(x, y, classes=np.arange(SIZES[-1]))  # one epoch
    seconds = CLOCK[0]() - t0
    assert clf.coefs_[0].dtype == np.float32
    return seconds, float(clf.loss_)


def numnet_split_epoch(x, y, seed=0):
    """numnet with each minibatch split over ``--threads`` threads (data_parallel_step)."""
    return numnet_epoch(x, y, seed, split=THREADS[0])


THREADS = [2]
SYSTEMS = {
    "numnet": numnet_epoch,
    "numnet-split": numnet_split_epoch,
    "numnet-ref": numnet_epoch,  # NUMNET_DISABLE_NUMBA=1 in its process
    "gemm-bound": gemm_epoch,
    "numpy-step": numpy_step_epoch,
    "torch": torch_epoch,
    "sklearn": sklearn_epoch,
}


def worker(name: str, samples: int, seed: int, threads: int) -> int:
    """One epoch of one system in this (fresh) process: a JSON line with the seconds."""
    import json

    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
    x, y = make_data(samples)
    fn = SYSTEMS[name]
    fn(x[: 20 * BATCH], y[: 20 * BATCH])  # warm-up: imports, compiled kernels, threads
    seconds, loss = fn(x, y, seed=seed)
    print(json.dumps({"seconds": seconds, "loss": loss}), flush=True)
    return 0


def run_worker(name: str, args, seed: int) -> tuple[float, float]:
    import json
    import subprocess

    env = dict(os.environ)
    if name == "numnet-ref":
        env["NUMNET_DISABLE_NUMBA"] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--seed", str(seed),
           "--samples", str(args.samples), "--threads", str(args.threads),
           "--clock", args.clock]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{res.stderr}")
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    return rec["seconds"], rec["loss"]


# -- inference latency ---------------------------------------------------------------------------
def latency(calls: int, warmup: int = 200) -> dict[str, float]:
    """Median microseconds per single-sample forward pass."""
    import torch

    import numnet

    x = make_data(1, seed=1)[0]
    ours, theirs = numnet_model(), torch_model()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ws = [(m.weight.data, m.bias.data) for m in list(ours)[::2]]

    def bare_numpy():
        a = x
        for i, (w, b) in enumerate(ws):
            a = a @ w.T
            a += b
            if i < len(ws) - 1:
                np.maximum(a, 0, out=a)
        return a

    def numnet_call():
        with numnet.no_grad():
            return ours(numnet.Tensor(x)).data

    xt = torch.from_numpy(x)

    def torch_call():
        with torch.no_grad():
            return theirs(xt)

    np.testing.assert_allclose(numnet_call(), torch_call().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(numnet_call(), bare_numpy(), rtol=1e-5, atol=1e-6)
    out = {}
    fns = {"numnet": numnet_call, "torch": torch_call, "numpy (bare)": bare_numpy}
    samples = {k: [] for k in fns}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    for _ in range(calls):  # interleaved, like the epochs
        for k, fn in fns.items():
            t0 = CLOCK_NS[0]()
            fn()
            samples[k].append(CLOCK_NS[0]() - t0)
    for k, v in samples.items():
        out[k] = statistics.median(v) / 1e3
    return out


# -- the report ------------------------------------------------------------------------------
def environment() -> str:
    import numpy

    lines = [
        f"python {platform.python_version()}, numpy {numpy.__version__}, "
        f"nproc {os.cpu_count()}, {platform.processor() or platform.machine()}",
        "load average {:.2f} {:.2f} {:.2f} (other processes skew timings)".format(
            *os.getloadavg()),
        "OPENBLAS_CORETYPE={!r} OPENBLAS_L2_SIZE={!r} OPENBLAS_THREAD_TIMEOUT={!r}".format(
            os.environ.get("OPENBLAS_CORETYPE"), os.environ.get("OPENBLAS_L2_SIZE"),
            os.environ.get("OPENBLAS_THREAD_TIMEOUT")),
    ]
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            lines.append("threadpool: {internal_api} {version} kernel={arch} "
                         "threads={num_threads} ({filepath})".format(
                             arch=info.get("architecture"), **info))
    except ImportError:
        lines.append("threadpool: (pip install threadpoolctl to see the BLAS kernel)")
    try:
        import torch

        lines.append(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    except ImportError:
        pass
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 3)")
    ap.add_argument("--samples", type=int, default=60_000, help="samples per epoch")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 6,000 samples, 3 rounds, 300 latency calls")
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--latency-calls", type=int, default=2000)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or this process's CPU time (only with --threads 1)")
    ap.add_argument("--threads", type=int, default=2,
                    help="BLAS threads (NumPy, via threadpoolctl) and torch threads; 1 is "
                    "far less sensitive to other processes on a busy machine")
    ap.add_argument("--systems", help="comma-separated subset of the systems")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    THREADS[0] = args.threads
    if args.worker:
        if args.clock == "cpu":
            CLOCK[0], CLOCK_NS[0] = time.process_time, time.process_time_ns
        return worker(args.worker, args.samples, args.seed, args.threads)
    if args.quick:
        args.samples, args.rounds = 6_000, 3
        args.latency_calls = min(args.latency_calls, 300)
    if args.rounds < 3:
        ap.error("--rounds must be at least 3")
    if args.clock == "cpu":
        if args.threads != 1:
            ap.error("--clock cpu needs --threads 1 (CPU time adds up the threads' time)")
        CLOCK[0], CLOCK_NS[0] = time.process_time, time.process_time_ns

    systems = {"numnet": numnet_epoch, "numnet-split": numnet_split_epoch,
               "gemm-bound": gemm_epoch, "numpy-step": numpy_step_epoch}
    try:
        import numba  # noqa: F401

        systems["numnet-ref"] = numnet_epoch
    except ImportError:
        pass
    have_torch = False
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
            systems["torch"] = torch_epoch
            have_torch = True
        except ImportError:
            print("torch not installed: skipping it (pip install torch==2.13.0)")
    if not args.no_sklearn:
        try:
            import sklearn  # noqa: F401

            systems["sklearn"] = sklearn_epoch
        except ImportError:
            print("scikit-learn not installed: skipping it")

    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        if args.threads != 2:
            ap.error("--threads needs threadpoolctl (pip install threadpoolctl)")
    print(environment())
    import numnet

    _, opt_name = numnet_optimizer(numnet_model())
    print(f"numnet {numnet.__version__} with {opt_name}")
    print(f"model {'-'.join(map(str, SIZES))}, {args.samples} samples, batch {BATCH}, "
          f"float32, SGD lr {LR} momentum {MOMENTUM}; {args.rounds} interleaved rounds; "
          f"{args.threads} thread(s); {args.clock} clock")

    if args.quick and not args.systems:  # a smoke run: the main systems only
        systems = {k: v for k, v in systems.items() if k not in ("numnet-ref", "numpy-step")}
    if args.systems:
        systems = {k: SYSTEMS[k] for k in args.systems.split(",")}
        have_torch = "torch" in systems
    print("every epoch runs in a fresh process (NumPy imported first); the order of the "
          "systems rotates every round")
    times: dict[str, list[float]] = {k: [] for k in systems}
    names = list(systems)
    for r in range(args.rounds):
        parts = []
        for name in names[r % len(names):] + names[: r % len(names)]:
            seconds, loss = run_worker(name, args, seed=r)
            times[name].append(seconds)
            extra = "" if np.isnan(loss) else f" (loss {loss:.3f})"
            parts.append(f"{name} {seconds:.2f}s{extra}")
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(parts), flush=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    bound = med["gemm-bound"]
    print()
    print(f"{'system':<12} {'median s/epoch':>15} {'min':>7} {'max':>7} "
          f"{'/ GEMM bound':>13} {'/ torch':>8}")
    for name in systems:
        per_round = [a / b for a, b in zip(times[name], times["gemm-bound"])]
        print(f"  ({name}: median of the per-round ratios to the bound "
              f"{statistics.median(per_round):.2f})")
    for name in systems:
        ratio_t = f"{med[name] / med['torch']:8.2f}" if have_torch else f"{'-':>8}"
        print(f"{name:<12} {med[name]:15.3f} {min(times[name]):7.2f} {max(times[name]):7.2f} "
              f"{med[name] / bound:13.2f} {ratio_t}")
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    target = 1.10
    verdict = "meets" if med["numnet"] <= target * bound else "misses"
    print(f"\nnumnet / GEMM bound = {med['numnet'] / bound:.2f} ({verdict} the target "
          f"<= {target:.2f})")

    if have_torch and args.latency_calls > 0:
        lat = latency(args.latency_calls)
        print(f"\nsingle-sample inference latency (median of {args.latency_calls} calls):")
        for name, us in lat.items():
            print(f"  {name:<13} {us:8.1f} us  ({us / lat['torch']:.2f}x torch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
