"""``numnet.autograd.grad``: PyTorch's ``torch.autograd.grad`` semantics, checked against torch."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet.autograd import grad

torch = pytest.importorskip("torch")


def _pair(a):
    return numnet.tensor(a, dtype=numnet.float64, requires_grad=True), torch.tensor(
        a, dtype=torch.float64, requires_grad=True
    )


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.integers(0, 3, 5)


def test_gradients_of_leaves_and_intermediates_match_torch_and_leave_grad_alone():
    a, b, y = _data()
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    nh = numnet.tanh(na @ nb)
    th = torch.tanh(ta @ tb)
    nl = F.cross_entropy(nh, numnet.tensor(y)) + (nh * nh).sum()
    tl = torch.nn.functional.cross_entropy(th, torch.tensor(y)) + (th * th).sum()
    ng = grad(nl, [na, nh, nb])
    tg = torch.autograd.grad(tl, [ta, th, tb])
    for n, t in zip(ng, tg):
        np.testing.assert_allclose(n.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)
        assert not n.requires_grad
    assert na.grad is None and nb.grad is None
    assert isinstance(ng, tuple) and ng[0].dtype == numnet.float64


def test_existing_grad_is_untouched_and_retain_grad_not_filled():
    a, b, _ = _data(1)
    (na, _), (nb, _) = _pair(a), _pair(b)
    na.grad = np.full(a.shape, 3.0)
    h = na @ nb
    h.retain_grad()
    (g,) = grad(h.sum(), na)
    np.testing.assert_array_equal(na.grad, np.full(a.shape, 3.0))
    assert h.grad is None
    np.testing.assert_allclose(g.numpy(), np.ones((5, 3)) @ b.T)


def test_grad_outputs_multiple_outputs_and_scaling():
    a, b, _ = _data(2)
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    nh, th = na @ nb, ta @ tb
    ns, ts = (na * na).sum(), (ta * ta).sum()
    go = np.random.default_rng(3).standard_normal((5, 3))
    ng = grad([nh, ns], [na, nb], grad_outputs=[go, 0.5])
    tg = torch.autograd.grad([th, ts], [ta, tb], grad_outputs=[torch.tensor(go), torch.tensor(0.5)])
    for n, t in zip(ng, tg):
        np.testing.assert_allclose(n.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)
    # a Tensor as grad_outputs, and a single output
    (g,) = grad(na @ nb, na, grad_outputs=numnet.tensor(go, dtype=numnet.float64))
    np.testing.assert_allclose(g.numpy(), go @ b.T, rtol=1e-12)


def test_retain_graph():
    a, b, _ = _data(4)
    (na, _), (nb, _) = _pair(a), _pair(b)
    loss = (numnet.tanh(na @ nb) ** 2).sum()
    g1 = grad(loss, na, retain_graph=True)[0].numpy().copy()
    g2 = grad(loss, na)[0].numpy()  # the graph was kept
    np.testing.assert_array_equal(g1, g2)
    with pytest.raises(RuntimeError, match="second time"):
        grad(loss, na)
    loss2 = (na * 2).sum()
    grad(loss2, na)
    with pytest.raises(RuntimeError, match="second time"):
        loss2.backward()  # like torch: freed by grad() unless retain_graph


def test_unused_inputs_and_errors_like_torch():
    a, b, _ = _data(5)
    (na, ta), (nb, tb) = _pair(a), _pair(b)
    nl, tl = (na * 2).sum(), (ta * 2).sum()
    with pytest.raises(RuntimeError):
        torch.autograd.grad(tl, [ta, tb], retain_graph=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(nl, [na, nb], retain_graph=True)
    ng = grad(nl, [na, nb], allow_unused=True, retain_graph=True)
    tg = torch.autograd.grad(tl, [ta, tb], allow_unused=True, retain_graph=True)
    assert ng[1] is None and tg[1] is None
    ng = grad(nl, [na, nb], materialize_grads=True, retain_graph=True)
    np.testing.assert_array_equal(ng[1].numpy(), np.zeros_like(b))
    with pytest.raises(RuntimeError, match="scalar"):
        grad(na * 2, na)
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(nl, numnet.tensor(a), retain_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(numnet.tensor(a).sum(), na)
    with pytest.raises(NotImplementedError, match="create_graph"):
        grad(nl, na, create_graph=True)
    with pytest.raises(RuntimeError, match="shape"):
        grad(na * 2, na, grad_outputs=np.ones(3))


def test_hooks_run_and_post_accumulate_hooks_do_not():
    a, b, _ = _data(6)
    (na, ta), _ = _pair(a), None
    seen, post = [], []
    na.register_hook(lambda g: seen.append(1) or g * 2)
    na.register_post_accumulate_grad_hook(lambda p: post.append(1))
    ta.register_hook(lambda g: g * 2)
    (g,) = grad((na * 3).sum(), na)
    (tg,) = torch.autograd.grad((ta * 3).sum(), ta)
    np.testing.assert_allclose(g.numpy(), tg.numpy())
    assert seen == [1] and post == [] and na.grad is None


def test_threads_may_differentiate_graphs_that_share_parameters():
    import threading

    a, b, _ = _data(7)
    (na, _), (nb, _) = _pair(a), _pair(b)
    xs = [np.random.default_rng(i).standard_normal((50, 5)) for i in range(4)]
    expected = [
        grad((numnet.tanh(numnet.tensor(x, dtype=numnet.float64) @ na @ nb) ** 2).sum(), [na, nb])
        for x in xs
    ]
    results = [None] * 4

    def work(i):
        for _ in range(20):
            x = numnet.tensor(xs[i], dtype=numnet.float64)
            results[i] = grad((numnet.tanh(x @ na @ nb) ** 2).sum(), [na, nb])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, exp in zip(results, expected):
        for u, v in zip(got, exp):
            np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert na.grad is None
