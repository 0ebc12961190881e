"""The grid's benchmark: the --quick MLP table with K seeds, serial vs --workers N.

    python benchmarks/grid_tables.py [--seeds 3] [--workers 2] [--data-dir DIR]

Without ``--data-dir`` (or $NUMNET_DATA holding MNIST), an MNIST-sized stand-in (60,000
+ 10,000 random 28x28 "digits", class k lighting up a row block) is written to a
temporary folder: quick mode trains on a 10,000-image subset either way, so the cost
per task is MNIST's. Prints one JSON line: serial and parallel wall times, their ratio,
the summed task times, Dask's cluster start-up and its overhead per task (a grid of
no-op tasks on the same cluster size, minus the cluster start-up).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def fake_mnist(root: Path) -> Path:
    from numnet.data import write_idx

    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60000), ("t10k", 10000)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for k in range(10):
            X[y == k, 2 * k + 4 : 2 * k + 7, 4:24] = 255
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", X)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y)
    return root


def noop(settings: dict) -> dict:
    return {"seed": settings["seed"]}


def main() -> None:
    from numnet.experiments import _table_grid, grid

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--noop-tasks", type=int, default=200)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="numnet-grid-bench-"))
    try:
        data_dir = args.data_dir or fake_mnist(work / "mnist")
        times = {}
        for mode, workers in (("serial", None), (f"workers={args.workers}", args.workers)):
            t0 = time.perf_counter()
            summary = _table_grid.run_mlp_grid(
                work / mode, quick=True, data_dir=data_dir, seeds=args.seeds,
                workers=workers, verbose=1,
            )
            times[mode] = {
                "wall_seconds": round(time.perf_counter() - t0, 1),
                "task_seconds": summary["task_seconds"],
                "tasks": summary["tasks"],
                "failed": summary["failed"],
            }
        # Dask's own cost: start-up, then no-op tasks
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1,
                               dashboard_address=None)
        client = Client(cluster)
        startup = time.perf_counter() - t0
        cells = {"noop": {}}
        t0 = time.perf_counter()
        grid.run_grid(noop, cells, work / "noop", seeds=args.noop_tasks, client=client,
                      progress=False)
        per_task = (time.perf_counter() - t0) / args.noop_tasks
        t0 = time.perf_counter()
        grid.run_grid(noop, cells, work / "noop-serial", seeds=args.noop_tasks, progress=False)
        per_task_serial = (time.perf_counter() - t0) / args.noop_tasks
        client.close()
        cluster.close()
        serial, parallel = times["serial"], times[f"workers={args.workers}"]
        print(json.dumps({
            "seeds": args.seeds,
            "workers": args.workers,
            **times,
            "speedup": round(serial["wall_seconds"] / parallel["wall_seconds"], 2),
            "dask_cluster_startup_seconds": round(startup, 2),
            "dask_seconds_per_noop_task": round(per_task, 4),
            "serial_seconds_per_noop_task": round(per_task_serial, 4),
        }, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
