"""Tensor.register_hook, Tensor.register_post_accumulate_grad_hook and the visiting order."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import numnet
import numnet.nn as nn
import numnet.nn.functional as F
from numnet import Tensor


def _mlp(seed=0):
    return nn.Sequential(
        nn.Linear(5, 8, generator=seed),
        nn.ReLU(),
        nn.Linear(8, 8, generator=seed + 1),
        nn.Tanh(),
        nn.Linear(8, 3, generator=seed + 2),
    )


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return (Tensor(rng.standard_normal((n, 5)).astype(np.float32)), Tensor(rng.integers(0, 3, n)))


def test_grad_hook_sees_the_full_adjoint_and_can_replace_it():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * 2.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10.0)  # replaces the adjoint for the rest of the pass
    z = (y * y).sum() + y.sum()  # two uses: the hook gets the sum of both
    z.backward()
    np.testing.assert_allclose(seen[0], 2 * y.numpy() + 1)
    np.testing.assert_allclose(x.grad, (2 * y.numpy() + 1) * 10.0 * 2.0)


def test_leaf_grad_hook_runs_before_accumulation_and_hooks_chain_in_order():
    w = Tensor(np.ones(3), requires_grad=True)
    order = []
    w.register_hook(lambda g: order.append("a") or g + 1.0)
    w.register_hook(lambda g: order.append("b") or g.numpy() * 3.0)  # arrays are accepted
    (w * 2.0).sum().backward()
    assert order == ["a", "b"]
    np.testing.assert_allclose(w.grad, (2.0 + 1.0) * 3.0)
    (w * 2.0).sum().backward()  # accumulates the hooked gradient again
    np.testing.assert_allclose(w.grad, 2 * 9.0)


def test_handles_remove_hooks_and_work_as_context_managers():
    w = Tensor(np.ones(2), requires_grad=True)
    calls = []
    h = w.register_hook(lambda g: calls.append(1))
    with w.register_post_accumulate_grad_hook(lambda p: calls.append(2)):
        w.sum().backward()
    assert calls == [1, 2]
    h.remove()
    h.remove()  # twice is harmless
    w.sum().backward()
    assert calls == [1, 2]


def test_hook_errors_name_the_problem():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: np.ones(4))
    with pytest.raises(RuntimeError, match=r"changed the gradient's shape from \(3,\) to \(4,\)"):
        y.sum().backward()
    x2 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y2 = x2 * 2.0
    y2.register_hook(lambda g: g.numpy().astype(np.float64))
    with pytest.raises(TypeError, match="dtype from float32 to float64"):
        y2.sum().backward()
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).register_hook(lambda g: None)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    assert x.is_leaf and not y.is_leaf


def test_post_accumulate_hooks_run_right_after_the_last_use_of_each_parameter():
    """Each layer's parameters are final before the VJP of the layer below runs."""
    model = _mlp()
    x, y = _data()
    events = []
    for name, p in model.named_parameters():
        p.register_post_accumulate_grad_hook(
            lambda p, name=name: events.append((name, p.grad is not None))
        )
    loss = F.cross_entropy(model(x), y)
    # the grad hook of the first layer's output runs after the last layer's parameters
    # and before the first layer's parameters
    h1 = model[0](x)
    del h1
    loss.backward()
    names = [n for n, _ in events]
    assert all(ok for _, ok in events)
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())
    layer = [int(n.split(".")[0]) for n in names]
    assert layer == sorted(layer, reverse=True)  # last layer first, first layer last


def test_post_accumulate_hooks_interleave_with_the_vjps():
    w1 = Tensor(np.full((3, 3), 0.5), requires_grad=True)
    w2 = Tensor(np.full((3, 3), 0.25), requires_grad=True)
    x = Tensor(np.ones((2, 3)))
    events = []
    h = x @ w1
    h.register_hook(lambda g: events.append("adjoint of h"))
    w2.register_post_accumulate_grad_hook(lambda p: events.append("w2 final"))
    w1.register_post_accumulate_grad_hook(lambda p: events.append("w1 final"))
    (h @ w2).sum().backward()
    assert events == ["w2 final", "adjoint of h", "w1 final"]


def test_shared_parameter_hook_runs_once_after_all_uses():
    w = Tensor(np.array([2.0]), requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.copy()))
    ((w * 3.0) * (w * 5.0) + w).sum().backward()  # d/dw (15 w² + w) = 30 w + 1
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [61.0])


def test_optimizer_in_backward_equals_the_usual_loop():
    """PyTorch's pattern: one optimizer per parameter, stepped from its hook."""
    ref, hooked = _mlp(3), _mlp(3)
    opt = numnet.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    per_param = {p: numnet.optim.SGD([p], lr=0.1, momentum=0.9) for p in hooked.parameters()}

    def step(p):
        per_param[p].step()
        per_param[p].zero_grad()

    for p in hooked.parameters():
        p.register_post_accumulate_grad_hook(step)
    for i in range(5):
        x, y = _data(seed=i)
        opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        opt.step()
        F.cross_entropy(hooked(x), y).backward()
    for (name, a), (_, b) in zip(ref.named_parameters(), hooked.named_parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)
        assert b.grad is None  # freed by the hooks


def test_hooks_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    xv, wv = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))

    def run(lib, T, wrap):
        x = wrap(xv)
        w = wrap(wv)
        h = x @ w
        h.register_hook(lambda g: g * 2.0)
        w.register_hook(lambda g: g + 1.0)
        out = (h * h).sum()
        out.backward()
        return x.grad, w.grad

    nx, nw = run(numnet, Tensor, lambda a: Tensor(a, dtype=np.float64, requires_grad=True))
    tx, tw = run(
        torch, torch.Tensor, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)
    )
    np.testing.assert_allclose(nx, tx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(nw, tw.numpy(), rtol=1e-12)


def test_a_kept_hook_gradient_is_not_the_leaf_s_grad():
    """A hook may keep its gradient; in-place changes of ``.grad`` must not reach it."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    kept = []
    w.register_hook(kept.append)
    (w * w).sum().backward()
    assert not np.shares_memory(kept[0].numpy(), w.grad)
    numnet.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)  # fills .grad in place
    np.testing.assert_array_equal(kept[0].numpy(), [2.0, 4.0])  # PyTorch: the same


def test_hooks_run_with_gradient_recording_off():
    """As in PyTorch's engine: a hook's arithmetic with tensors that require grad builds
    no graph."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    scale = Tensor(np.array([3.0, 5.0]), requires_grad=True)
    modes, results = [], []
    y = w * 2.0
    y.register_hook(lambda g: modes.append(numnet.is_grad_enabled()) or results.append(g * scale))
    w.register_post_accumulate_grad_hook(lambda p: modes.append(numnet.is_grad_enabled()))
    y.sum().backward()
    assert modes == [False, False] and numnet.is_grad_enabled()
    assert not results[0].requires_grad


def test_copies_leave_the_hooks_behind():
    """copy.deepcopy and pickle drop hooks, as in PyTorch (a copied model must not run
    the original's hooks; a lambda hook must not make a tensor unpicklable)."""
    model = _mlp()
    calls = []
    for p in model.parameters():
        p.register_hook(lambda g: calls.append("grad"))
        p.register_post_accumulate_grad_hook(lambda p: calls.append("post"))
    twin = copy.deepcopy(model)
    x, y = _data()
    F.cross_entropy(twin(x), y).backward()
    assert calls == []
    w = pickle.loads(pickle.dumps(model[0].weight))
    assert type(w) is nn.Parameter and w._hooks is None
    np.testing.assert_array_equal(w.numpy(), model[0].weight.numpy())
    F.cross_entropy(model(x), y).backward()  # the original keeps its hooks
    assert calls.count("grad") == calls.count("post") == len(list(model.parameters()))
