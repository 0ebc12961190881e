"""Recycled memory for the large arrays of the hot path.

A training step allocates the same large arrays every time: activations, their
gradients, weight gradients. Fresh memory of a megabyte or more comes straight from
the operating system (glibc serves it with ``mmap`` and unmaps it on ``free``), so
every step pays a page fault per 4 KiB of it: 12.8 MB of ReLU output cost 1.5 ms of
faults before a single value is written, more than the ReLU itself; in one measured
process a plain NumPy MLP epoch took 2.85 s instead of 1.78 s for this reason alone.

:func:`empty` returns an array from a cache of earlier ones instead. An array is
handed out again only when **nothing else refers to it**: no tensor, no view (a view
refers to its base), no autograd graph, no user variable. That is decided with
``sys.getrefcount``, the same test NumPy uses to reuse temporaries in place, so
recycling never changes what a program computes. Arrays that are still referenced
simply stay in use; the cache then allocates a new one.

The count a free array shows is not a constant fixed once at import: it depends on the
interpreter (3.14 borrows references from local variables) and on whether a tracer or
debugger has snapshotted a frame's locals (``frame.f_locals`` holds one more reference
on 3.10-3.12). Every search therefore first counts a *sentinel*, a new empty array in a
new list, which nothing else can refer to, and compares each cached array's count with
it, both taken by the same function at the same moment. If the interpreter cannot tell
a held array from a free one (a self-test at start-up), or on a free-threaded build
without the GIL (where a count read from another thread is not exact), arrays are
never reused. References that are not references are not seen: a ``weakref`` to a
recycled array may find it alive and rewritten, and a raw pointer
(``arr.ctypes.data``) is, as always, valid only while the array is referenced.

The cache holds at most :data:`MAX_BYTES` (default 256 MiB, ``$NUMNET_CACHE_MB``;
0 turns it off). :func:`empty_cache` returns everything to the allocator.

Caches are fork-safe: in a child made by ``os.fork()`` every cache gets a new lock (the
thread that held the old one, if any, did not survive the fork), and a cache that was
being changed at the moment of the fork is emptied (its contents may be half-updated).
A cache that was not being changed keeps its arrays, which after a fork are the
child's own copies; the reference counts still tell which ones are free.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import weakref

import numpy as np

MIN_BYTES = 1 << 20  # smaller arrays come from malloc's free lists, which is fast


def _max_bytes() -> int:
    value = os.environ.get("NUMNET_CACHE_MB", "")
    return int(value) << 20 if value.isdigit() else 256 << 20


MAX_BYTES = _max_bytes()


def _count(arrays: list, i: int) -> int:
    """References to ``arrays[i]``, taken without binding it to a local variable (a
    tracer's snapshot of this frame's locals cannot hold it). The sentinel and every
    cached array are counted by this one function, so both see the same interpreter."""
    return sys.getrefcount(arrays[i])


def _free_count() -> int:
    """What :func:`_count` shows for an array that only its list refers to."""
    return _count([np.empty(0)], 0)


def _gil_enabled() -> bool:
    is_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    return True if is_enabled is None else bool(is_enabled())


def _refcounts_usable() -> bool:
    """Whether one more reference to an array shows in :func:`_count` (self-test)."""
    probe = [np.empty(0)]
    if _count(probe, 0) != _free_count():
        return False
    held = probe[0]  # noqa: F841  (the reference under test)
    return _count(probe, 0) > _free_count()


_CACHES: weakref.WeakSet[ArrayCache] = weakref.WeakSet()  # every cache, for the fork hook


class ArrayCache:
    """Arrays by ``(shape, dtype)``; an array is free when only the cache refers to it."""

    def __init__(self, max_bytes: int = MAX_BYTES, min_bytes: int = MIN_BYTES) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self._arrays: dict[tuple, list[np.ndarray]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self._reuse = _refcounts_usable()
        _CACHES.add(self)

    def _after_fork_in_child(self) -> None:
        """Called in a child made by ``os.fork()``, where only the forking thread runs."""
        held = self._lock.locked()  # by a thread of the parent that does not exist here
        self._lock = threading.Lock()
        if held:  # it was halfway through changing the cache: start empty
            self._arrays = {}
            self._bytes = 0

    def _find_free(self, arrays: list[np.ndarray]) -> int | None:
        """The index in ``arrays`` of an array nothing else refers to, or ``None``."""
        free = _free_count()
        for i in range(len(arrays)):
            if _count(arrays, i) == free:
                return i
        return None

    def empty(self, shape, dtype) -> np.ndarray:
        """An uninitialised array of ``shape`` and ``dtype``, recycled when possible."""
        shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes < self.min_bytes or nbytes > self.max_bytes:
            return np.empty(shape, dtype)
        if not self._reuse or not _gil_enabled():  # counts not trustworthy: no cache
            return np.empty(shape, dtype)
        key = (shape, dtype)
        with self._lock:
            arrays = self._arrays.get(key)
            if arrays is not None:
                i = self._find_free(arrays)
                if i is not None:
                    return arrays[i]
            if self._bytes + nbytes > self.max_bytes:
                self._evict(nbytes)
            if self._bytes + nbytes > self.max_bytes:
                return np.empty(shape, dtype)  # everything cached is in use
            arr = np.empty(shape, dtype)
            # looked up again: _evict may have dropped the list of this key
            self._arrays.setdefault(key, []).append(arr)
            self._bytes += nbytes
            return arr

    def _evict(self, nbytes: int) -> None:
        """Drop free arrays (of any shape) until ``nbytes`` more fit."""
        for key in list(self._arrays):
            arrays = self._arrays[key]
            while self._bytes + nbytes > self.max_bytes:
                i = self._find_free(arrays)
                if i is None:
                    break
                self._bytes -= arrays[i].nbytes
                del arrays[i]
            if not arrays:
                del self._arrays[key]

    def clear(self) -> None:
        """Forget every cached array (arrays in use stay valid; they are just not reused)."""
        with self._lock:
            self._arrays.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the cache holds (free or in use)."""
        return self._bytes


def _after_fork_in_child() -> None:
    for cache in list(_CACHES):
        cache._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)

CACHE = ArrayCache()


def empty(shape, dtype) -> np.ndarray:
    """Like ``np.empty``, from the cache of recycled arrays for large sizes."""
    return CACHE.empty(shape, dtype)


def empty_like(a: np.ndarray) -> np.ndarray:
    """Like ``np.empty_like`` for a C-contiguous result."""
    return CACHE.empty(a.shape, a.dtype)


def empty_cache() -> None:
    """Release the recycled arrays to the allocator (like ``torch.cuda.empty_cache``)."""
    CACHE.clear()
