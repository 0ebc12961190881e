"""Experiment grids: cells × seeds, run serially or on a Dask cluster, resumable.

A *grid* is a list of *cells* (named dicts of settings, e.g. one architecture and one
regularizer) times a list of *seeds*. Each *task* ``(cell, seed)`` is a pure function of
its settings: a picklable top-level function ``fn(settings, **context) -> dict`` that
returns its metrics (a JSON-able dict), where ``settings = {**cell, "seed": seed}`` and
``context`` holds what does not change the result (where the data are, verbosity).

Every finished task is written atomically to ``results_dir/<key>.json``, ``key`` being
the SHA-256 of the task's function name and settings as JSON with sorted keys. A re-run
reads these files and runs only the tasks that have none, so a killed run resumes where
it stopped, and a grid that gains a seed or a cell runs only the new tasks. A task that
raises (a diverged run, a bug) is reported in the result and does not stop the grid;
its file is not written, so the next run tries it again.

Where the tasks run:

* serially in this process (the default; Dask is not imported);
* ``workers=N``: a local Dask ``LocalCluster`` of N worker processes with one thread
  each, each task limited to a fair share of the cores for BLAS (``cores // N``,
  set by threadpoolctl around the task, not by environment variables);
* ``scheduler="tcp://host:8786"``: an existing Dask cluster (its workers need numnet
  and the data; results are written by this process, so they need no shared disk);
* ``client=``: a ``distributed.Client`` you already have.

Dask reschedules the tasks of a worker that dies; a task that kills its worker too
often (Dask's ``distributed.scheduler.allowed-failures``, 3 by default) is reported
as failed. Install with ``pip install "numnet[distributed]"``.

Example::

    from numnet.experiments.grid import run_grid

    def train(settings):            # top-level, in an importable module
        ...
        return {"test_error": err}

    result = run_grid(train, {"small": {"width": 64}, "large": {"width": 256}},
                      "runs/widths", seeds=3, workers=2)
    for cell, s in result.summary("test_error").items():
        print(cell, s.format())     # "1.62 ± 0.05 (n=3)"
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CellSummary",
    "GridResult",
    "Task",
    "TaskResult",
    "function_name",
    "make_tasks",
    "plot_error_bars",
    "run_grid",
    "settings_json",
    "task_key",
]

FORMAT_VERSION = 1


# -- tasks and keys ----------------------------------------------------------------------


def function_name(fn: Callable) -> str:
    """``module:qualname`` of a top-level function (what a task's key records)."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise ValueError(
            f"a grid task must be a top-level function (picklable by name), got {fn!r}"
        )
    return f"{module}:{qualname}"


def settings_json(settings: Mapping) -> str:
    """The canonical JSON of ``settings``: sorted keys, no spaces, ASCII.

    Raises
    ------
    TypeError
        If a value is not JSON-able (tuples become lists; NaN is refused).
    """
    try:
        return json.dumps(
            settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise TypeError(f"grid settings must be JSON-able: {exc}") from None


def task_key(fn: Callable | str, settings: Mapping) -> str:
    """The SHA-256 (hex) of the task: its function's name and its settings' JSON."""
    name = fn if isinstance(fn, str) else function_name(fn)
    text = settings_json({"function": name, "settings": dict(settings)})
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One task of a grid: a cell's name, a seed, and the settings passed to the task."""

    cell: str
    seed: int | None
    settings: dict


def make_tasks(cells: Mapping[str, Mapping] | Iterable[tuple[str, Mapping]], seeds) -> list[Task]:
    """The tasks of ``cells × seeds``, cell by cell.

    ``cells`` maps a cell's name to its settings; ``seeds`` is a number K (seeds
    0..K-1) or a list of seeds. Each task's settings are the cell's plus ``"seed"``.
    """
    items = list(cells.items() if isinstance(cells, Mapping) else cells)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("a grid needs at least one seed")
    if len(set(seed_list)) != len(seed_list):
        raise ValueError(f"repeated seeds: {seed_list}")
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"two cells share a name: {names}")
    tasks = []
    for name, settings in items:
        if "seed" in settings:
            raise ValueError(f"cell {name!r}: 'seed' is set by the grid, not by the cell")
        for seed in seed_list:
            tasks.append(Task(str(name), seed, {**settings, "seed": seed}))
    return tasks


# -- results -----------------------------------------------------------------------------


@dataclass
class TaskResult:
    """What a task returned (``metrics``), or why it failed (``error``)."""

    cell: str
    seed: int | None
    key: str
    settings: dict
    status: str  # "ok" or "failed"
    metrics: dict | None = None
    error: str | None = None
    cached: bool = False  # read from an earlier run's file
    seconds: float | None = None  # the task's own wall time (not a metric)
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class CellSummary:
    """A metric of one cell over its seeds: mean, sample standard deviation, best seed."""

    cell: str
    values: dict  # seed -> value, successful tasks only
    failed: int = 0
    lower_is_better: bool = True

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return math.fsum(self.values.values()) / self.n if self.n else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof = 1); None with fewer than two seeds."""
        if self.n < 2:
            return None
        m = self.mean
        return math.sqrt(math.fsum((v - m) ** 2 for v in self.values.values()) / (self.n - 1))

    @property
    def best_seed(self):
        if not self.n:
            return None
        pick = min if self.lower_is_better else max
        return pick(self.values, key=lambda s: (self.values[s], s) if self.lower_is_better
                    else (self.values[s], -s))

    @property
    def best(self) -> float | None:
        return None if not self.n else self.values[self.best_seed]

    def format(self, digits: int = 2, unit: str = "") -> str:
        """``"1.62 ± 0.05%"`` (``"1.62%"`` with one seed, ``"—"`` with none)."""
        if not self.n:
            return "—"
        if self.std is None:
            return f"{self.mean:.{digits}f}{unit}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}{unit}"


@dataclass
class GridResult:
    """Every task's result, in the grid's order, and what happened while running."""

    tasks: list[TaskResult]
    ran: int = 0  # tasks run by this call
    skipped: int = 0  # tasks read from earlier runs' files
    wall_seconds: float = 0.0
    worker_events: list[str] = field(default_factory=list)  # workers lost while running

    @property
    def failed(self) -> list[TaskResult]:
        return [t for t in self.tasks if not t.ok]

    def by_cell(self) -> dict[str, list[TaskResult]]:
        out: dict[str, list[TaskResult]] = {}
        for t in self.tasks:
            out.setdefault(t.cell, []).append(t)
        return out

    def metrics(self) -> dict[tuple[str, int | None], dict | None]:
        """``{(cell, seed): metrics}`` (None for a failed task)."""
        return {(t.cell, t.seed): t.metrics for t in self.tasks}

    def summary(
        self, metric: str | Callable[[dict], float], *, lower_is_better: bool = True
    ) -> dict[str, CellSummary]:
        """Per cell, ``metric`` (a key of the metrics, or a function of them) over seeds."""
        get = metric if callable(metric) else (lambda m: m[metric])
        out = {}
        for cell, tasks in self.by_cell().items():
            values = {t.seed: float(get(t.metrics)) for t in tasks if t.ok}
            out[cell] = CellSummary(cell, values, sum(not t.ok for t in tasks), lower_is_better)
        return out


# -- running a task (here or on a worker) ------------------------------------------------


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _blas_share(blas_threads) -> int | None:
    """``blas_threads`` as a number: an int, None (no limit), or a {host: n} map (Dask)."""
    if blas_threads is None or isinstance(blas_threads, int):
        return blas_threads
    share = blas_threads.get(socket.gethostname())
    if share is None:  # a worker that joined later: its own threads' share of the cores
        try:
            from distributed import get_worker

            share = max(1, _cores() // max(1, get_worker().state.nthreads))
        except (ImportError, ValueError, AttributeError):
            share = None
    return share


def execute_task(fn: Callable, settings: dict, context: dict, blas_threads=None) -> dict:
    """Run one task and return ``{"status", "metrics" | "error", "seconds", "worker"}``.

    Exceptions of ``fn`` are caught and returned (``status: "failed"``). BLAS (and
    numnet's own split passes) are limited to ``blas_threads`` threads while it runs;
    numnet's default generator is seeded from the settings and restored afterwards.
    """
    import contextlib

    from numnet import parallel
    from numnet import random as nn_random

    share = _blas_share(blas_threads)
    limit = parallel._blas_limit(share) if share else contextlib.nullcontext()
    saved_threads, saved_default = parallel._threads["n"], nn_random._default
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        if share:
            parallel.set_num_threads(share)
        nn_random.manual_seed(int(task_key(fn, settings)[:15], 16))
        with limit:
            metrics = fn(dict(settings), **(context or {}))
        if not isinstance(metrics, dict):
            raise TypeError(f"a grid task must return a dict, got {type(metrics).__name__}")
        settings_json(metrics)  # JSON-able, or the task fails here (not when written)
    except Exception as exc:  # noqa: BLE001 (reported, the grid goes on)
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - t0,
            "worker": worker,
        }
    finally:
        parallel._threads["n"] = saved_threads
        nn_random._default = saved_default
    return {
        "status": "ok",
        "metrics": metrics,
        "seconds": time.perf_counter() - t0,
        "worker": worker,
    }


# -- result files ------------------------------------------------------------------------


def _load_done(path: Path, name: str, settings: dict) -> dict | None:
    """The saved record of a finished task, or None (missing, damaged, or another task)."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("status") != "ok":
        return None
    if saved.get("function") != name or saved.get("settings") != json.loads(
        settings_json(settings)
    ):
        return None
    return saved if isinstance(saved.get("metrics"), dict) else None


def _save_done(path: Path, name: str, task: Task, key: str, record: dict) -> None:
    from numnet._files import atomic_write_bytes

    saved = {
        "format_version": FORMAT_VERSION,
        "function": name,
        "key": key,
        "cell": task.cell,
        "seed": task.seed,
        "settings": task.settings,
        "status": "ok",
        "metrics": record["metrics"],
        "seconds": round(record["seconds"], 3),
        "worker": record.get("worker"),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    atomic_write_bytes(path, (json.dumps(saved, indent=1, allow_nan=False) + "\n").encode())


# -- progress ----------------------------------------------------------------------------


class _Progress:
    """One bar for the grid (tqdm if installed, else a line per task on stderr)."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool):
        self.bar = None
        self.enabled = enabled
        self.done, self.total, self.failed = initial, total, 0
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="task", dynamic_ncols=True)

    def write(self, message: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def step(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.bar is not None:
            if self.failed:
                self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)
        elif self.enabled:
            print(f"  {self.done}/{self.total} tasks done", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# -- the runner --------------------------------------------------------------------------


def run_grid(
    fn: Callable,
    cells: Mapping[str, Mapping] | Iterable[Task],
    results_dir,
    *,
    seeds=None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    context: Mapping | None = None,
    blas_threads: int | None = None,
    progress: bool = True,
    desc: str = "grid",
) -> GridResult:
    """Run the tasks of a grid that have no result file yet; return every task's result.

    Parameters
    ----------
    fn : callable
        A top-level function ``fn(settings, **context) -> dict`` of JSON-able metrics.
    cells : mapping or list of Task
        ``{name: settings}`` (with ``seeds``), or tasks made by :func:`make_tasks`.
    results_dir : path
        Where ``<key>.json`` of each finished task is written (created if needed).
    seeds : int or list of int
        With a mapping of cells: K (seeds 0..K-1) or the seeds.
    workers : int, optional
        Run on a local Dask cluster of this many processes (one thread each).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    client : distributed.Client, optional
        An existing client (not closed here).
    context : mapping, optional
        Keyword arguments for every task that do not change its result (not hashed).
    blas_threads : int, optional
        BLAS threads per task. Default: no limit serially, ``cores // workers`` on a
        local cluster, each host's cores over its worker threads on a scheduler.
    progress : bool
        Show one progress bar for the grid (tasks done/total, ETA) and report failures.

    Returns
    -------
    GridResult
        One :class:`TaskResult` per task, in the grid's order.
    """
    tasks = _grid_tasks(cells, seeds, workers, scheduler, client)
    name = function_name(fn)
    context = dict(context or {})
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    results, pending = _saved_results(tasks, name, out)
    skipped = sum(r is not None for r in results)
    grid = GridResult([], skipped=skipped)
    bar = _Progress(len(tasks), skipped, desc, progress)

    def finish(key: str, record: dict) -> None:
        first = tasks[pending[key][0]]
        if record["status"] == "ok":
            _save_done(out / f"{key}.json", name, first, key, record)
        else:
            bar.write(
                f"task failed: cell {first.cell!r}, seed {first.seed} "
                f"(on {record.get('worker') or '?'}): {record['error']}"
            )
        for i in pending[key]:
            t = tasks[i]
            results[i] = TaskResult(
                t.cell, t.seed, key, t.settings, record["status"], record.get("metrics"),
                record.get("error"), seconds=record.get("seconds"), worker=record.get("worker"),
            )
            bar.step(record["status"] == "ok")
        grid.ran += 1

    try:
        if workers is None and scheduler is None and client is None:
            for key, indices in pending.items():
                finish(key, execute_task(fn, tasks[indices[0]].settings, context, blas_threads))
        elif pending:
            _run_dask(
                fn, tasks, pending, context, finish, bar, grid,
                workers=workers, scheduler=scheduler, client=client, blas_threads=blas_threads,
            )
    finally:
        bar.close()
    grid.tasks = [r for r in results if r is not None]
    grid.wall_seconds = time.perf_counter() - t_start
    if len(grid.tasks) != len(tasks):  # interrupted: the caller gets the exception instead
        raise RuntimeError("grid interrupted")  # pragma: no cover
    return grid


def _grid_tasks(cells, seeds, workers, scheduler, client) -> list[Task]:
    """:func:`run_grid`'s tasks, after checking its arguments."""
    if sum(x is not None for x in (workers, scheduler, client)) > 1:
        raise ValueError("give at most one of workers=, scheduler= and client=")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if isinstance(cells, Mapping):
        return make_tasks(cells, 1 if seeds is None else seeds)
    if seeds is not None:
        raise ValueError("seeds= goes with a mapping of cells, not with a list of tasks")
    return list(cells)


def _saved_results(tasks: list[Task], name: str, out: Path):
    """The results of the tasks finished earlier (None for the others), and the pending
    tasks' indices by key (a task listed twice runs once)."""
    results: list[TaskResult | None] = [None] * len(tasks)
    pending: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        key = task_key(name, task.settings)
        saved = _load_done(out / f"{key}.json", name, task.settings)
        if saved is not None:
            results[i] = TaskResult(
                task.cell, task.seed, key, task.settings, "ok", saved["metrics"],
                cached=True, seconds=saved.get("seconds"), worker=saved.get("worker"),
            )
        else:
            pending.setdefault(key, []).append(i)
    return results, pending


def _dask_missing(exc: ImportError) -> ImportError:
    return ImportError(
        "running a grid on workers or a scheduler needs Dask: "
        f'pip install "numnet[distributed]" ({exc})'
    )


def _workers(client) -> dict:
    """The scheduler's workers by address (all of them)."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # older distributed: every worker, no argument
        return client.scheduler_info()["workers"]


def _host_shares(client) -> dict[str, int]:
    """Per host: its cores over the worker threads it runs (each task's BLAS threads)."""
    info = _workers(client)
    cores = client.run(_cores)
    hosts = client.run(socket.gethostname)
    threads: dict[str, int] = {}
    host_cores: dict[str, int] = {}
    for address, w in info.items():
        host = hosts.get(address)
        if host is None:
            continue
        threads[host] = threads.get(host, 0) + int(w.get("nthreads", 1))
        host_cores[host] = int(cores.get(address, 1))
    return {h: max(1, host_cores[h] // threads[h]) for h in threads}


def _run_dask(fn, tasks, pending, context, finish, bar, grid, *, workers, scheduler, client,
              blas_threads):
    try:
        from distributed import Client, LocalCluster, wait
    except ImportError as exc:
        raise _dask_missing(exc) from None

    cluster = own_client = None
    try:
        if client is None:
            if scheduler is not None:
                own_client = client = Client(scheduler)
            else:
                cluster = LocalCluster(
                    n_workers=workers, processes=True, threads_per_worker=1,
                    dashboard_address=None,
                )
                own_client = client = Client(cluster)
        if blas_threads is None:
            if workers is not None:
                blas_threads = max(1, _cores() // workers)
            else:
                blas_threads = _host_shares(client)
        futures = {}
        for key, indices in pending.items():
            future = client.submit(
                execute_task, fn, tasks[indices[0]].settings, context, blas_threads,
                key=f"numnet-grid-{key[:16]}-{uuid.uuid4().hex[:8]}", pure=False,
            )
            futures[future] = key
        known = set(_workers(client))
        left = set(futures)
        while left:
            try:
                done, left = wait(left, timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for future in done:
                key = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # noqa: BLE001 (a lost worker, a pickling error)
                    record = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                finish(key, record)
            current = set(_workers(client))
            for address in sorted(known - current):
                message = f"worker {address} lost; Dask reschedules its tasks"
                grid.worker_events.append(message)
                bar.write(message)
            known = current
    finally:
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()


# -- figures -----------------------------------------------------------------------------


def plot_error_bars(ax, summaries: Mapping[str, CellSummary], *, reference=None,
                    label: str = "ours (mean ± std)", reference_label: str = "seed",
                    ylabel: str | None = None) -> None:
    """A point per cell at its mean with a ± standard deviation bar, the best seed as
    a cross, and an optional ``reference`` value per cell (``{cell: value}``) beside it."""
    names = list(summaries)
    x = list(range(len(names)))
    mean = [summaries[n].mean if summaries[n].n else math.nan for n in names]
    std = [summaries[n].std or 0.0 for n in names]
    ax.errorbar(x, mean, yerr=std, fmt="o", capsize=4, label=label)
    best = [summaries[n].best if summaries[n].n else math.nan for n in names]
    ax.plot(x, best, "x", color="C2", label="best seed")
    if reference:
        ref = [reference.get(n, math.nan) for n in names]
        ax.plot([i + 0.15 for i in x], ref, "s", color="gray", label=reference_label)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
