"""The VJP contract (numnet.autograd.registry): what a VJP may return, and that the
engine's in-place accumulation never writes into an array it does not own."""

import importlib

import numpy as np
import pytest

import numnet
from numnet.autograd import PRIMITIVES
from numnet.autograd.registry import primitive


@pytest.fixture
def register():
    """Register test primitives and take them out of the registry afterwards (the
    registry-wide tests must not see them)."""
    names = []

    def reg(name, fn, **kw):
        names.append(name)
        return primitive(name, family="test", **kw)(fn)

    yield reg
    for name in names:
        PRIMITIVES.pop(name, None)


def _dot(x, w):
    """``Σ x w`` whose VJP returns the saved input ``w`` (or ``x``) itself when ``g == 1``."""
    y = np.asarray((x * w).sum(), dtype=x.dtype)

    def vjp(g, needs):
        if g == 1:
            return w, x  # the inputs' own arrays: kept, not the engine's
        return g * w, g * x

    return y, vjp


def _pass(x):
    """The identity (a copy), whose VJP returns the incoming adjoint itself."""

    def vjp(g, needs):
        return (g,)

    return x.copy(), vjp


def test_vjp_returning_a_saved_array_twice(register):
    dot = register("contract_dot", _dot)
    x = numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w1 = numnet.tensor([10.0, 20.0, 30.0], requires_grad=True)
    w2 = numnet.tensor([0.5, 0.25, 0.125], requires_grad=True)
    kept1, kept2 = w1.data.copy(), w2.data.copy()
    loss = dot(x, w1) + dot(x, w2) + dot(x, w1)  # x receives w1, w2, w1
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * kept1 + kept2)
    np.testing.assert_array_equal(w1.data, kept1)  # not accumulated into
    np.testing.assert_array_equal(w2.data, kept2)
    np.testing.assert_array_equal(w1.grad, 2 * x.data)
    x.grad[...] = 0  # .grad never shares an input's array
    np.testing.assert_array_equal(w1.data, kept1)


def test_vjp_returning_the_incoming_adjoint(register):
    through = register("contract_pass", _pass, saves=())
    x = numnet.tensor([1.0, -2.0], requires_grad=True)
    a = x * 3.0
    seen = []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    b = through(a)
    c = through(a)
    (b * 2.0 + c * 5.0 + through(b)).sum().backward()
    np.testing.assert_array_equal(seen[0], [8.0, 8.0])  # 2 + 5 + 1
    np.testing.assert_array_equal(x.grad, [24.0, 24.0])


def test_same_primitive_registered_again_replaces_it(register):
    through = register("contract_same", _pass, saves=())
    register("contract_same", _pass, saves=())  # the same function: no error
    assert PRIMITIVES["contract_same"].forward is _pass
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    through(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_two_primitives_under_one_name_raise(register):
    register("contract_clash", _pass, saves=())
    with pytest.raises(RuntimeError, match="registered twice"):
        register("contract_clash", _dot)


@pytest.mark.parametrize("module", ["elementwise", "reductions", "activations"])
def test_reloading_an_ops_module(module):
    mod = importlib.import_module(f"numnet.ops.{module}")
    before = set(PRIMITIVES)
    importlib.reload(mod)
    assert set(PRIMITIVES) == before
    x = numnet.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    loss = (x.exp() * x).tanh().sum() + x.relu().mean() + x.amax()
    loss.backward()
    assert x.grad.shape == (2, 2) and np.isfinite(x.grad).all()
