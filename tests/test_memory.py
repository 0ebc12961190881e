"""Recycled memory (numnet._memory): an array is reused only when nothing refers to it."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import _memory
from numnet._memory import ArrayCache

BIG = (512, 1024)  # 2 MiB of float32: above the cache's minimum size


def test_free_array_is_reused_and_busy_array_is_not():
    cache = ArrayCache(max_bytes=64 << 20)
    a = cache.empty(BIG, np.float32)
    b = cache.empty(BIG, np.float32)
    assert a is not b  # `a` is still referenced
    ident = id(a)
    del a
    c = cache.empty(BIG, np.float32)
    assert id(c) == ident  # the freed array came back
    assert c.shape == BIG and c.dtype == np.float32 and c.flags.c_contiguous


def test_a_view_keeps_its_base_busy():
    cache = ArrayCache(max_bytes=64 << 20)
    a = cache.empty(BIG, np.float32)
    view = a.T[3:]  # the view refers to `a` through .base
    ident = id(a)
    del a
    b = cache.empty(BIG, np.float32)
    assert id(b) != ident
    b[...] = 1.0
    view[...] = 7.0  # still ours alone
    assert np.all(b == 1.0)
    del view
    c = cache.empty(BIG, np.float32)
    assert id(c) == ident


def test_small_and_other_shapes_bypass_or_separate():
    cache = ArrayCache(max_bytes=64 << 20)
    small = cache.empty((10, 10), np.float32)
    assert cache.nbytes == 0 and small.shape == (10, 10)
    a = cache.empty(BIG, np.float32)
    ident = id(a)
    del a
    other = cache.empty((1024, 512), np.float32)
    assert id(other) != ident  # a different shape is a different array
    f64 = cache.empty(BIG, np.float64)
    assert f64.dtype == np.float64 and id(f64) != ident


def test_cap_evicts_free_arrays_and_never_busy_ones():
    cache = ArrayCache(max_bytes=6 << 20)  # three 2 MiB arrays
    kept = [cache.empty(BIG, np.float32) for _ in range(3)]
    assert cache.nbytes == 6 << 20
    extra = cache.empty((1024, 1024), np.float32)  # 4 MiB: nothing free to evict
    assert cache.nbytes == 6 << 20 and extra.shape == (1024, 1024)
    kept.pop()
    kept.pop()
    gc.collect()
    bigger = cache.empty((1024, 1024), np.float32)  # evicts the two free ones
    assert cache.nbytes == (2 << 20) + (4 << 20)
    for arr in kept:  # the busy array is untouched and still valid
        arr[...] = 3.0
    assert bigger.shape == (1024, 1024)


def test_clear_and_disabled_cache():
    cache = ArrayCache(max_bytes=64 << 20)
    a = cache.empty(BIG, np.float32)
    cache.clear()
    assert cache.nbytes == 0
    a[...] = 2.0  # arrays handed out stay valid
    off = ArrayCache(max_bytes=0)
    b = off.empty(BIG, np.float32)
    assert off.nbytes == 0 and b.shape == BIG


def test_recycled_outputs_do_not_alias_live_tensors():
    """Hold one step's outputs and gradients while running the next: nothing changes."""
    rng = np.random.default_rng(0)
    x = numnet.Tensor(rng.standard_normal((64, 8, 30, 30), dtype=np.float32))
    w = numnet.Tensor(rng.standard_normal((16, 8, 3, 3), dtype=np.float32), requires_grad=True)
    lin = numnet.Tensor(rng.standard_normal((600, 1024), dtype=np.float32), requires_grad=True)

    def step(scale):
        y = F.relu(F.conv2d(x * scale, w, padding=1))
        p = F.max_pool2d(y, 2)
        z = F.relu(p.reshape(64, -1)[:, :1024] @ lin.T)
        z.sum().backward()
        return y, p, z

    y1, p1, z1 = step(1.0)
    snap = [t.numpy().copy() for t in (y1, p1, z1)]
    gw1, glin1 = w.grad, lin.grad
    gsnap = [gw1.copy(), glin1.copy()]
    w.grad = lin.grad = None
    y2, p2, z2 = step(-2.0)  # different values through the same shapes
    for t, s in zip((y1, p1, z1), snap):
        np.testing.assert_array_equal(t.numpy(), s)
    np.testing.assert_array_equal(gw1, gsnap[0])
    np.testing.assert_array_equal(glin1, gsnap[1])
    assert not np.array_equal(y2.numpy(), snap[0])


@pytest.mark.parametrize("shape", [(4, 300_000), (70, 61, 64)])
def test_large_relu_path_values_and_gradient(shape):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape).astype(np.float32)
    z.flat[:5] = 0.0  # the gradient at 0 is 0
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    g = rng.standard_normal(shape).astype(np.float32)
    y.backward(numnet.Tensor(g))
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    np.testing.assert_array_equal(t.grad, g * (z > 0))


def test_module_level_helpers():
    a = _memory.empty(BIG, np.float32)
    b = _memory.empty_like(a)
    assert a is not b and b.shape == BIG
    _memory.empty_cache()
    assert _memory.CACHE.nbytes == 0


def _locals_tracer(frame, event, arg):
    _ = frame.f_locals  # what a debugger does to show variables: a snapshot on 3.10-3.12
    return _locals_tracer


def _traced(fn):
    """``fn()`` with a Python trace function active (restoring any tracer, e.g. coverage)."""
    previous = sys.gettrace()
    sys.settrace(_locals_tracer)
    try:
        return fn()
    finally:
        sys.settrace(previous)


def test_cache_created_under_a_tracer_never_hands_out_a_held_array():
    """Regression: the free count was calibrated once; a debugger or tracer active at
    import (frame.f_locals holds one more reference on 3.10-3.12) made it one too high,
    so an array with one live reference was handed out again."""
    cache = _traced(lambda: ArrayCache(max_bytes=64 << 20))
    a = cache.empty(BIG, np.float32)
    a[...] = 1.0
    b = cache.empty(BIG, np.float32)
    assert b is not a and not np.shares_memory(a, b)
    b[...] = 7.0
    assert np.all(a == 1.0)
    ident = id(b)
    del b
    assert id(cache.empty(BIG, np.float32)) == ident  # free arrays are still reused


def test_traced_search_still_reuses_free_arrays_and_not_held_ones():
    cache = ArrayCache(max_bytes=64 << 20)

    def run():
        a = cache.empty(BIG, np.float32)
        ident = id(a)
        held = cache.empty(BIG, np.float32)
        del a
        c = cache.empty(BIG, np.float32)
        return id(c) == ident, c is not held and not np.shares_memory(c, held)

    reused, distinct = _traced(run)
    assert reused and distinct


def test_eviction_keeps_the_new_array_tracked():
    """Regression: _evict dropped the (empty) list of the key being allocated, so the new
    array was counted in nbytes but never cached: 'ghost' bytes filled the cache."""
    cache = ArrayCache(max_bytes=8 << 20)
    a = cache.empty((512, 1024), np.float32)  # 2 MiB
    b = cache.empty((1024, 1024), np.float32)  # 4 MiB
    del a, b
    c = cache.empty((768, 1024), np.float32)  # 3 MiB: evicts the 2 MiB array
    held = [x for arrays in cache._arrays.values() for x in arrays]
    assert any(x is c for x in held)
    assert cache.nbytes == sum(x.nbytes for x in held)
    del c, held
    for n in range(600, 1000, 16):  # shapes change: evictions, every array freed
        cache.empty((n, 1024), np.float32)
    held = [x for arrays in cache._arrays.values() for x in arrays]
    assert cache.nbytes == sum(x.nbytes for x in held) <= cache.max_bytes
    del held
    d = cache.empty((768, 1024), np.float32)
    assert any(x is d for arrays in cache._arrays.values() for x in arrays)


def test_no_reuse_without_the_gil(monkeypatch):
    """Free-threaded builds: a count read while other threads change it is not exact."""
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    cache = ArrayCache(max_bytes=64 << 20)
    a = cache.empty(BIG, np.float32)
    ident = id(a)
    keep = a  # keep the memory so a fresh array cannot land at the same id
    del a
    b = cache.empty(BIG, np.float32)
    assert id(b) != ident and cache.nbytes == 0
    del keep


def test_reuse_from_many_threads_never_shares_a_live_array():
    cache = ArrayCache(max_bytes=64 << 20)
    errors = []

    def work(value):
        for _ in range(200):
            a = cache.empty(BIG, np.float32)
            a.fill(value)
            if not (a[0, 0] == value and a[-1, -1] == value):
                errors.append(value)

    threads = [threading.Thread(target=work, args=(float(v),)) for v in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.nbytes <= cache.max_bytes


@pytest.mark.parametrize("perm", [(0, 3, 1, 2), (2, 0, 3, 1), (0, 1, 2, 3)])
def test_large_relu_on_permuted_views_keeps_the_memory_order(perm):
    """An NCHW view of channels-last memory (a conv output) takes the large-array path."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((16, 20, 30, 40)).astype(np.float32)  # 384k entries
    z = base.transpose(perm)
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    assert y.numpy().strides == z.strides  # computed in z's memory order
    g = rng.standard_normal(base.shape).astype(np.float32).transpose(perm)
    y.backward(numnet.Tensor(g))
    np.testing.assert_array_equal(t.grad, g * (z > 0))
    # a gradient in another layout takes the general path, same values
    t2 = numnet.Tensor(z, requires_grad=True)
    F.relu(t2).backward(numnet.Tensor(np.ascontiguousarray(g)))
    np.testing.assert_array_equal(t2.grad, g * (z > 0))


def test_reversed_strides_fall_back_to_the_general_path():
    z = np.linspace(-1, 1, 300_000, dtype=np.float32)[::-1]
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, (z > 0).astype(np.float32))


def test_thread_count_is_read_from_the_environment_when_used(monkeypatch):
    from numnet import parallel

    monkeypatch.setitem(parallel._threads, "n", None)
    monkeypatch.setenv("NUMNET_NUM_THREADS", "3")
    assert parallel.get_num_threads() == 3  # exported after import: honoured
    monkeypatch.delenv("NUMNET_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel.get_num_threads() == 5
    parallel.set_num_threads(2)
    assert parallel.get_num_threads() == 2  # an explicit setting wins
