"""Threads for the memory-bound NumPy passes (copies, elementwise updates).

BLAS runs the matrix products on its own threads; everything else in NumPy runs on
one core. NumPy releases the GIL inside its loops, so independent slices of a pass
(batch slices of an im2col copy, different parameters of an optimizer step) can run
in parallel on Python threads. The number of threads is ``$NUMNET_NUM_THREADS``, else
``$OMP_NUM_THREADS``, else the number of cores available; :func:`set_num_threads`
changes it.

The pool is fork-safe: a child made by ``os.fork()`` (multiprocessing's "fork" start
method, joblib, data-loading workers) inherits the pool object but none of its threads,
so the child forgets it and starts its own on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

_CORES: list[int] = []  # the number of cores available, measured once


def _default_threads() -> int:
    """``$NUMNET_NUM_THREADS``, else ``$OMP_NUM_THREADS``, else the cores available,
    read when called (not frozen at import: a value exported later is honoured)."""
    for var in ("NUMNET_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    if not _CORES:
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        _CORES.append(len(cores) if cores else (os.cpu_count() or 1))
    return _CORES[0]


# "n": the number set by set_num_threads, or None to read the environment when used
_threads = {"n": None, "executor": None}
_MIN_ITEMS_PER_THREAD = 4  # below this many items a pass is not split


def _forget_executor_after_fork() -> None:
    """In a child made by ``os.fork()``: drop the inherited pool.

    Only the forking thread survives a fork. The inherited executor still counts its
    workers as running, so it would never start new ones, and work submitted to it would
    wait forever. It is not shut down (its locks may have been held by a thread that no
    longer exists); it is just forgotten, and the next parallel pass creates a new one.
    """
    _threads["executor"] = None


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_forget_executor_after_fork)


def set_num_threads(n: int) -> None:
    """Number of threads for numnet's memory-bound passes (not BLAS's)."""
    if n < 1:
        raise ValueError(f"set_num_threads needs n >= 1, got {n}")
    old = _threads["executor"]
    _threads.update(n=int(n), executor=None)
    if old is not None:
        old.shutdown(wait=False)


def get_num_threads() -> int:
    """Threads for numnet's memory-bound passes: :func:`set_num_threads`'s value, else
    the environment's (``$NUMNET_NUM_THREADS``, ``$OMP_NUM_THREADS``), else the cores."""
    n = _threads["n"]
    return n if n is not None else _default_threads()


def _executor(workers: int) -> ThreadPoolExecutor:
    ex = _threads["executor"]
    if ex is None or ex._max_workers < workers:
        ex = _threads["executor"] = ThreadPoolExecutor(workers, thread_name_prefix="numnet")
    return ex


def parallel_batch(fn: Callable[[int, int], None], n: int) -> None:
    """Call ``fn(start, stop)`` on contiguous slices of ``range(n)``, one per thread."""
    t = min(get_num_threads(), n // _MIN_ITEMS_PER_THREAD)
    if t <= 1:
        fn(0, n)
        return
    bounds = [n * i // t for i in range(t + 1)]
    ex = _executor(t - 1)
    futures = [ex.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, t)]
    fn(bounds[0], bounds[1])
    for f in futures:
        f.result()


def parallel_tasks(tasks: Sequence[Callable[[], None]]) -> None:
    """Run independent callables, the first on this thread and the rest on the pool."""
    if len(tasks) <= 1:
        for task in tasks:
            task()
        return
    ex = _executor(len(tasks) - 1)
    futures = [ex.submit(task) for task in tasks[1:]]
    tasks[0]()
    for f in futures:
        f.result()


def balanced_bins(sizes: Sequence[int], n_bins: int) -> list[list[int]]:
    """Indices of ``sizes`` split into ``n_bins`` groups of similar total (largest first)."""
    bins: list[list[int]] = [[] for _ in range(n_bins)]
    totals = [0] * n_bins
    for i in sorted(range(len(sizes)), key=lambda k: -sizes[k]):
        b = totals.index(min(totals))
        bins[b].append(i)
        totals[b] += sizes[i]
    return [b for b in bins if b]
