"""The cost of :class:`numnet.train.GradientDiagnostics`, sampling every 100 steps.

    python benchmarks/diagnostics_overhead.py [--data-dir DIR] [--rounds 11] [--quick]

The model is an MLP 784-256-256-10 (ReLU), batch 64, SGD (lr 0.05, momentum 0.9),
trained for 3 epochs on 10,000 MNIST images (``--quick``: synthetic digits); BLAS is
limited to one thread. Two measures:

1. End to end: wall time of ``fit`` without the callback, with it (training gradients)
   and with it plus a 64-image probe batch, the three variants interleaved in rotating
   order in every round (so slow periods of a shared machine hit all of them); the
   median of the per-round ratios, the same for the process's CPU time, and the median
   share of each run spent inside the callback's recording (the least noisy measure:
   time inside / time outside).
2. Per record: the median cost of one record divided by ``every`` times the median cost
   of one training step (forward, backward, SGD update), both on the same model.

Prints one JSON object (the numbers in docs/experiments.md, "Overhead of
GradientDiagnostics").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import numnet  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

BATCH = 64
VARIANTS = ("none", "diagnostics", "diagnostics+probe")


def _median_time(fn, repeats: int) -> float:
    out = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return float(np.median(out))


def _callbacks(variant, X, y, every, probe_size, cls=None):
    import numnet.nn.functional as F
    from numnet import train

    if variant == "none":
        return []
    probe = (X[:probe_size], y[:probe_size]) if variant.endswith("probe") else None
    cls = cls or train.GradientDiagnostics
    return [cls(every=every, probe=probe, loss_fn=F.cross_entropy)]


def _model_and_optimizer(X, hidden, seed):
    from numnet import models, optim

    model = models.mlp(X.shape[1], hidden, 10, activation="relu", generator=seed)
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def end_to_end(X, y, *, hidden, epochs, rounds, every, probe_size, seed) -> dict:
    """Wall and CPU seconds of ``fit`` per variant and round, and the time inside the
    callback's recording (percent of the rest of the run)."""
    import numnet.nn.functional as F
    from numnet import train

    class TimedDiagnostics(train.GradientDiagnostics):
        """Adds up the wall time spent recording."""

        spent = 0.0

        def _record(self, loop, **kwargs):
            t0 = time.perf_counter()
            super()._record(loop, **kwargs)
            self.spent += time.perf_counter() - t0

    times = {v: [] for v in VARIANTS}
    cpu = {v: [] for v in VARIANTS}
    inside = {v: [] for v in VARIANTS[1:]}
    records = {}
    for r in range(rounds):
        for v in VARIANTS[r % 3 :] + VARIANTS[: r % 3]:
            model, opt = _model_and_optimizer(X, hidden, seed)
            cbs = _callbacks(v, X, y, every, probe_size, TimedDiagnostics)
            t0, c0 = time.perf_counter(), time.process_time()
            train.fit(model, F.cross_entropy, opt, (X, y), epochs=epochs, batch_size=BATCH,
                      generator=seed, verbose=0, callbacks=cbs)
            total = time.perf_counter() - t0
            times[v].append(total)
            cpu[v].append(time.process_time() - c0)
            if cbs:
                records[v] = len(cbs[0].records)
                inside[v].append(100 * cbs[0].spent / (total - cbs[0].spent))
    return {"times": times, "cpu": cpu, "inside": inside, "records": records}


def per_record(X, y, *, hidden, rounds, every, probe_size, seed) -> tuple[float, dict]:
    """The median seconds of one training step, and of one record per variant."""
    import numnet.nn.functional as F
    from numnet.tensor import Tensor
    from numnet.train.loop import Loop

    model, opt = _model_and_optimizer(X, hidden, seed)

    def step(i):
        start = (i * BATCH) % (len(X) - BATCH)
        opt.zero_grad()
        F.cross_entropy(
            model(Tensor._wrap(X[start : start + BATCH])), Tensor._wrap(y[start : start + BATCH])
        ).backward()
        opt.step()

    for i in range(10):  # warm up
        step(i)
    step_s = _median_time(step, 5 * rounds + 20)
    loop = Loop(model, opt, None, 1, 1)
    record_s = {}
    for v in VARIANTS[1:]:
        cb = _callbacks(v, X, y, every, probe_size)[0]
        record_s[v] = _median_time(
            lambda i, cb=cb: cb._record(loop, with_batch_grads=True), 3 * rounds + 5
        )
    return step_s, record_s


def measure(X, y, *, hidden=(256, 256), epochs=3, rounds=11, every=100, probe_size=BATCH,
            seed=0) -> dict:
    """Both measures, summarised (medians and percentages)."""
    runs = end_to_end(X, y, hidden=hidden, epochs=epochs, rounds=rounds, every=every,
                      probe_size=probe_size, seed=seed)
    step_s, record_s = per_record(X, y, hidden=hidden, rounds=rounds, every=every,
                                  probe_size=probe_size, seed=seed)
    times, cpu = runs["times"], runs["cpu"]
    med = {v: float(np.median(t)) for v, t in times.items()}

    def paired(clock):
        return {v: 100 * float(np.median(np.array(clock[v]) / np.array(clock["none"])) - 1)
                for v in VARIANTS[1:]}

    return {
        "model": f"MLP {X.shape[1]}-{'-'.join(map(str, hidden))}-10 ReLU, batch {BATCH}",
        "steps_per_run": epochs * -(-len(X) // BATCH),
        "every": every,
        "probe_size": probe_size,
        "rounds": rounds,
        "median_seconds": med,
        "records_per_run": runs["records"],
        "overhead_percent": {v: 100 * (med[v] / med["none"] - 1) for v in VARIANTS[1:]},
        "paired_overhead_percent": paired(times),
        "paired_cpu_overhead_percent": paired(cpu),
        "time_in_callback_percent": {v: float(np.median(t)) for v, t in runs["inside"].items()},
        "step_ms": 1e3 * step_s,
        "record_ms": {v: 1e3 * t for v, t in record_s.items()},
        "per_record_overhead_percent": {
            v: 100 * t / (every * step_s) for v, t in record_s.items()
        },
        "all_seconds": times,
        "all_cpu_seconds": cpu,
    }


def main(argv=None) -> int:
    from numnet.experiments._common import load_images

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None, help="MNIST (default: numnet's data root)")
    ap.add_argument("--rounds", type=int, default=11, help="interleaved rounds (>= 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 300 synthetic digits, one hidden layer of 32, 1 epoch")
    args = ap.parse_args(argv)
    if not args.quick and args.rounds < 5:
        ap.error("--rounds must be at least 5")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass
    data_dir = None if args.quick else args.data_dir  # quick: synthetic digits
    X, y, _, _, source = load_images(data_dir, quick=args.quick, seed=args.seed,
                                     n_train=10_000, n_test=None, quick_sizes=(300, 100))
    if args.quick:
        result = measure(X, y, hidden=(32,), epochs=1, rounds=1, seed=args.seed)
    else:
        result = measure(X, y, rounds=args.rounds, seed=args.seed)
    print(json.dumps({"data": source, **result}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
