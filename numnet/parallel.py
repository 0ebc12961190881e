"""Threads: batch-split data parallelism for a training step, and split NumPy passes.

Data parallelism inside one process
-----------------------------------
:func:`data_parallel_step` computes the gradients of one minibatch with ``num_threads``
Python threads: the batch is cut into contiguous shards, each thread runs the forward
pass and :func:`numnet.autograd.grad` on its shard (NumPy and BLAS release the GIL), and
the shard gradients are summed into ``.grad`` exactly as the whole-batch loss gives
them: a loss with ``reduction="mean"`` weighs shard ``k`` by ``n_k / N`` (the mean over
the whole batch, not the mean of the shard means), ``"sum"`` by 1. While the step runs,
BLAS is limited to one thread with threadpoolctl (a scoped limit, undone when the step
returns; it is process-wide while active), so each core runs one shard's products and
memory-bound passes with no spinning BLAS workers competing for it. Nothing survives
the step: the threads are started and joined inside it, so there is no pool to break
after ``fork``.

Random layers. Inside a step, :func:`dropout_mask` (used by ``F.dropout``) gives each
shard its rows of the mask that the *unsplit* step would draw: the first shard to
reach the ``i``-th dropout call draws the whole batch's mask from the generator (under
a lock, in call order, so the generator advances exactly as in an unsplit step) and
every shard takes its rows. A split step is therefore reproducible and uses the same
masks as an unsplit one.

What does not split exactly: a loss whose mean is not over the batch rows (class
weights, ``ignore_index``), and any layer that mixes samples of a batch (none in
numnet today; batch normalisation would).

Split NumPy passes
------------------
Outside a data-parallel step, :func:`parallel_batch` splits a memory-bound NumPy pass
(an im2col copy, col2im adds, pooling, a large ReLU) over the batch on
``get_num_threads()`` threads started for the call and joined before it returns (no
global pool: a child made by ``os.fork()`` inherits no thread and no executor). Inside
a data-parallel step each worker runs its passes on its own thread.

The number of threads is ``$NUMNET_NUM_THREADS``, else ``$OMP_NUM_THREADS``, else the
number of cores available, read when used; :func:`set_num_threads` changes it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Callable, Sequence

import numpy as np

_CORES: list[int] = []  # the number of cores available, measured once (same after fork)


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


_threads: dict = {"n": None}  # the number set by set_num_threads, or None: the environment
_local = threading.local()  # per thread: "n" (a worker's own count), "shard" (its shard)
_MIN_ITEMS_PER_THREAD = 4  # below this many items a pass is not split


def set_num_threads(n: int) -> None:
    """Number of threads for numnet's data-parallel steps and split passes (not BLAS's)."""
    if n < 1:
        raise ValueError(f"set_num_threads needs n >= 1, got {n}")
    _threads["n"] = int(n)


def get_num_threads() -> int:
    """Threads for numnet's parallel work: :func:`set_num_threads`'s value, else the
    environment's (``$NUMNET_NUM_THREADS``, ``$OMP_NUM_THREADS``), else the cores.
    Inside a data-parallel worker: 1."""
    local = getattr(_local, "n", None)
    if local is not None:
        return local
    n = _threads["n"]
    return n if n is not None else _default_threads()


def _run_threads(tasks: Sequence[Callable[[], None]], setup=None) -> None:
    """Run ``tasks[0]`` here and the others on threads started now; re-raise the first
    error. ``setup(i)`` (optional) runs first on the thread of task ``i``."""
    errors: list[BaseException | None] = [None] * len(tasks)
    # each thread runs in a copy of the caller's context (``kernels.disabled()`` and the
    # like hold there too); one copy per thread, as a Context is entered by one at a time
    contexts = [contextvars.copy_context() for _ in tasks]

    def run(i: int) -> None:
        try:
            if setup is not None:
                setup(i)
            contexts[i].run(tasks[i])
        except BaseException as exc:  # noqa: BLE001 (re-raised on the calling thread)
            errors[i] = exc

    threads = [
        threading.Thread(target=run, args=(i,), name=f"numnet-{i}", daemon=True)
        for i in range(1, len(tasks))
    ]
    for t in threads:
        t.start()
    try:
        tasks[0]()
    finally:
        for t in threads:
            t.join()
    for exc in errors:
        if exc is not None:
            raise exc


def parallel_batch(fn: Callable[[int, int], None], n: int, *, blas: bool = False) -> None:
    """Call ``fn(start, stop)`` on contiguous slices of ``range(n)``, one per thread.

    ``blas=True``: ``fn`` calls BLAS, which is then limited to one thread while the
    threads run (as in a data-parallel step), so that the BLAS threads of concurrent
    calls do not compete for the cores."""
    t = min(get_num_threads(), n // _MIN_ITEMS_PER_THREAD)
    if t <= 1:
        fn(0, n)
        return
    bounds = [n * i // t for i in range(t + 1)]
    tasks = [lambda i=i: fn(bounds[i], bounds[i + 1]) for i in range(t)]
    if blas:
        with one_blas_thread():
            _run_threads(tasks, setup=_single_threaded)
    else:
        _run_threads(tasks, setup=_single_threaded)


def parallel_tasks(tasks: Sequence[Callable[[], None]]) -> None:
    """Run independent callables, the first on this thread and the rest on new threads."""
    if len(tasks) <= 1:
        for task in tasks:
            task()
        return
    _run_threads(list(tasks), setup=_single_threaded)


def _single_threaded(i: int) -> None:
    _local.n = 1


def balanced_bins(sizes: Sequence[int], n_bins: int) -> list[list[int]]:
    """Indices of ``sizes`` split into ``n_bins`` groups of similar total (largest first)."""
    bins: list[list[int]] = [[] for _ in range(n_bins)]
    totals = [0] * n_bins
    for i in sorted(range(len(sizes)), key=lambda k: -sizes[k]):
        b = totals.index(min(totals))
        bins[b].append(i)
        totals[b] += sizes[i]
    return [b for b in bins if b]


# -- data parallelism ---------------------------------------------------------------------
class _Shard:
    """What a worker of a data-parallel step knows about its part of the batch."""

    __slots__ = ("start", "stop", "total", "masks", "lock", "calls")

    def __init__(self, start: int, stop: int, total: int, masks: dict, lock) -> None:
        self.start, self.stop, self.total = start, stop, total
        self.masks, self.lock, self.calls = masks, lock, 0


def dropout_mask(rng: np.random.Generator, shape: tuple, p: float) -> np.ndarray:
    """The keep-mask ``U[0, 1) >= p`` of a dropout layer, of ``shape``.

    Outside a data-parallel step: drawn from ``rng``. Inside one: this shard's rows of
    the mask the unsplit step would draw (see the module docstring), so a split step
    uses the same masks, reproducibly.
    """
    shard = getattr(_local, "shard", None)
    if shard is None:
        return rng.random(shape, dtype=np.float32) >= p
    i = shard.calls
    shard.calls += 1
    if not shape or shape[0] != shard.stop - shard.start:
        raise RuntimeError(
            f"dropout inside a data-parallel step: the input of shape {tuple(shape)} does "
            f"not have the shard's {shard.stop - shard.start} rows along axis 0 (the batch "
            "axis must come first to split a step)"
        )
    with shard.lock:
        full = shard.masks.get(i)
        if full is None:
            full = rng.random((shard.total, *shape[1:]), dtype=np.float32) >= p
            shard.masks[i] = full
    return full[shard.start : shard.stop]


_CONTROLLERS: dict[tuple[int, int], object] = {}  # threadpoolctl's library scan, per
# process id and number of imported modules: a child made by fork scans again, and so
# does a process that imported more since (SciPy brings its own OpenBLAS, for one)


def _blas_limit(threads: int):
    """A context manager limiting BLAS to ``threads`` threads (threadpoolctl), or a
    no-op when threadpoolctl is not installed."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext()
    key = (os.getpid(), len(sys.modules))
    controller = _CONTROLLERS.get(key)
    if controller is None:
        _CONTROLLERS.clear()
        controller = _CONTROLLERS[key] = ThreadpoolController()
    return _controlled_limit(controller, threads)


@contextlib.contextmanager
def _controlled_limit(controller, threads: int):
    """``controller.limit(threads)``, set and restored by whichever thread calls.

    threadpoolctl >= 3.8 lets only one "controlling" thread change a pthreads OpenBLAS
    (the first to set it, while it is alive) and silently ignores the others. numnet's
    limits are entered and left from different threads (the counted limit below: the
    last caller out restores what the first one in saved), so each call releases that
    control first; numnet's own lock orders the calls. Without it, the restore was
    sometimes dropped and BLAS stayed at one thread for the rest of the process.
    """
    _release_blas_control()
    limiter = controller.limit(limits=threads, user_api="blas")
    try:
        yield limiter
    finally:
        _release_blas_control()
        limiter.restore_original_limits()
        _release_blas_control()


def _release_blas_control() -> None:
    """Let the calling thread set OpenBLAS's thread count (threadpoolctl >= 3.8)."""
    try:
        from threadpoolctl import OpenBLASController
    except ImportError:  # older threadpoolctl: no controlling thread
        return
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


class _Limit:
    """The process's one-BLAS-thread limit, shared by concurrent callers: threadpoolctl's
    limit is process-wide and restores what it saw on entry, so two overlapping limits
    entered from two threads would leave BLAS at one thread when the later one exits.
    Counted instead: the first caller in sets the limit, the last one out restores."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.active = None


_LIMIT = _Limit()


def _limit_after_fork_in_child() -> None:
    global _LIMIT
    _LIMIT = _Limit()  # the parent's lock may be held by a thread the child does not have


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_limit_after_fork_in_child)


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread for the duration of the block (the split passes and
    data-parallel steps, whose own threads each run single-threaded BLAS).

    Safe to enter from several threads at once: the limit is set by the first and
    lifted by the last (:class:`_Limit`). BLAS is process-wide, so other threads'
    products run single-threaded while any such block is active. A no-op without
    threadpoolctl."""
    state = _LIMIT
    with state.lock:
        if state.depth == 0:
            limit = _blas_limit(1)
            limit.__enter__()
            state.active = limit
        state.depth += 1
    try:
        yield
    finally:
        with state.lock:
            state.depth -= 1
            if state.depth == 0:
                limit, state.active = state.active, None
                limit.__exit__(None, None, None)


def can_split() -> bool:
    """Whether BLAS can be limited per step (threadpoolctl is installed)."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


def _reduction(loss_fn, reduction: str | None) -> str:
    if reduction is None:
        reduction = getattr(loss_fn, "reduction", "mean")
    if reduction not in ("mean", "sum"):
        raise ValueError(
            f"data_parallel_step: reduction must be 'mean' or 'sum' (a scalar loss over "
            f"the batch), got {reduction!r}"
        )
    return reduction


def data_parallel_step(
    model,
    loss_fn,
    x,
    y,
    *,
    num_threads: int | None = None,
    reduction: str | None = None,
    return_output: bool = False,
):
    """Forward and backward of one minibatch, split over ``num_threads`` threads.

    Equivalent to ``loss = loss_fn(model(x), y); loss.backward()``: the gradients of the
    whole-batch loss are **added** to each parameter's ``.grad`` (call
    ``optimizer.zero_grad()`` before, ``optimizer.step()`` after, as usual).

    Parameters
    ----------
    model : callable ``x -> output`` whose parameters are ``model.parameters()``
        Rows (axis 0) of ``x`` must be independent samples.
    loss_fn : callable ``(output, target) -> scalar Tensor``
    x, y : arrays or Tensors with the batch along axis 0
    num_threads : int, optional
        Shards (threads); default :func:`get_num_threads`. 1 runs the plain step.
    reduction : ``'mean'`` or ``'sum'``, optional
        How ``loss_fn`` reduces over the batch; default ``loss_fn.reduction`` if it
        has one, else ``'mean'`` (the functional losses' default).
    return_output : bool
        Also return the model's output for the whole batch (a Tensor, no graph).

    Returns
    -------
    The whole-batch loss as a 0-d Tensor without a graph (and the output if asked).
    """
    from numnet.autograd.engine import is_grad_enabled
    from numnet.tensor import Tensor

    if not is_grad_enabled():
        raise RuntimeError("data_parallel_step needs gradient recording (not under no_grad)")
    reduction = _reduction(loss_fn, reduction)
    xa = x.data if isinstance(x, Tensor) else np.asarray(x)
    ya = y.data if isinstance(y, Tensor) else np.asarray(y)
    n = len(xa)
    if len(ya) != n:
        raise ValueError(f"data_parallel_step: x has {n} rows but y has {len(ya)}")
    t = max(1, min(get_num_threads() if num_threads is None else int(num_threads), n))
    params = [p for p in model.parameters() if p.requires_grad]
    if t == 1:
        out = model(Tensor._wrap(xa))
        loss = loss_fn(out, Tensor._wrap(ya))
        loss.backward()
        result = Tensor._wrap(loss.data)
        return (result, Tensor._wrap(out.data)) if return_output else result

    losses, outputs, grads = _run_shards(model, loss_fn, xa, ya, t, params, reduction)
    _add_shard_grads(params, grads)
    value = sum(v * w for v, w, _ in losses)
    result = Tensor._wrap(np.asarray(value, dtype=losses[0][2]))
    if return_output:
        return result, Tensor._wrap(np.concatenate(outputs))
    return result


def _run_shards(model, loss_fn, xa, ya, t: int, params: list, reduction: str):
    """Forward and ``grad`` of ``t`` row shards of the batch, one thread each (BLAS
    single-threaded). Returns per shard: ``(loss, weight, dtype)``, the output array and
    the gradients of the shard's loss times its weight in the whole-batch loss."""
    from numnet.autograd.engine import grad as autograd_grad
    from numnet.tensor import Tensor

    n = len(xa)
    bounds = [n * i // t for i in range(t + 1)]
    masks: dict[int, np.ndarray] = {}
    lock = threading.Lock()
    losses: list = [None] * t
    outputs: list = [None] * t
    grads: list = [None] * t

    def shard(k: int) -> None:
        a, b = bounds[k], bounds[k + 1]
        _local.shard = _Shard(a, b, n, masks, lock)
        prev = getattr(_local, "n", None)
        _local.n = 1
        try:
            out = model(Tensor._wrap(xa[a:b]))
            loss = loss_fn(out, Tensor._wrap(ya[a:b]))
            weight = (b - a) / n if reduction == "mean" else 1.0
            grads[k] = autograd_grad(
                loss, params, grad_outputs=np.asarray(weight, loss.dtype), allow_unused=True
            )
            losses[k] = (float(loss.item()), weight, loss.dtype)
            outputs[k] = out.data
        finally:
            _local.shard = None
            _local.n = prev

    with one_blas_thread():
        _run_threads([lambda k=k: shard(k) for k in range(t)])
    return losses, outputs, grads


def _add_shard_grads(params: list, grads: list) -> None:
    """Add the shards' gradients of each parameter into its ``.grad`` (like backward)."""
    for i, p in enumerate(params):
        total = None
        for shard_grads in grads:
            g = shard_grads[i]
            if g is None:
                continue
            if total is None:
                total = g.data  # owned: grad() returns the caller's arrays
            else:
                total += g.data
        if total is None:
            continue
        if p.grad is None:
            p.grad = total
        else:
            p.grad = np.asarray(p.grad + total)
