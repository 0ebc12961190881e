"""Recycled memory (numnet._memory): an array is reused only when nothing refers to it."""

from __future__ import annotations

import gc

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
