"""Cross-check numnet against PyTorch: forward values and gradients of every op and loss.

Each case builds the same computation in both libraries from the same NumPy inputs,
compares the outputs, then calls ``.backward()`` in both (with the same random
upstream gradient when the output is not a scalar) and compares the gradient of
every floating input. Most cases run in float64 with tight tolerances; a few run in
float32 with looser ones and also check that numnet keeps float32 throughout.

Skipped cleanly when torch is not installed (``pip install torch==2.13.0``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402

import numnet  # noqa: E402
import numnet.nn.functional as F  # noqa: E402
from numnet import nn  # noqa: E402

TF = torch.nn.functional
F64 = np.float64
F32 = np.float32
TOL = {F64: {"rtol": 1e-10, "atol": 1e-12}, F32: {"rtol": 2e-4, "atol": 2e-5}}


# -- the harness -------------------------------------------------------------------------
def _inputs(arrays, dtype, grad):
    """numnet and torch leaves for ``arrays``; floating ones get ``dtype`` and grad."""
    nn_in, t_in = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
            g = grad is None or i in grad
            nn_in.append(numnet.Tensor(a, dtype=dtype, requires_grad=g))
            t_in.append(torch.tensor(a, requires_grad=g))
        else:
            nn_in.append(numnet.Tensor(a))
            t_in.append(torch.from_numpy(a.copy()))
    return nn_in, t_in


def _close(ours, theirs, dtype, what, tol=None):
    tol = tol or TOL[dtype]
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours.data if isinstance(ours, numnet.Tensor) else ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **tol)


def crosscheck(fn_nn, fn_t, *arrays, dtype=F64, grad=None, seed=0, tol=None):
    """Compare ``fn_nn(*numnet_inputs)`` with ``fn_t(*torch_inputs)``, values and grads.

    ``grad``: indices of the floating inputs that require grad (default: all).
    """
    nn_in, t_in = _inputs(arrays, dtype, grad)
    ours, theirs = fn_nn(*nn_in), fn_t(*t_in)
    _close(ours, theirs, dtype, "forward", tol)
    assert ours.dtype == dtype, f"forward dtype {ours.dtype}, expected {dtype}"
    if theirs.ndim == 0:
        ours.backward()
        theirs.backward()
    else:
        up = np.random.default_rng(seed).standard_normal(theirs.shape).astype(dtype)
        ours.backward(up)
        theirs.backward(torch.from_numpy(up))
    for i, (a, b) in enumerate(zip(nn_in, t_in)):
        if not b.requires_grad:
            continue
        tg = b.grad if b.grad is not None else torch.zeros_like(b)
        assert a.grad is not None, f"numnet left no gradient on input {i}"
        assert a.grad.dtype == dtype, f"grad of input {i} has dtype {a.grad.dtype}"
        _close(a.grad, tg, dtype, f"gradient of input {i}", tol)


def rnd(*shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape)
    return rng.standard_normal(shape)


# -- arithmetic ----------------------------------------------------------------------------
ARITH = {
    "add": (lambda a, b: a + b),
    "sub": (lambda a, b: a - b),
    "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b),
    "pow": (lambda a, b: a ** b),
}


@pytest.mark.parametrize("name", sorted(ARITH))
@pytest.mark.parametrize("dtype", [F64, F32])
def test_binary_arithmetic(name, dtype):
    op = ARITH[name]
    a = rnd(3, 4, seed=1, low=0.5, high=2.0)
    b = rnd(3, 4, seed=2, low=0.5, high=2.0) * np.sign(rnd(3, 4, seed=3))
    if name == "pow":
        b = rnd(3, 4, seed=2, low=-1.5, high=2.5)  # tensor exponent, positive base
    crosscheck(op, op, a, b, dtype=dtype)


@pytest.mark.parametrize("name", sorted(ARITH))
def test_binary_with_python_scalar(name):
    op = ARITH[name]
    x = rnd(2, 5, seed=4, low=0.5, high=2.0)
    crosscheck(lambda t: op(t, 1.7), lambda t: op(t, 1.7), x)
    crosscheck(lambda t: op(1.3, t), lambda t: op(1.3, t), x)  # reflected (incl. 1.3 ** t)


def test_neg():
    crosscheck(lambda t: -t, lambda t: -t, rnd(3, 4))


@pytest.mark.parametrize("p", [2, 3, 0.5, -1.5, 1.0, 0])
def test_pow_scalar_exponent(p):
    x = rnd(3, 4, seed=5, low=0.2, high=3.0)
    if p in (2, 3):
        x = rnd(3, 4, seed=5)  # integer powers of negative numbers
    crosscheck(lambda t: t ** p, lambda t: t ** p, x)


def test_pow_float32():
    crosscheck(lambda t: t ** 3, lambda t: t ** 3, rnd(4, 4), dtype=F32)


# -- broadcasting binary ops (hypothesis) -------------------------------------------------
BCAST = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "maximum": (numnet.maximum, torch.maximum),
    "minimum": (numnet.minimum, torch.minimum),
}


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    name=st.sampled_from(sorted(BCAST)),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_binary(shapes, name, seed):
    (sa, sb), _ = shapes
    a = rnd(*sa, seed=seed)
    b = rnd(*sb, seed=seed + 1)
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5)
    crosscheck(*BCAST[name], a, b, seed=seed)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_like_torch(op):
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    b = np.array([[1.0, 0.0, 4.0], [0.0, -1.0, 2.0]])  # three ties
    crosscheck(getattr(numnet, op), getattr(torch, op), a, b)


# -- matmul -------------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),  # 2-D
    ((2, 3, 4), (2, 4, 5)),  # batched 3-D
    ((1, 3, 4), (6, 4, 2)),  # broadcast batch dim
    ((6, 3, 4), (4, 2)),  # 3-D @ 2-D (weight shared over the batch)
    ((3, 4), (5, 4, 2)),  # 2-D @ 3-D
    ((2, 1, 3, 4), (5, 4, 2)),  # 4-D batch broadcast
    ((4,), (4, 5)),  # 1-D @ 2-D
    ((3, 4), (4,)),  # 2-D @ 1-D
    ((2, 3, 4), (4,)),  # batched @ 1-D
    ((4,), (2, 4, 5)),  # 1-D @ batched
    ((4,), (4,)),  # inner product
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    crosscheck(lambda a, b: a @ b, lambda a, b: a @ b, rnd(*sa, seed=1), rnd(*sb, seed=2))


def test_matmul_float32():
    crosscheck(lambda a, b: a @ b, lambda a, b: a @ b, rnd(2, 8, 16, seed=1),
               rnd(16, 4, seed=2), dtype=F32)


# -- reductions ---------------------------------------------------------------------------
DIMS = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reductions(name, dim, keepdim):
    x = rnd(3, 4, 5, seed=7)
    if dim is None:
        def f_nn(t):
            return getattr(t, name)() if not keepdim else getattr(t, name)(keepdim=True)

        def f_t(t):
            if not keepdim:
                return getattr(t, name)()
            return getattr(t, name)(dim=tuple(range(t.ndim)), keepdim=True)
    else:
        def f_nn(t):
            return getattr(t, name)(dim=dim, keepdim=keepdim)

        def f_t(t):
            return getattr(t, name)(dim=dim, keepdim=keepdim)
    crosscheck(f_nn, f_t, x)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_ties_share_the_gradient_like_torch(name):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0], [-1.0, -1.0, 5.0, -1.0]])
    crosscheck(lambda t: getattr(t, name)(dim=1), lambda t: getattr(t, name)(dim=1), x)
    crosscheck(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_dim_values_and_indices(name, dim, keepdim):
    x = rnd(4, 5, seed=8)
    nn_x = numnet.Tensor(x, dtype=F64, requires_grad=True)
    t_x = torch.tensor(x, requires_grad=True)
    ours = getattr(nn_x, name)(dim=dim, keepdim=keepdim)
    theirs = getattr(t_x, name)(dim=dim, keepdim=keepdim)
    _close(ours.values, theirs.values, F64, "values")
    np.testing.assert_array_equal(np.asarray(ours.indices.data), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64
    up = rnd(*theirs.values.shape, seed=9)
    ours.values.backward(up)
    theirs.values.backward(torch.from_numpy(up))
    _close(nn_x.grad, t_x.grad, F64, "gradient")


def test_max_and_min_without_dim():
    x = rnd(4, 5, seed=10)
    crosscheck(lambda t: t.max(), lambda t: t.max(), x)
    crosscheck(lambda t: t.min(), lambda t: t.min(), x)


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False), ((0, 1), False)])
def test_logsumexp(dim, keepdim):
    x = rnd(3, 4, 2, seed=11) * 5
    crosscheck(lambda t: t.logsumexp(dim=dim, keepdim=keepdim),
               lambda t: torch.logsumexp(t, dim=dim, keepdim=keepdim), x)


def test_logsumexp_large_float32():
    x = rnd(4, 6, seed=12) * 1e3
    crosscheck(lambda t: numnet.logsumexp(t, dim=1), lambda t: torch.logsumexp(t, dim=1), x,
               dtype=F32)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False)])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var(dim, keepdim, unbiased):
    x = rnd(3, 4, 5, seed=13)
    corr = int(unbiased)
    if dim is None:
        crosscheck(lambda t: t.var(unbiased=unbiased), lambda t: t.var(correction=corr), x)
    else:
        crosscheck(lambda t: t.var(dim=dim, keepdim=keepdim, unbiased=unbiased),
                   lambda t: t.var(dim=dim, keepdim=keepdim, correction=corr), x)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize(
    "shape,dim", [((1,), None), ((3, 1), 1), ((1, 4), 0), ((1, 1, 3), (0, 1)), ((2, 0), 1)]
)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_var_std_with_zero_degrees_of_freedom_is_nan_like_torch(name, shape, dim, dtype):
    # one element with correction 1 (or none at all): NaN values and NaN gradients like
    # torch, and a UserWarning "degrees of freedom is <= 0" like torch's
    x = rnd(*shape, seed=14)
    kw = {} if dim is None else {"dim": dim}
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        crosscheck(lambda t: getattr(t, name)(**kw),
                   lambda t: getattr(t, name)(**kw, correction=1), x, dtype=dtype)


@pytest.mark.parametrize("dim", [None, 1])
def test_std_gradient_at_zero_spread_like_torch(dim):
    x = np.array([[2.0, 2.0, 2.0], [1.0, 3.0, 2.0]])
    kw = {} if dim is None else {"dim": dim}
    crosscheck(lambda t: (t[:1] if dim is None else t).std(**kw, unbiased=False),
               lambda t: (t[:1] if dim is None else t).std(**kw, correction=0), x)
    crosscheck(lambda t: t[:, :1].std(**kw, unbiased=False),
               lambda t: t[:, :1].std(**kw, correction=0), x)


# -- shape ops ----------------------------------------------------------------------------
SHAPE_CASES = {
    "reshape": (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
    "reshape_-1": (lambda t: t.reshape(-1, 3), lambda t: t.reshape(-1, 3)),
    "reshape_tuple": (lambda t: t.reshape((2, 12)), lambda t: t.reshape((2, 12))),
    "transpose": (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
    "transpose_neg": (lambda t: t.transpose(-1, -2), lambda t: t.transpose(-1, -2)),
    "permute": (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "permute_tuple": (lambda t: t.permute((1, 2, 0)), lambda t: t.permute((1, 2, 0))),
    "flatten": (lambda t: t.flatten(1), lambda t: t.flatten(1)),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda t: t.unsqueeze(1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shape_ops(name):
    crosscheck(*SHAPE_CASES[name], rnd(2, 3, 4, seed=14))


def test_T_of_a_matrix():
    crosscheck(lambda t: t.T, lambda t: t.T, rnd(3, 5, seed=15))


def test_reshape_then_matmul_grad_flows_through_views():
    def f_nn(t):
        return (t.T @ t).reshape(-1).sum()

    def f_t(t):
        return (t.T @ t).reshape(-1).sum()

    crosscheck(f_nn, f_t, rnd(4, 3, seed=16))


_rep = np.array([0, 2, 2, 1, 0, 2])  # repeated indices: gradients must add up
_mask = np.array([True, False, True, True])
INDEX_CASES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, 3),
    "step_slice": (slice(None), slice(None, None, 2)),
    "negative_step": (slice(None, None, -1), 0),
    "int_and_slice": (2, slice(1, None)),
    "int_array_repeated": _rep,
    "int_list_repeated": [0, 0, 3],
    "two_int_arrays": (np.array([0, 1, 1, 3]), np.array([2, 2, 2, 0])),
    "int_array_on_axis1": (slice(None), np.array([4, 4, 0])),
    "bool_mask_rows": _mask,
    "bool_mask_full": None,  # filled in the test (depends on values)
    "none": (None, slice(1, 3)),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_none": (Ellipsis, None),
    "mixed": (np.array([3, 0, 3]), slice(None, 2)),
}


@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_indexing(name):
    x = rnd(4, 5, seed=17)
    index = INDEX_CASES[name]
    if name == "bool_mask_full":
        index = x > 0.2

    def to_torch(i):
        if isinstance(i, tuple):
            return tuple(to_torch(j) for j in i)
        if isinstance(i, np.ndarray):
            return torch.from_numpy(i.copy())
        if isinstance(i, list):
            return torch.tensor(i)
        return i

    t_index = to_torch(index)
    if name == "negative_step":  # torch has no negative steps: flip instead
        crosscheck(lambda t: t[index], lambda t: t.flip(0)[:, 0], x)
        return
    crosscheck(lambda t: t[index], lambda t: t[t_index], x)


def test_indexing_with_integer_tensor():
    idx = np.array([1, 1, 0])
    crosscheck(lambda t: t[numnet.Tensor(idx)], lambda t: t[torch.from_numpy(idx)],
               rnd(3, 2, seed=18))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    a, b, c = rnd(2, 3, 4, seed=19), rnd(2, 3, 4, seed=20), rnd(2, 3, 4, seed=21)
    crosscheck(lambda *ts: numnet.cat(list(ts), dim=dim),
               lambda *ts: torch.cat(list(ts), dim=dim), a, b, c)


def test_cat_unequal_sizes():
    a, b = rnd(2, 3, seed=22), rnd(2, 5, seed=23)
    crosscheck(lambda a, b: numnet.cat([a, b], dim=1), lambda a, b: torch.cat([a, b], dim=1),
               a, b)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    a, b, c = rnd(3, 4, seed=24), rnd(3, 4, seed=25), rnd(3, 4, seed=26)
    crosscheck(lambda *ts: numnet.stack(list(ts), dim=dim),
               lambda *ts: torch.stack(list(ts), dim=dim), a, b, c)


# -- elementwise math --------------------------------------------------------------------
UNARY = {
    "exp": (numnet.exp, torch.exp, None),
    "log": (numnet.log, torch.log, (0.1, 4.0)),
    "sqrt": (numnet.sqrt, torch.sqrt, (0.1, 4.0)),
    "abs": (numnet.abs, torch.abs, None),
    "abs_method": (lambda t: abs(t), lambda t: abs(t), None),
    "clamp_both": (lambda t: t.clamp(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7), None),
    "clamp_min": (lambda t: t.clamp(min=0.1), lambda t: t.clamp(min=0.1), None),
    "clamp_max": (lambda t: t.clamp(max=-0.2), lambda t: t.clamp(max=-0.2), None),
    "clip_fn": (lambda t: numnet.clip(t, min=-1, max=1), lambda t: torch.clip(t, -1, 1), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [F64, F32])
def test_unary(name, dtype):
    f_nn, f_t, rng = UNARY[name]
    x = rnd(3, 5, seed=27) if rng is None else rnd(3, 5, seed=27, low=rng[0], high=rng[1])
    crosscheck(f_nn, f_t, x, dtype=dtype)


def test_abs_and_clamp_at_their_kinks():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    crosscheck(numnet.abs, torch.abs, x)  # sign(0) = 0 in both
    crosscheck(lambda t: t.clamp(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), x)  # bounds pass


@pytest.mark.parametrize("cond_kind", ["ndarray", "tensor"])
def test_where(cond_kind):
    a, b = rnd(3, 4, seed=28), rnd(3, 4, seed=29)
    cond = rnd(3, 4, seed=30) > 0
    nn_cond = cond if cond_kind == "ndarray" else numnet.Tensor(cond)
    t_cond = torch.from_numpy(cond)
    crosscheck(lambda a, b: numnet.where(nn_cond, a, b), lambda a, b: torch.where(t_cond, a, b),
               a, b)


def test_where_broadcasting():
    a, b = rnd(3, 1, seed=31), rnd(4, seed=32)
    cond = rnd(3, 4, seed=33) > 0
    crosscheck(lambda a, b: numnet.where(cond, a, b),
               lambda a, b: torch.where(torch.from_numpy(cond), a, b), a, b)


def test_where_from_comparison():
    x = rnd(3, 4, seed=34)
    crosscheck(lambda t: numnet.where(t > 0, t, t * 0.1),
               lambda t: torch.where(t > 0, t, t * 0.1), x)


# -- nn.functional --------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xshape", [(5, 4), (2, 5, 4), (4,)])
@pytest.mark.parametrize("dtype", [F64, F32])
def test_linear(bias, xshape, dtype):
    x, w, b = rnd(*xshape, seed=35), rnd(3, 4, seed=36), rnd(3, seed=37)
    if bias:
        crosscheck(F.linear, TF.linear, x, w, b, dtype=dtype)
    else:
        crosscheck(F.linear, TF.linear, x, w, dtype=dtype)


ACTS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, TF.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda t: F.leaky_relu(t, 0.2), lambda t: TF.leaky_relu(t, 0.2)),
    "softplus": (F.softplus, TF.softplus),
    "softmax": (lambda t: F.softmax(t, dim=-1), lambda t: TF.softmax(t, dim=-1)),
    "softmax_dim0": (lambda t: F.softmax(t, dim=0), lambda t: TF.softmax(t, dim=0)),
    "log_softmax": (lambda t: F.log_softmax(t, dim=1), lambda t: TF.log_softmax(t, dim=1)),
    "log_softmax_dim0": (lambda t: F.log_softmax(t, dim=0), lambda t: TF.log_softmax(t, dim=0)),
    "tensor_sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    "tensor_softmax": (lambda t: t.softmax(1), lambda t: t.softmax(1)),
}


@pytest.mark.parametrize("name", sorted(ACTS))
@pytest.mark.parametrize("dtype", [F64, F32])
def test_activations(name, dtype):
    x = rnd(4, 6, seed=38) * 3
    x[0, :3] = [0.0, 25.0, -25.0]  # the kink and both saturated ends
    crosscheck(*ACTS[name], x, dtype=dtype)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_softmax", "softmax", "tanh"])
def test_activations_at_extreme_logits(name):
    x = np.array([[-1e3, -40.0, 0.0, 40.0, 1e3]])
    crosscheck(*ACTS[name], x)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_mse_loss(reduction, dtype):
    crosscheck(lambda a, b: F.mse_loss(a, b, reduction=reduction),
               lambda a, b: TF.mse_loss(a, b, reduction=reduction),
               rnd(4, 3, seed=39), rnd(4, 3, seed=40), dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p = rnd(5, 3, seed=41, low=0.02, high=0.98)
    y = rnd(5, 3, seed=42, low=0.0, high=1.0)  # soft targets get a gradient too
    crosscheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
               lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), p, y)
    y01 = (y > 0.5).astype(F64)
    crosscheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
               lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), p, y01,
               grad=(0,), dtype=F32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    z = rnd(5, 3, seed=43) * 4
    z[0] = [-1e3, 0.0, 1e3]
    y = rnd(5, 3, seed=44, low=0.0, high=1.0)
    crosscheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
               lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), z, y)
    crosscheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
               lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
               z, (y > 0.5).astype(F64), grad=(0,), dtype=F32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_cross_entropy_int_labels(reduction, dtype):
    z = rnd(6, 4, seed=45) * 3
    labels = np.array([0, 3, 1, 1, 2, 3])
    crosscheck(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
               lambda a, t: TF.cross_entropy(a, t, reduction=reduction), z, labels, dtype=dtype)


def test_cross_entropy_large_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5.0, 5.0, 5.0]])
    labels = np.array([1, 2, 0])
    crosscheck(F.cross_entropy, TF.cross_entropy, z, labels)
    crosscheck(F.cross_entropy, TF.cross_entropy, z, labels, dtype=F32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction):
    z = rnd(5, 4, seed=46) * 2
    t = np.random.default_rng(47).dirichlet(np.ones(4), size=5)
    crosscheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
               lambda a, b: TF.cross_entropy(a, b, reduction=reduction), z, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial(reduction):
    z = rnd(2, 4, 3, 2, seed=48)  # (N, C, d1, d2)
    labels = np.random.default_rng(49).integers(0, 4, size=(2, 3, 2))
    crosscheck(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
               lambda a, t: TF.cross_entropy(a, t, reduction=reduction), z, labels)
    probs = np.moveaxis(np.random.default_rng(50).dirichlet(np.ones(4), size=(2, 3, 2)), -1, 1)
    crosscheck(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
               lambda a, t: TF.cross_entropy(a, t, reduction=reduction), z, probs)


def test_cross_entropy_single_sample():
    z = rnd(5, seed=51)
    crosscheck(lambda a, t: F.cross_entropy(a, t), lambda a, t: TF.cross_entropy(a, t),
               z, np.array(3))


def test_cross_entropy_equals_nll_of_log_softmax():
    z, labels = rnd(6, 5, seed=52), np.array([4, 0, 0, 2, 1, 3])
    crosscheck(lambda a, t: F.nll_loss(F.log_softmax(a, dim=1), t),
               lambda a, t: TF.cross_entropy(a, t), z, labels)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    logp = np.log(np.random.default_rng(53).dirichlet(np.ones(4), size=6))
    labels = np.array([0, 3, 3, 1, 2, 0])  # repeated labels
    crosscheck(lambda a, t: F.nll_loss(a, t, reduction=reduction),
               lambda a, t: TF.nll_loss(a, t, reduction=reduction), logp, labels)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 4, 3, 2), (3, 4, 1, 2, 2)])
def test_nll_loss_spatial(reduction, shape):
    # (N, C, d1, ..., dk) log-probabilities, (N, d1, ..., dk) labels: class axis 1
    probs = np.random.default_rng(57).dirichlet(np.ones(4), size=(shape[0], *shape[2:]))
    logp = np.ascontiguousarray(np.log(np.moveaxis(probs, -1, 1)))
    labels = np.random.default_rng(58).integers(0, 4, size=(shape[0], *shape[2:]))
    crosscheck(lambda a, t: F.nll_loss(a, t, reduction=reduction),
               lambda a, t: TF.nll_loss(a, t, reduction=reduction), logp, labels)
    crosscheck(lambda a, t: F.nll_loss(F.log_softmax(a, dim=1), t, reduction=reduction),
               lambda a, t: TF.cross_entropy(a, t, reduction=reduction), logp * 3, labels,
               dtype=F32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_3d_float32(reduction):
    z = rnd(3, 5, 2, 2, 2, seed=59) * 4  # (N, C, d1, d2, d3)
    labels = np.random.default_rng(60).integers(0, 5, size=(3, 2, 2, 2))
    crosscheck(lambda a, t: F.cross_entropy(a, t, reduction=reduction),
               lambda a, t: TF.cross_entropy(a, t, reduction=reduction), z, labels, dtype=F32)


def test_nll_loss_single_sample():
    logp = np.log(np.random.default_rng(61).dirichlet(np.ones(5)))
    crosscheck(F.nll_loss, TF.nll_loss, logp, np.array(3))


# -- class weights, ignore_index and label smoothing ------------------------------------------
CLASS_SHAPES = [(7, 4), (3, 4, 2, 3)]  # (N, C) and (N, C, d1, d2)
IGNORE = {  # name: (ignore_index, how to make the labels)
    "no-hits": (-100, lambda y: y),
    "default-hits": (-100, lambda y: np.where(np.arange(y.size).reshape(y.shape) % 3 == 1,
                                              -100, y)),
    "in-range": (1, lambda y: y),  # class 1 is ignored wherever it occurs
}


def _class_case(shape, ignore, seed):
    z = rnd(*shape, seed=seed) * 2
    n_classes = shape[1]
    labels = np.random.default_rng(seed + 1).integers(0, n_classes, size=(shape[0], *shape[2:]))
    labels.reshape(-1)[:2] = [1, 0]  # class 1 occurs, so "in-range" ignores something
    ignore_index, make = IGNORE[ignore]
    weight = rnd(n_classes, seed=seed + 2, low=0.2, high=3.0)
    return z, make(labels), ignore_index, weight


def _torch_weight(weight, dtype):
    return None if weight is None else torch.from_numpy(weight.astype(dtype))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore", sorted(IGNORE))
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_weight_ignore_index_label_smoothing(
    weighted, ignore, smoothing, reduction, shape, dtype
):
    z, labels, ignore_index, weight = _class_case(shape, ignore, seed=70)
    w = weight if weighted else None
    kw = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": smoothing}
    crosscheck(lambda a, t: F.cross_entropy(a, t, w, **kw),
               lambda a, t: TF.cross_entropy(a, t, _torch_weight(w, dtype), **kw),
               z, labels, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", sorted(IGNORE))
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_weight_ignore_index(weighted, ignore, reduction, shape, dtype):
    z, labels, ignore_index, weight = _class_case(shape, ignore, seed=75)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    w = weight if weighted else None
    kw = {"ignore_index": ignore_index, "reduction": reduction}
    crosscheck(lambda a, t: F.nll_loss(a, t, w, **kw),
               lambda a, t: TF.nll_loss(a, t, _torch_weight(w, dtype), **kw),
               logp, labels, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("shape", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets_weight_and_smoothing(
    weighted, smoothing, reduction, shape, dtype
):
    z = rnd(*shape, seed=80) * 2
    probs = np.random.default_rng(81).dirichlet(np.ones(shape[1]), size=(shape[0], *shape[2:]))
    probs = np.ascontiguousarray(np.moveaxis(probs, -1, 1))
    w = rnd(shape[1], seed=82, low=0.2, high=3.0) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    # both gradients: the logits' and the (smoothed, weighted) probability targets'
    crosscheck(lambda a, t: F.cross_entropy(a, t, w, **kw),
               lambda a, t: TF.cross_entropy(a, t, _torch_weight(w, dtype), **kw),
               z, probs, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
def test_cross_entropy_options_at_large_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5.0, 5.0, 5.0], [-1e4, 1e4, 2e3]])
    labels = np.array([1, -100, 0, 2])
    w = np.array([0.5, 2.0, 1.5])
    for kw in ({"label_smoothing": 0.1}, {"label_smoothing": 0.1, "reduction": "none"},
               {"reduction": "sum"}):
        crosscheck(lambda a, t, kw=kw: F.cross_entropy(a, t, w, **kw),
                   lambda a, t, kw=kw: TF.cross_entropy(a, t, _torch_weight(w, dtype), **kw),
                   z, labels, dtype=dtype)


def test_cross_entropy_options_single_sample():
    z, w = rnd(5, seed=83), rnd(5, seed=84, low=0.5, high=2.0)
    for label in (np.array(3), np.array(-100)):
        for reduction in REDUCTIONS:
            kw = {"reduction": reduction, "label_smoothing": 0.2}
            crosscheck(lambda a, t, kw=kw: F.cross_entropy(a, t, w, **kw),
                       lambda a, t, kw=kw: TF.cross_entropy(a, t, torch.from_numpy(w), **kw),
                       z, label)
    crosscheck(lambda a, t: F.nll_loss(a, t, w, reduction="none"),
               lambda a, t: TF.nll_loss(a, t, torch.from_numpy(w), reduction="none"),
               z, np.array(-100))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [F64, F32])
def test_weighted_loss_modules(reduction, dtype):
    z, labels, ignore_index, w = _class_case((6, 4, 3), "default-hits", seed=85)
    crosscheck(nn.CrossEntropyLoss(w, ignore_index=ignore_index, reduction=reduction,
                                   label_smoothing=0.3),
               torch.nn.CrossEntropyLoss(_torch_weight(w, dtype), ignore_index=ignore_index,
                                         reduction=reduction, label_smoothing=0.3),
               z, labels, dtype=dtype)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    crosscheck(nn.NLLLoss(numnet.Tensor(w, dtype=F64), ignore_index=2, reduction=reduction),
               torch.nn.NLLLoss(_torch_weight(w, dtype), ignore_index=2, reduction=reduction),
               logp, np.abs(labels) % 4, dtype=dtype)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_every_target_ignored_is_nan_with_zero_gradient(smoothing):
    z = rnd(3, 4, seed=86)
    w = rnd(4, seed=87, low=0.5, high=2.0)
    nn_z, t_z = _inputs([z], F64, None)
    labels = np.full(3, -100)
    ours = F.cross_entropy(nn_z[0], labels, w, label_smoothing=smoothing)
    theirs = TF.cross_entropy(t_z[0], torch.from_numpy(labels), torch.from_numpy(w),
                              label_smoothing=smoothing)
    assert np.isnan(ours.item()) and torch.isnan(theirs)
    ours.backward()
    theirs.backward()
    np.testing.assert_array_equal(nn_z[0].grad, t_z[0].grad.numpy())  # zeros in both


# -- binary cross-entropy: weight and pos_weight -----------------------------------------------
BIN_SHAPE = (4, 3, 5)  # (N, C, L)
BIN_WEIGHTS = [None, (), (5,), (3, 1), (4, 1, 1), (4, 3, 5)]  # broadcast to the input's shape
BIN_POS_WEIGHTS = [None, (5,), (3, 1), (1,)]  # aligned at the last axis, as torch's


def _bin_inputs(seed, logits=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(BIN_SHAPE) * 4 if logits else rng.uniform(0.02, 0.98, BIN_SHAPE)
    if logits:
        x[0, 0] = [-1e3, 1e3, -1e3, 1e3, 0.0]  # large logits, both labels
    y = rng.uniform(0.0, 1.0, BIN_SHAPE)
    y.reshape(-1)[::2] = np.round(y.reshape(-1)[::2])
    y[0, 0, :4] = [1.0, 1.0, 0.0, 0.0]
    return x, y


def _const(shape, seed, low=0.2, high=3.0):
    return None if shape is None else rnd(*shape, seed=seed, low=low, high=high)


def _t(a, dtype):
    return None if a is None else torch.from_numpy(np.asarray(a, dtype=dtype))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pw_shape", BIN_POS_WEIGHTS)
@pytest.mark.parametrize("w_shape", BIN_WEIGHTS)
def test_binary_cross_entropy_with_logits_weight_and_pos_weight(
    w_shape, pw_shape, reduction, dtype
):
    z, y = _bin_inputs(90)
    w, pw = _const(w_shape, 91), _const(pw_shape, 92, 0.1, 4.0)
    # gradients of the logits and of the (soft) targets
    crosscheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction,
                                                        pos_weight=pw),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, _t(w, dtype), reduction=reduction,
                                                         pos_weight=_t(pw, dtype)),
        z, y, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", BIN_WEIGHTS)
def test_binary_cross_entropy_weight(w_shape, reduction, dtype):
    p, y = _bin_inputs(93, logits=False)
    w = _const(w_shape, 94)
    crosscheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
               lambda a, b: TF.binary_cross_entropy(a, b, _t(w, dtype), reduction=reduction),
               p, y, dtype=dtype)


def test_binary_cross_entropy_weight_at_exact_zero_and_one():
    p = np.array([[0.0, 1.0, 0.5], [1e-9, 1.0, 0.25]])
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.3]])
    w = np.array([2.0, 0.5, 3.0])
    crosscheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction="sum"),
               lambda a, b: TF.binary_cross_entropy(a, b, torch.from_numpy(w), reduction="sum"),
               p, y, grad=[0])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_loss_modules_with_weights(reduction, dtype):
    z, y = _bin_inputs(95)
    w, pw = _const((3, 1), 96), _const((5,), 97, 0.1, 4.0)
    crosscheck(nn.BCEWithLogitsLoss(w, reduction=reduction, pos_weight=pw),
               torch.nn.BCEWithLogitsLoss(_t(w, dtype), reduction=reduction,
                                          pos_weight=_t(pw, dtype)),
               z, y, dtype=dtype)
    p, y = _bin_inputs(98, logits=False)
    crosscheck(nn.BCELoss(numnet.Tensor(w, dtype=F64), reduction=reduction),
               torch.nn.BCELoss(_t(w, dtype), reduction=reduction), p, y, dtype=dtype)


LOSS_MODULES = [
    ("MSELoss", "MSELoss", False),
    ("BCEWithLogitsLoss", "BCEWithLogitsLoss", False),
    ("CrossEntropyLoss", "CrossEntropyLoss", True),
]


@pytest.mark.parametrize("ours,theirs,labels", LOSS_MODULES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules(ours, theirs, labels, reduction):
    z = rnd(4, 3, seed=54)
    t = np.array([2, 0, 1, 1]) if labels else rnd(4, 3, seed=55, low=0.0, high=1.0)
    crosscheck(getattr(nn, ours)(reduction=reduction),
               getattr(torch.nn, theirs)(reduction=reduction), z, t, grad=(0,))


def test_dropout_is_identity_at_p0_and_in_eval():
    x = rnd(4, 5, seed=56)
    crosscheck(lambda t: F.dropout(t, p=0.0, training=True),
               lambda t: TF.dropout(t, p=0.0, training=True), x)
    crosscheck(lambda t: F.dropout(t, p=0.7, training=False),
               lambda t: TF.dropout(t, p=0.7, training=False), x)
    ours, theirs = nn.Dropout(0.5), torch.nn.Dropout(0.5)
    ours.eval()
    theirs.eval()
    crosscheck(lambda t: ours(t) * 2, lambda t: theirs(t) * 2, x)


# -- modules and state dicts ---------------------------------------------------------------
def _twin_mlps(dtype, sizes=(6, 16, 8, 3), act=("ReLU", "ReLU")):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, generator=i, dtype=dtype, bias=i != 1))
        if i < len(act):
            layers.append(getattr(nn, act[i])())
    ours = nn.Sequential(*layers)
    t_layers = []
    for m in layers:
        if isinstance(m, nn.Linear):
            t_layers.append(torch.nn.Linear(m.in_features, m.out_features,
                                            bias=m.bias is not None, dtype=torch.float64
                                            if dtype == F64 else torch.float32))
        else:
            t_layers.append(getattr(torch.nn, type(m).__name__)())
    theirs = torch.nn.Sequential(*t_layers)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("act", [("ReLU", "ReLU"), ("Tanh", "Sigmoid")])
def test_sequential_state_dict_in_torch(dtype, act):
    ours, theirs = _twin_mlps(dtype, act=act)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rnd(7, 6, seed=57).astype(dtype)
    labels = np.array([0, 1, 2, 2, 1, 0, 1])
    out = ours(numnet.Tensor(x, dtype=dtype))
    t_out = theirs(torch.from_numpy(x))
    _close(out, t_out, dtype, "Sequential forward")
    F.cross_entropy(out, labels).backward()
    TF.cross_entropy(t_out, torch.from_numpy(labels)).backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad.dtype == dtype
        _close(p.grad, t_params[name].grad, dtype, f"gradient of {name}")


def test_linear_module_state_dict_round_trip():
    ours = nn.Linear(5, 2, generator=3, dtype=F64)
    theirs = torch.nn.Linear(5, 2, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rnd(3, 5, seed=58)
    crosscheck(ours, theirs, x)
    # and back: torch's weights into numnet
    theirs2 = torch.nn.Linear(5, 2, dtype=torch.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs2.state_dict().items()})
    with torch.no_grad(), numnet.no_grad():
        _close(ours(numnet.Tensor(x, dtype=F64)), theirs2(torch.from_numpy(x)), F64, "forward")


# -- a composite graph: shared subexpressions, fan-out, mixed ops ---------------------------
def test_composite_graph():
    def f(x, w, b):
        h = (x @ w + b).tanh()
        s = h.softmax(1)
        return (s * h).sum(dim=1).logsumexp(dim=0) + (h ** 2).mean() - h.amax(dim=0).sum()

    crosscheck(f, f, rnd(5, 4, seed=59), rnd(4, 3, seed=60), rnd(3, seed=61))


# -- divergences from torch found by this file, fixed in numnet (regression tests) ---------
def test_clamp_positional_bounds_like_torch():
    crosscheck(lambda t: numnet.clamp(t, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5),
               rnd(3, 4, seed=62))


@pytest.mark.parametrize("name", ["add", "mul", "div"])
def test_float32_with_integer_tensor_stays_float32(name):
    op = ARITH[name]
    x = rnd(3, 4, seed=63)
    k = np.arange(1, 13).reshape(3, 4)
    crosscheck(lambda a, b: op(a, b), lambda a, b: op(a, b), x, k, dtype=F32)


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_float64_loss_with_ndarray_target(loss):
    x = rnd(4, 3, seed=64, low=0.1, high=0.9)
    t = rnd(4, 3, seed=65, low=0.0, high=1.0)
    crosscheck(lambda a: getattr(F, loss)(a, t),
               lambda a: getattr(TF, loss)(a, torch.from_numpy(t)), x)


def test_max_with_dim_routes_tied_gradient_to_the_returned_index():
    x = np.array([[1.0, 3.0, 3.0], [5.0, 0.0, 5.0]])
    crosscheck(lambda t: t.max(dim=1).values, lambda t: t.max(dim=1).values, x)
    crosscheck(lambda t: t.min(dim=0).values, lambda t: t.min(dim=0).values, x)


def test_binary_cross_entropy_at_exact_zero_and_one():
    p = np.array([0.0, 1.0, 0.5, 1e-9, 1.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    crosscheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"),
               lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"), p, y, grad=[0])
