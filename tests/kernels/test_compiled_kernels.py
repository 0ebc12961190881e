"""The compiled fast path (numnet.kernels, Numba) against the NumPy reference.

Both paths run in the same process: ``numnet.kernels.disabled()`` selects the reference.
``test_suite_without_numba`` runs every test directory that reaches a kernel again in a
subprocess where Numba cannot be imported (``tests/_without_numba.py``: what a machine
without Numba runs), so CI covers both paths.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import kernels, models, optim

needs_numba = pytest.mark.skipif(not kernels.numba_installed(), reason="Numba not installed")


def test_switches_are_read_at_use(monkeypatch):
    monkeypatch.delenv("NUMNET_DISABLE_NUMBA", raising=False)
    assert kernels.enabled() == kernels.numba_installed()
    monkeypatch.setenv("NUMNET_DISABLE_NUMBA", "1")
    assert not kernels.enabled()
    monkeypatch.setenv("NUMNET_DISABLE_NUMBA", "0")
    assert kernels.enabled() == kernels.numba_installed()
    with kernels.disabled():
        assert not kernels.enabled()
        with kernels.disabled():
            assert not kernels.enabled()
        assert not kernels.enabled()
    assert kernels.enabled() == kernels.numba_installed()


def test_import_numnet_does_not_import_numba():
    code = "import numpy, numnet, sys; print('numba' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "False", res.stderr


def _both(fn):
    """``fn()`` on the fast path and on the reference path."""
    fast = fn()
    with kernels.disabled():
        ref = fn()
    return fast, ref


def _close(a, b, rtol):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    scale = max(float(np.abs(b).max()), 1e-30)
    assert float(np.abs(a - b).max()) <= rtol * scale, float(np.abs(a - b).max()) / scale


@needs_numba
@pytest.mark.parametrize(
    "shape, cout, k, stride, padding",
    [
        ((4, 32, 14, 14), 64, 5, 1, 2),
        ((3, 8, 9, 11), 16, 3, 2, 1),
        ((2, 12, 7, 6), 5, (3, 2), 1, (0, 1)),
        ((2, 16, 8, 8), 4, 3, 1, "same"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_gradients_match_the_reference(shape, cout, k, stride, padding, dtype):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape).astype(dtype)
    kk = (k, k) if isinstance(k, int) else k
    w0 = rng.standard_normal((cout, shape[1], *kk)).astype(dtype)
    b0 = rng.standard_normal(cout).astype(dtype)
    g0 = None

    def run():
        nonlocal g0
        x = numnet.tensor(x0, dtype=dtype, requires_grad=True)
        w = numnet.tensor(w0, dtype=dtype, requires_grad=True)
        b = numnet.tensor(b0, dtype=dtype, requires_grad=True)
        y = F.conv2d(x, w, b, stride=stride, padding=padding)
        if g0 is None:
            g0 = rng.standard_normal(y.shape).astype(dtype)
        y.backward(numnet.tensor(g0, dtype=dtype))
        return y.numpy(), x.grad, w.grad, b.grad

    fast, ref = _both(run)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, ref):
        _close(a, b, rtol)


@needs_numba
@pytest.mark.parametrize(
    "shape, cout, k, stride, padding, bias, x_grad",
    [
        ((5, 1, 9, 8), 6, 5, 1, 2, True, False),  # one input channel (a first layer)
        ((5, 1, 9, 8), 6, 3, 2, 1, False, True),  # few channels: the reference scatter
        ((7, 16, 7, 6), 8, 3, 1, (0, 1), True, True),
        ((4, 9, 8, 8), 3, (2, 3), 2, "valid", False, True),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_conv2d_matches_the_reference(
    monkeypatch, shape, cout, k, stride, padding, bias, x_grad, dtype
):
    """The chunked path (X̂ formed a few samples at a time, and again in the VJP) with
    chunks of one or two samples, against the reference's one X̂ of the whole batch."""
    from numnet.ops import conv as conv_mod

    rng = np.random.default_rng(5)
    kk = (k, k) if isinstance(k, int) else k
    x0 = rng.standard_normal(shape).astype(dtype)
    w0 = rng.standard_normal((cout, shape[1], *kk)).astype(dtype)
    b0 = rng.standard_normal(cout).astype(dtype)
    state = {}

    def run():
        x = numnet.tensor(x0, dtype=dtype, requires_grad=x_grad)
        w = numnet.tensor(w0, dtype=dtype, requires_grad=True)
        args = (x, w, numnet.tensor(b0, dtype=dtype, requires_grad=True)) if bias else (x, w)
        y = F.conv2d(*args, stride=stride, padding=padding)
        if "g" not in state:
            state["g"] = rng.standard_normal(y.shape).astype(dtype)
        y.backward(numnet.tensor(state["g"], dtype=dtype))
        return [y.numpy()] + [a.grad for a in args if a.requires_grad]

    rtol = 1e-5 if dtype == np.float32 else 1e-12
    per_sample = shape[2] * shape[3] * (shape[1] * kk[0] * kk[1] + 1) * np.dtype(dtype).itemsize
    # one sample per chunk, then two; X̂ formed again in the VJP, or kept
    for chunk, keep in [(1, 0), (2 * per_sample, 0), (2 * per_sample, 1 << 30)]:
        monkeypatch.setattr(conv_mod, "_CHUNK_BYTES", chunk)
        monkeypatch.setattr(conv_mod, "_KEEP_BYTES", keep)
        fast, ref = _both(run)
        assert len(fast) == len(ref) == 2 + bias + x_grad
        for a, b in zip(fast, ref):
            _close(a, b, rtol)
    with numnet.no_grad():  # evaluation: chunked forward only
        fast, ref = _both(lambda: F.conv2d(
            numnet.tensor(x0, dtype=dtype), numnet.tensor(w0, dtype=dtype), padding=1
        ))
    _close(fast.numpy(), ref.numpy(), rtol)


def _relu_pool_net():
    return numnet.nn.Sequential(
        numnet.nn.Conv2d(3, 8, 3, padding=1),
        numnet.nn.ReLU(),
        numnet.nn.MaxPool2d(2),
        numnet.nn.Flatten(),
    )


@pytest.mark.parametrize("fast", [True, False])
def test_sequential_fuses_relu_then_max_pool_exactly(fast):
    """``Sequential`` runs ReLU → MaxPool2d as relu_max_pool2d: the same output and
    gradients as the two modules one after the other (exact: they commute)."""
    import contextlib

    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((4, 3, 8, 6)).astype(np.float32)
    x0[0, :, :2, :2] = -1.0  # a window whose maximum is negative
    g0 = rng.standard_normal((4, 8 * 4 * 3)).astype(np.float32)
    net = _relu_pool_net()
    names = [name for name, _ in net.named_parameters()]

    def grads(model):
        net.zero_grad()
        x = numnet.tensor(x0, requires_grad=True)
        y = model(x)
        y.backward(numnet.tensor(g0))
        return [y.numpy(), x.grad] + [p.grad.copy() for p in net.parameters()]

    def unfused(x):
        for m in net:
            x = m(x)
        return x

    with contextlib.nullcontext() if fast else kernels.disabled():
        fused, plain = grads(net), grads(unfused)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    assert names == ["0.weight", "0.bias"]  # module names and indices are unchanged


def test_sequential_does_not_fuse_modules_whose_forward_is_wrapped():
    net = _relu_pool_net()
    seen = []
    relu = net[1]
    original = relu.forward

    def watched(x):
        seen.append(tuple(x.shape))
        return original(x)

    relu.forward = watched  # what model summaries and diagnostics do
    net(numnet.tensor(np.ones((2, 3, 4, 4), np.float32)))
    assert seen == [(2, 8, 4, 4)]
    del relu.forward
    net(numnet.tensor(np.ones((2, 3, 4, 4), np.float32)))
    assert seen == [(2, 8, 4, 4)]  # fused again: the ReLU module is not called


@needs_numba
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_routes_ties_like_the_reference(layout, dtype):
    rng = np.random.default_rng(1)
    # few distinct values: many ties inside the windows
    base = rng.integers(0, 3, (3, 10, 8, 12)).astype(dtype)  # (N, H, W, C)
    base[0, 0, 0, 0] = np.nan
    base[1, :2, :2, 1] = -np.inf
    x0 = np.ascontiguousarray(base.transpose(0, 3, 1, 2)) if layout == "nchw" else base
    x0 = x0 if layout == "nchw" else x0.transpose(0, 3, 1, 2)  # an NCHW view of NHWC memory
    g0 = rng.standard_normal((3, 12, 5, 4)).astype(dtype)

    def run():
        x = numnet.tensor(x0, dtype=dtype, requires_grad=True)
        y = F.max_pool2d(x, 2)
        y.backward(numnet.tensor(g0, dtype=dtype))
        return y.numpy(), x.grad

    (yf, gf), (yr, gr) = _both(run)
    np.testing.assert_array_equal(yf, yr)  # NaN in the same places
    np.testing.assert_array_equal(gf, gr)  # every gradient routed to the same arg-max


@needs_numba
def test_max_pool_without_a_graph_and_other_geometries():
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    for kw in ({"kernel_size": 3}, {"kernel_size": 2}, {"kernel_size": 3, "stride": 1}):
        with numnet.no_grad():
            fast, ref = _both(lambda kw=kw: F.max_pool2d(numnet.Tensor(x0), **kw).numpy())
        np.testing.assert_array_equal(fast, ref)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_sgd_matches_the_reference(dtype):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((300, 250)).astype(dtype)  # above the fused kernel's minimum
    grads = [rng.standard_normal((300, 250)).astype(dtype) for _ in range(4)]

    def run():
        p = numnet.nn.Parameter(numnet.tensor(w0.copy(), dtype=dtype))
        opt = optim.SGD([p], lr=0.1, momentum=0.9)
        for g in grads:
            p.grad = g.copy()
            opt.step()
        return p.numpy(), opt.state[p]["momentum_buffer"]

    fast, ref = _both(run)
    for a, b in zip(fast, ref):
        _close(a, b, 1e-6 if dtype == np.float32 else 1e-14)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.Adam(ps, lr=1e-3),
        lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2),
        lambda ps: optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
    ],
    ids=["adam", "adam-l2", "adamw"],
)
def test_fused_adam_gives_the_reference_bits(make, dtype, monkeypatch):
    """One compiled pass does the reference's eleven NumPy passes in their order, with the
    scalars rounded as NumPy rounds Python floats: the same bits, step after step."""
    monkeypatch.setattr(kernels, "IMPORT_COST_ELEMENTS", 0)  # fused from the first step
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((300, 250)).astype(dtype)  # above the fused kernel's minimum
    grads = [rng.standard_normal((300, 250)).astype(dtype) for _ in range(5)]
    grads[2][0, :4] = [0.0, 1e-30, -1e18, 3.0]  # a zero, a tiny and a huge gradient

    def run():
        p = numnet.nn.Parameter(numnet.tensor(w0.copy(), dtype=dtype))
        opt = make([p])
        for g in grads:
            p.grad = g.copy()
            opt.step()
        st = opt.state[p]
        return p.numpy(), st["exp_avg"], st["exp_avg_sq"]

    fast, ref = _both(run)
    for a, b in zip(fast, ref):
        np.testing.assert_array_equal(a, b)


def test_adam_takes_the_reference_path_for_small_or_amsgrad_parameters(monkeypatch):
    """Below the size threshold, or with amsgrad, no kernel is looked up."""
    calls = []
    monkeypatch.setattr(kernels, "get", lambda name: calls.append(name))
    monkeypatch.setattr(kernels, "enabled", lambda: True)
    small = numnet.nn.Parameter(numnet.zeros(10, 10))
    big = numnet.nn.Parameter(numnet.zeros(300, 250))
    for p, opt in ((small, optim.Adam([small])), (big, optim.Adam([big], amsgrad=True))):
        p.grad = np.ones(p.shape, dtype=np.float32)
        opt.step()
    assert calls == []


def test_fused_adam_starts_once_it_pays_for_loading_numba(monkeypatch):
    """With the kernels not loaded yet, the first steps run the reference; the kernel is
    used from the step where steps × size reaches the import cost (or at once if loaded)."""
    calls = []
    monkeypatch.setattr(kernels, "get", lambda name: calls.append(name) or (lambda *a: None))
    monkeypatch.setattr(kernels, "enabled", lambda: True)
    monkeypatch.setattr(kernels, "loaded", lambda: False)
    monkeypatch.setattr(kernels, "IMPORT_COST_ELEMENTS", 3 * 300 * 250)
    p = numnet.nn.Parameter(numnet.zeros(300, 250))
    opt = optim.Adam([p])
    for _ in range(4):
        p.grad = np.ones(p.shape, dtype=np.float32)
        opt.step()
    assert calls == ["adam", "adam"]  # steps 3 and 4
    monkeypatch.setattr(kernels, "loaded", lambda: True)
    monkeypatch.setattr(kernels, "IMPORT_COST_ELEMENTS", 1e30)
    opt.step()
    assert calls == ["adam"] * 3


@needs_numba
def test_training_curve_is_the_same_on_both_paths():
    rng = np.random.default_rng(4)
    x = rng.random((48, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 48)

    def run():
        net = models.convnet(generator=0, channels=(8, 16), hidden=32)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        hist = numnet.train.fit(
            net, F.cross_entropy, opt, (x, y), epochs=3, batch_size=16, generator=0, verbose=0
        )
        return hist["loss"]

    fast, ref = _both(run)
    np.testing.assert_allclose(fast, ref, rtol=1e-4)


# Every test directory whose code reaches a compiled kernel (the ops, the layers, the
# optimizers, training, data parallelism, the estimators and the models built on them);
# the rest (file formats, the CLI, the docs, the classic estimators) never dispatches to
# numnet.kernels.
WITHOUT_NUMBA = [
    "ops", "nn", "optim", "train", "autograd", "autoencoder", "sklearn", "utils",
    "test_parallel.py", "test_fork.py", "test_tensor.py", "test_deep_linear.py",
    "test_memory.py", "test_randomness.py", "experiments/test_convnet_reproductions.py",
    "experiments/test_reproductions.py",
]


def test_suite_without_numba():
    """The reference path end to end, on a process where Numba cannot be imported."""
    env = dict(os.environ)
    env.pop("NUMNET_DISABLE_NUMBA", None)
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
           "-p", "tests._without_numba"]
    res = subprocess.run(
        cmd + [os.path.join(tests, f) for f in WITHOUT_NUMBA],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(tests),
        timeout=1200,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout, res.stdout[-3000:]
