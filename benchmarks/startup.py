"""Start-up cost of the compiled fast path: cold and warm Numba cache.

Runs, each in a fresh process, NumPy imported first:

* ``numnet demo --epochs 5 --out ''`` (the README's first command, shortened);
* one ConvNet training step at batch 128 (bench_convnet.py's model), from ``import numnet``
  to the step's end;

three ways: with an **empty** Numba cache (a new ``NUMBA_CACHE_DIR`` for that process:
every kernel compiles, the first run after an install or on a new CPU), with the
**warm** cache the cold run left, and on the reference path (``NUMNET_DISABLE_NUMBA=1``,
as without Numba). The environment variables are set for the child processes only.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/startup.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

STEP = """
import time
t0 = time.perf_counter()
import numpy as np
import numnet
import numnet.nn.functional as F
from numnet import models, optim
m = models.convnet(generator=0)
opt = optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
x = np.random.default_rng(0).random((128, 1, 28, 28), dtype=np.float32)
y = np.arange(128) % 10
opt.zero_grad()
F.cross_entropy(m(numnet.Tensor(x)), numnet.Tensor(y)).backward()
opt.step()
print(time.perf_counter() - t0)
"""


def timed(cmd, env) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    cmds = {
        "numnet demo": [sys.executable, "-m", "numnet", "demo", "--epochs", "5", "--out", ""],
        "one ConvNet step": [sys.executable, "-c", STEP],
    }
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()}")
    results: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds):
        for name, cmd in cmds.items():
            with tempfile.TemporaryDirectory() as cache:
                base = dict(os.environ, NUMBA_CACHE_DIR=cache)
                runs = {
                    "cold cache": base,
                    "warm cache": base,  # the cache the cold run just wrote
                    "no Numba": dict(base, NUMNET_DISABLE_NUMBA="1"),
                }
                for how, env in runs.items():
                    results.setdefault((name, how), []).append(timed(cmd, env))
        print(f"round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.2f})", flush=True)
    print("\nwall seconds per process, median (min-max):")
    for (name, how), v in results.items():
        print(f"  {name:18s} {how:11s} {statistics.median(v):6.2f} ({min(v):.2f}-{max(v):.2f})")
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
