"""Optional compiled kernels (Numba) for the memory-bound passes of the hot path.

:mod:`numnet.ops` is the readable NumPy reference (the lecture formulas). When Numba
is installed (``pip install numnet[fast]``), a few passes that NumPy can only express
as several strided sweeps run as compiled loops instead, dispatched from the ops:

* col2im reading ``δX̂`` in memory order, chunk by chunk of samples so that
  ``δX̂ = δŶ Ŵ`` (one GEMM per chunk) stays in cache. With the kernels enabled,
  :func:`numnet.ops.conv2d` runs all its products on such chunks (X̂ formed while in
  cache, and formed again in the VJP instead of stored);
* max-pooling forward (maximum and first arg-max in one pass) and backward, for
  non-overlapping windows (:func:`numnet.ops.max_pool2d`);
* the SGD momentum update in one pass (``v ← μv + g; θ ← θ − lr·v``);
* the Adam/AdamW update in one pass instead of eleven (the reference's operations in
  their order: the same bits). It starts once a parameter's updates have done enough
  work to pay for importing Numba (:func:`pays_to_load`), so a short fit of a small
  data set (a few hundred steps) does not import Numba for nothing.

They compute the same values as the reference (the pooling arg-max with the same tie
rule; float32 results within 1e-5 relative,
``tests/kernels/test_compiled_kernels.py``). Every kernel is
``nogil`` (the data-parallel threads of :mod:`numnet.parallel` run them side by side),
``cache=True`` (compiled once per install and CPU, then loaded from the on-disk cache)
and compiled lazily, on its first call: ``import numnet`` does not import Numba.

Without Numba, or with ``NUMNET_DISABLE_NUMBA=1`` in the environment (read at each use),
or inside ``with numnet.kernels.disabled():`` (this thread and the threads numnet
starts from it), the reference path runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import os
import sys

_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "numnet_kernels_disabled", default=False
)
_found: dict[str, bool] = {}  # whether Numba is installed (per process; same after fork)


def numba_installed() -> bool:
    """Whether Numba can be imported (looked up once, without importing it)."""
    found = _found.get("numba")
    if found is None:
        try:
            found = importlib.util.find_spec("numba") is not None
        except (ImportError, ValueError):
            found = False
        _found["numba"] = found
    return found


def enabled() -> bool:
    """Whether the ops use the compiled kernels now: Numba is installed,
    ``$NUMNET_DISABLE_NUMBA`` is unset (or 0) and no :func:`disabled` block is active."""
    if _disabled.get():
        return False
    if os.environ.get("NUMNET_DISABLE_NUMBA", "") not in ("", "0"):
        return False
    return numba_installed()


@contextlib.contextmanager
def disabled():
    """Run the NumPy reference path inside this block (this thread's context only)."""
    token = _disabled.set(True)
    try:
        yield
    finally:
        _disabled.reset(token)


IMPORT_COST_ELEMENTS = 2e8  # importing Numba + loading a cached kernel ≈ 0.2 s ≈ the time
# a fused Adam saves on 2e8 element updates (≈ 1 ns each: benchmarks/bench_sklearn_mlp.py)


def loaded() -> bool:
    """Whether the compiled kernels module is imported already (no import cost left)."""
    return "numnet.kernels._compiled" in sys.modules


def pays_to_load(steps: int, size: int) -> bool:
    """Whether a fused update of ``size`` elements at step ``steps`` should use its kernel:
    the kernels are loaded already, or ``steps × size`` element updates have earned back
    the one-time import (:data:`IMPORT_COST_ELEMENTS`)."""
    return loaded() or steps * size >= IMPORT_COST_ELEMENTS


def get(name: str):
    """The compiled kernel ``name`` (imports Numba and the kernel module on first use;
    the kernel itself compiles on its first call, or loads from Numba's cache)."""
    from numnet.kernels import _compiled

    return getattr(_compiled, name)


__all__ = ["disabled", "enabled", "get", "loaded", "numba_installed", "pays_to_load"]
