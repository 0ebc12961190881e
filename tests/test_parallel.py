"""Batch-split data parallelism inside one process (numnet.parallel)."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.nn as nn
import numnet.nn.functional as F
from numnet import models, optim, parallel
from numnet.parallel import data_parallel_step


def _convnet(dropout=0.0):
    net = models.convnet(generator=0, channels=(3, 5), hidden=16, dropout=dropout).double()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.generator = np.random.default_rng(7)
    return net


def _mlp():
    return nn.Sequential(
        nn.Linear(20, 16, generator=1, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.25, generator=3),
        nn.Linear(16, 4, generator=2, dtype=np.float64),
    )


def _data(n, image=True, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 28, 28) if image else (n, 20))
    return x, rng.integers(0, 4, n)


def _whole_batch(net, loss_fn, x, y):
    loss = loss_fn(net(numnet.tensor(x, dtype=numnet.float64)), numnet.tensor(y))
    loss.backward()
    return float(loss.item()), [p.grad.copy() for p in net.parameters()]


def _split(net, loss_fn, x, y, t, **kw):
    loss = data_parallel_step(net, loss_fn, x, y, num_threads=t, **kw)
    return float(loss.item()), [p.grad.copy() for p in net.parameters()]


@pytest.mark.parametrize("threads", [2, 3, 5])
@pytest.mark.parametrize("make, image", [(_convnet, True), (_mlp, False)])
def test_split_gradients_equal_the_whole_batch_gradients(make, image, threads):
    x, y = _data(13, image)  # 13 rows: shards of different sizes
    loss0, g0 = _whole_batch(make(), F.cross_entropy, x, y)
    loss1, g1 = _split(make(), F.cross_entropy, x, y, threads)
    assert loss1 == pytest.approx(loss0, rel=1e-12, abs=0)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())


def test_sum_reduction_and_loss_modules():
    x, y = _data(11, image=False)
    loss0, g0 = _whole_batch(_mlp(), nn.CrossEntropyLoss(reduction="sum"), x, y)
    loss1, g1 = _split(_mlp(), nn.CrossEntropyLoss(reduction="sum"), x, y, 2)
    assert loss1 == pytest.approx(loss0, rel=1e-12)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
    loss2, g2 = _split(
        _mlp(), lambda o, t: F.cross_entropy(o, t, reduction="sum"), x, y, 3, reduction="sum"
    )
    for a, b in zip(g0, g2):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="reduction"):
        data_parallel_step(_mlp(), nn.CrossEntropyLoss(reduction="none"), x, y, num_threads=2)


def test_gradients_accumulate_like_backward():
    x, y = _data(8, image=False)
    net = _mlp()
    _whole_batch(net, F.cross_entropy, x, y)
    _, twice = _whole_batch(net, F.cross_entropy, x, y)  # backward twice: sums
    net2 = _mlp()
    data_parallel_step(net2, F.cross_entropy, x, y, num_threads=2)
    data_parallel_step(net2, F.cross_entropy, x, y, num_threads=2)
    for a, p in zip(twice, net2.parameters()):
        np.testing.assert_allclose(p.grad, a, rtol=1e-12, atol=1e-13)


def test_dropout_masks_are_the_unsplit_steps_and_reproducible():
    """Shard k uses rows k of the mask the unsplit step draws: same gradients, and the
    generator advances exactly as unsplit (the next steps agree too)."""
    x, y = _data(10)
    a, b = _convnet(dropout=0.5), _convnet(dropout=0.5)
    for _ in range(3):
        la, ga = _whole_batch(a, F.cross_entropy, x, y)
        lb, gb = _split(b, F.cross_entropy, x, y, 3)
        assert lb == pytest.approx(la, rel=1e-12)
        for u, v in zip(ga, gb):
            np.testing.assert_allclose(v, u, rtol=1e-12, atol=1e-12 * np.abs(u).max())
        for net in (a, b):
            for p in net.parameters():
                p.grad = None


def test_dropout_inside_a_split_step_needs_the_batch_axis_first():
    class Transposed(nn.Module):
        def forward(self, x):
            return F.dropout(x.T, 0.5, generator=0).T

    net = nn.Sequential(nn.Linear(20, 4, generator=0, dtype=np.float64), Transposed())
    x, y = _data(6, image=False)
    with pytest.raises(RuntimeError, match="batch axis"):
        data_parallel_step(net, F.cross_entropy, x, y, num_threads=2)


def test_training_curve_matches_the_unsplit_one():
    x, y = _data(64, seed=3)
    curves = []
    for split in (False, 2):
        net = models.convnet(generator=0, channels=(4, 8), hidden=32)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        hist = numnet.train.fit(
            net,
            F.cross_entropy,
            opt,
            (x.astype(np.float32), y),
            epochs=3,
            batch_size=16,
            generator=0,
            verbose=0,
            data_parallel=split,
        )
        curves.append(hist["loss"])
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-4)


def test_fit_data_parallel_option():
    from numnet.train.loop import _data_parallel_threads

    conv, mlp = _convnet(), _mlp()
    expected = numnet.get_num_threads() if parallel.can_split() else 1
    assert _data_parallel_threads(conv, "auto") == expected
    assert _data_parallel_threads(mlp, "auto") == 1  # measured: small MLPs lose
    assert _data_parallel_threads(mlp, True) == numnet.get_num_threads()
    assert _data_parallel_threads(mlp, 3) == 3
    assert _data_parallel_threads(conv, False) == 1
    with pytest.raises(ValueError, match="data_parallel"):
        _data_parallel_threads(conv, 0)


def test_blas_is_limited_only_inside_the_step():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            info = threadpoolctl.threadpool_info()
            seen.append([i["num_threads"] for i in info if i["user_api"] == "blas"])
            return x

    before = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    net = nn.Sequential(nn.Linear(20, 4, generator=0, dtype=np.float64), Probe())
    x, y = _data(6, image=False)
    data_parallel_step(net, F.cross_entropy, x, y, num_threads=2)
    assert seen and all(s == [1] * len(s) for s in seen)
    after = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert after == before


def test_errors_propagate_from_worker_threads():
    class Boom(nn.Module):
        def forward(self, x):
            if len(x) < 5:
                raise KeyError("boom")
            return x

    net = nn.Sequential(nn.Linear(20, 4, generator=0, dtype=np.float64), Boom())
    x, y = _data(9, image=False)
    with pytest.raises(KeyError, match="boom"):
        data_parallel_step(net, F.cross_entropy, x, y, num_threads=2)  # shards 4 and 5
    with numnet.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        data_parallel_step(net, F.cross_entropy, x, y, num_threads=2)


def test_one_thread_and_output():
    x, y = _data(7, image=False)
    loss0, g0 = _whole_batch(_mlp(), F.cross_entropy, x, y)
    net = _mlp()
    loss, out = data_parallel_step(net, F.cross_entropy, x, y, num_threads=1, return_output=True)
    assert float(loss.item()) == loss0 and not loss.requires_grad
    assert out.shape == (7, 4)
    net2 = _mlp()
    loss2, out2 = data_parallel_step(net2, F.cross_entropy, x, y, num_threads=3, return_output=True)
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=1e-12)


def test_conv_weight_gradient_is_the_same_bits_with_many_threads():
    """The per-thread partial weight gradients are summed in batch order, not in the order
    the threads finish: with 4 threads (3 or more partials) every run gives the same bits."""
    from numnet import parallel

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((64, 8, 10, 10)).astype(np.float32)
    w0 = rng.standard_normal((16, 8, 5, 5)).astype(np.float32)
    g = rng.standard_normal((64, 16, 10, 10)).astype(np.float32)
    old = parallel._threads["n"]
    parallel.set_num_threads(4)
    try:
        grads = set()
        for _ in range(6):
            w = numnet.tensor(w0, requires_grad=True)
            b = numnet.tensor(np.zeros(16, np.float32), requires_grad=True)
            F.conv2d(numnet.tensor(x0), w, b, padding=2).backward(numnet.tensor(g))
            grads.add((w.grad.tobytes(), b.grad.tobytes()))
    finally:
        parallel._threads["n"] = old
    assert len(grads) == 1


def test_blas_limit_is_restored_after_overlapping_limits_from_two_threads():
    """Thread A limits BLAS, B limits it too, A leaves, B leaves: BLAS gets its thread
    count back (threadpoolctl's limit alone restores what B saw on entry: 1), and inside
    the overlap it stays at 1 after A left."""
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl")
    from numnet import parallel

    def counts():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with parallel.one_blas_thread():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with parallel.one_blas_thread():
            b_in.set()
            a_out.wait(10)
            seen["after A left"] = counts()

    before = counts()
    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["after A left"] == [1] * len(before)
    assert counts() == before
    assert parallel._LIMIT.depth == 0


def test_blas_limit_works_while_another_live_thread_controls_openblas():
    """threadpoolctl >= 3.8 lets only the first thread that set a pthreads OpenBLAS's
    thread count change it while that thread lives, and ignores the others silently:
    numnet's limit (entered and left from any thread) must still set and restore."""
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl")
    from numnet import parallel

    def counts():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    before = counts()
    took, done = threading.Event(), threading.Event()

    def hold_control():  # sets the count (becoming the controller) and stays alive
        controller = threadpoolctl.ThreadpoolController()
        for lib in controller.lib_controllers:
            if lib.user_api == "blas":
                lib.set_num_threads(lib.get_num_threads())
        took.set()
        done.wait(10)

    holder = threading.Thread(target=hold_control)
    holder.start()
    try:
        took.wait(10)
        with parallel.one_blas_thread():
            inside = counts()
        after = counts()
    finally:
        done.set()
        holder.join()
    assert inside == [1] * len(before)
    assert after == before


def test_worker_threads_run_in_the_callers_context():
    """``kernels.disabled()`` (a context variable) holds on numnet's worker threads too."""
    from numnet import kernels, parallel

    seen = []
    with kernels.disabled():
        parallel.parallel_tasks([lambda: seen.append(kernels.enabled())] * 3)
    assert seen == [False, False, False]
