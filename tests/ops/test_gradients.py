"""Every registered primitive is gradient-checked against central finite differences.

``CASES`` maps each differentiable primitive's name to checks (a function and its
float64 inputs); a primitive registered without an entry fails
``test_every_primitive_has_a_gradcheck_entry``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numnet
from numnet import ops
from numnet.autograd import PRIMITIVES
from numnet.testing import GradcheckError, gradcheck

R = np.random.default_rng(1234)


def t(*shape, low=-2.0, high=2.0, positive=False, requires_grad=True):
    a = R.uniform(0.5, 2.0, shape) if positive else R.uniform(low, high, shape)
    return numnet.Tensor(a, dtype=np.float64, requires_grad=requires_grad)


LAB = numnet.Tensor(np.array([0, 2, 1, 2]))


def away_from(x, points, gap=0.05):
    """Move entries of x away from kinks so finite differences are valid."""
    for p in points:
        near = np.abs(x.data - p) < gap
        x.data[near] = p + gap * np.sign(x.data[near] - p + 1e-12) * 2
    return x


CASES = {
    "add": [(ops.add, [t(3, 4), t(4)]), (ops.add, [t(2, 1, 3), t(4, 1)])],
    "sub": [(ops.sub, [t(3, 4), t(3, 1)])],
    "mul": [(ops.mul, [t(3, 4), t(1, 4)])],
    "div": [(ops.div, [t(3, 4), t(3, 4, positive=True)])],
    "neg": [(ops.neg, [t(5)])],
    "pow": [(lambda x: ops.pow(x, 3.0), [t(4)]), (ops.pow, [t(3, positive=True), t(3)])],
    "exp": [(ops.exp, [t(2, 3)])],
    "log": [(ops.log, [t(2, 3, positive=True)])],
    "sqrt": [(ops.sqrt, [t(2, 3, positive=True)])],
    "abs": [(ops.abs, [away_from(t(2, 3), [0.0])])],
    "clamp": [(lambda x: ops.clamp(x, min=-0.5, max=0.7), [away_from(t(4, 3), [-0.5, 0.7])])],
    "maximum": [(ops.maximum, [t(3, 4), t(4)])],
    "minimum": [(ops.minimum, [t(3, 4), t(3, 1)])],
    "where": [(lambda a, b: ops.where(a.data > 0, a, b), [t(3, 4), t(3, 4)])],
    "cast": [(lambda x: ops.cast(x, dtype=np.float64) * 2, [t(3)])],
    "sum": [
        (lambda x: ops.sum(x, dim=1), [t(2, 3, 4)]),
        (lambda x: ops.sum(x, dim=(0, 2), keepdim=True), [t(2, 3, 4)]),
        (lambda x: ops.sum(x), [t(3, 2)]),
    ],
    "mean": [
        (lambda x: ops.mean(x, dim=-1), [t(2, 5)]),
        (lambda x: ops.mean(x, dim=0, keepdim=True), [t(2, 5)]),
    ],
    "amax": [(lambda x: ops.amax(x, dim=1), [t(3, 5)]), (lambda x: ops.amax(x), [t(4, 2)])],
    "amin": [(lambda x: ops.amin(x, dim=0, keepdim=True), [t(3, 5)])],
    "logsumexp": [(lambda x: ops.logsumexp(x, dim=1), [t(3, 5)])],
    "matmul": [
        (ops.matmul, [t(3, 4), t(4, 2)]),
        (ops.matmul, [t(2, 3, 4), t(4, 5)]),
        (ops.matmul, [t(2, 1, 3, 4), t(3, 4, 2)]),
        (ops.matmul, [t(4), t(4, 2)]),
        (ops.matmul, [t(3, 4), t(4)]),
        (ops.matmul, [t(4), t(4)]),
    ],
    "linear": [(ops.linear, [t(5, 3), t(4, 3), t(4)]), (ops.linear, [t(2, 5, 3), t(4, 3)])],
    "reshape": [(lambda x: ops.reshape(x, shape=(3, -1)), [t(2, 3, 2)])],
    "permute": [(lambda x: ops.permute(x, dims=(2, 0, 1)), [t(2, 3, 4)])],
    "broadcast_to": [(lambda x: ops.broadcast_to(x, shape=(2, 3, 4)), [t(3, 1)])],
    "getitem": [
        (lambda x: ops.getitem(x, index=(slice(1, None), [0, 2, 2])), [t(3, 4)]),
        (lambda x: ops.getitem(x, index=(Ellipsis, None, 1)), [t(2, 3)]),
        (lambda x: ops.getitem(x, index=np.array([True, False, True])), [t(3, 2)]),
    ],
    "cat": [(lambda a, b: ops.cat(a, b, dim=1), [t(2, 3), t(2, 2)])],
    "stack": [(lambda a, b: ops.stack(a, b, dim=1), [t(2, 3), t(2, 3)])],
    "sigmoid": [(ops.sigmoid, [t(3, 4, low=-6, high=6)])],
    "tanh": [(ops.tanh, [t(3, 4)])],
    "relu": [(ops.relu, [away_from(t(3, 4), [0.0])])],
    "leaky_relu": [(lambda x: ops.leaky_relu(x, negative_slope=0.1), [away_from(t(3, 4), [0.0])])],
    "softplus": [(ops.softplus, [t(3, 4, low=-8, high=8)])],
    "arctan": [(ops.arctan, [t(3, 4)])],
    "straight_through_heaviside": [],  # surrogate gradient: checked in test_straight_through
    "straight_through_sign": [],
    "log_softmax": [
        (lambda x: ops.log_softmax(x, dim=1), [t(3, 5)]),
        (lambda x: ops.log_softmax(x, dim=0), [t(3, 5)]),
    ],
    "cross_entropy_logits": [
        (lambda z, r=r: ops.cross_entropy_logits(z, LAB, reduction=r), [t(4, 3)])
        for r in ("mean", "sum", "none")
    ],
    "cross_entropy_soft": [
        (
            lambda z, p, r=r: ops.cross_entropy_soft(z, p, reduction=r),
            [t(4, 3), t(4, 3, positive=True)],
        )
        for r in ("mean", "sum", "none")
    ],
    "binary_cross_entropy_probs": [
        (ops.binary_cross_entropy_probs, [t(6, low=0.05, high=0.95), t(6, low=0, high=1)])
    ],
    "binary_cross_entropy_logits": [
        (ops.binary_cross_entropy_logits, [t(6, low=-5, high=5), t(6, low=0, high=1)])
    ],
    # convolution and pooling: strides, paddings, dilations, groups, odd sizes
    "conv2d": [
        (lambda x, w, b: ops.conv2d(x, w, b, padding=1), [t(2, 3, 5, 6), t(4, 3, 3, 3), t(4)]),
        (
            lambda x, w: ops.conv2d(x, w, stride=2, padding=(0, 1), dilation=(2, 1)),
            [t(2, 2, 7, 6), t(3, 2, 2, 3)],
        ),
        (
            lambda x, w, b: ops.conv2d(x, w, b, padding="same", groups=2),
            [t(1, 4, 5, 5), t(4, 2, 2, 3), t(4)],
        ),
        (
            lambda x, w, b: ops.conv2d(x, w, b, stride=(1, 3), groups=3),
            [t(2, 3, 4, 7), t(6, 1, 3, 2), t(6)],
        ),
        (  # channels-last input (as produced by a previous conv2d)
            lambda x, w: ops.conv2d(ops.permute(x, dims=(0, 3, 1, 2)), w, padding=2),
            [t(1, 5, 4, 3), t(2, 3, 5, 5)],
        ),
    ],
    "max_pool2d": [
        (lambda x: ops.max_pool2d(x, kernel_size=2), [t(2, 3, 4, 6)]),
        (lambda x: ops.max_pool2d(x, kernel_size=2), [t(1, 2, 5, 7)]),  # odd: drop last row
        (lambda x: ops.max_pool2d(x, kernel_size=3, stride=2, padding=1), [t(2, 2, 7, 5)]),
        (
            lambda x: ops.max_pool2d(
                ops.permute(x, dims=(0, 3, 1, 2)), kernel_size=(2, 3), stride=(1, 2)
            ),
            [t(2, 5, 7, 3)],
        ),
    ],
    "relu_max_pool2d": [  # inputs of both signs: windows whose maximum is ≤ 0 get no gradient
        (lambda x: ops.relu_max_pool2d(x, kernel_size=2), [t(2, 3, 4, 6)]),
        (lambda x: ops.relu_max_pool2d(x, kernel_size=3, stride=2, padding=1), [t(2, 2, 7, 5)]),
        (
            lambda x: ops.relu_max_pool2d(ops.permute(x, dims=(0, 3, 1, 2)), kernel_size=2),
            [t(2, 6, 4, 9)],
        ),
    ],
    "avg_pool2d": [
        (lambda x: ops.avg_pool2d(x, kernel_size=2), [t(2, 3, 4, 5)]),
        (
            lambda x: ops.avg_pool2d(x, kernel_size=(3, 2), stride=(2, 1), padding=1),
            [t(1, 2, 7, 5)],
        ),
        (
            lambda x: ops.avg_pool2d(ops.permute(x, dims=(0, 3, 1, 2)), kernel_size=3, stride=1),
            [t(1, 4, 5, 2)],
        ),
    ],
}

# Primitives whose derivative is zero almost everywhere: they record no graph.
NON_DIFFERENTIABLE = {
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "argmax",
    "argmin",
    "heaviside_step",
    "sign_step",
}


def test_every_primitive_has_a_gradcheck_entry():
    missing = [n for n, p in PRIMITIVES.items() if p.differentiable and n not in CASES]
    assert not missing, f"primitives without a gradcheck entry: {missing}"
    declared = {n for n, p in PRIMITIVES.items() if not p.differentiable}
    assert declared == NON_DIFFERENTIABLE


@pytest.mark.parametrize(
    "name,fn,inputs",
    [(n, fn, xs) for n, cases in CASES.items() for fn, xs in cases],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_primitive_gradcheck(name, fn, inputs):
    assert gradcheck(fn, inputs, mode="both")


def test_gradcheck_detects_a_wrong_vjp():
    from numnet.autograd.registry import Primitive, apply

    def bad_square(x):
        return x * x, lambda g, needs: (g * x,)  # missing factor 2

    prim = Primitive("bad_square", "test", bad_square)
    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(lambda x: apply(prim, (x,), {}), [t(3)], mode="elementwise")
    with pytest.raises(GradcheckError, match="direction"):
        gradcheck(lambda x: apply(prim, (x,), {}), [t(3)], mode="projection")


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(ops.exp, [numnet.Tensor([1.0, 2.0], requires_grad=True)])


def test_straight_through():
    x = t(6)
    ops.straight_through_heaviside(x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(6))
    x = numnet.Tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float64, requires_grad=True)
    y = ops.straight_through_sign(x)
    np.testing.assert_array_equal(y.data, [-1, -1, 1, 1, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])


# -- broadcasting: property tests over random compatible shapes ---------------------------
@st.composite
def broadcast_pair(draw):
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    )
    return shapes.input_shapes


@settings(max_examples=40, deadline=None)
@given(broadcast_pair(), st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcast_binary_ops_gradcheck(shapes, name):
    a = numnet.Tensor(R.uniform(0.5, 2, shapes[0]), dtype=np.float64, requires_grad=True)
    b = numnet.Tensor(R.uniform(-2, -0.5, shapes[1]), dtype=np.float64, requires_grad=True)
    fn = getattr(ops, name)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert gradcheck(fn, [a, b], mode="elementwise")
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
