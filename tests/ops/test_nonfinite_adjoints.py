"""Non-finite adjoints: ``δy`` holding ``±inf`` and NaN must give PyTorch's ``δx``.

Where a local derivative is 0, PyTorch's backward is sometimes a *selection* (ReLU's
``threshold_backward``, clamp, maximum, max-pooling, indexing: ``where(mask, δy, 0)``,
so ``δx = 0`` even for ``δy = ∞``) and sometimes a *product* (abs, amax, sigmoid,
mul, dropout: ``δy · 0 = NaN`` for ``δy = ±∞`` or NaN). numnet must give the same
answer in each case, so an overflow in a later layer poisons exactly the gradients it
poisons in PyTorch.

Every differentiable op that PyTorch also has runs here in float64 on inputs that put
the local derivative at 0 and away from it, with adjoints of four kinds: finite
(random), all ``+inf``, all ``-inf``, all NaN, and a mix of finite values, ``±inf``,
NaN and 0 (each input position meets each adjoint value for the elementwise ops).
``x.grad`` is compared with ``torch.autograd``'s elementwise: NaN where torch has NaN,
the same infinities, finite values to rounding (the two libraries may order a product
differently).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numnet  # noqa: E402
import numnet.nn.functional as F  # noqa: E402
from numnet import kernels, ops  # noqa: E402
from tests.ops import _torch_refs  # noqa: E402 (needs torch)

TF = torch.nn.functional
inf, nan = np.inf, np.nan
F64 = np.float64
TOL = {"rtol": 1e-12, "atol": 1e-15}  # finite values: rounding (orders of products differ)

# adjoint values: finite, zero, and the non-finite ones
G_VALUES = np.array([1.5, -0.25, 0.0, inf, -inf, nan])
# inputs covering zero and non-zero local derivatives of the elementwise ops
X_VALUES = np.array([-inf, -1e3, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 40.0, 1e3, inf, nan])


def _mix(shape) -> np.ndarray:
    """An adjoint cycling through :data:`G_VALUES` in memory order."""
    n = int(np.prod(shape))
    return np.resize(G_VALUES, n).reshape(shape)


def adjoints(shape) -> dict[str, np.ndarray]:
    """The adjoints fed to ``backward``, by name."""
    rng = np.random.default_rng(0)
    return {
        "finite": rng.standard_normal(shape),
        "+inf": np.full(shape, inf),
        "-inf": np.full(shape, -inf),
        "nan": np.full(shape, nan),
        "mix": _mix(shape),
    }


# -- the harness ---------------------------------------------------------------------------
@dataclass
class Case:
    """``nn_fn(*numnet leaves)`` against ``torch_fn(*torch leaves)``: gradients of
    ``arrays`` (float64 leaves; the indices in ``grad`` require grad, default all) for
    each adjoint of :func:`adjoints`. ``fixed`` arrays (labels, masks) are passed as they
    are to both."""

    label: str
    nn_fn: Callable
    torch_fn: Callable
    arrays: tuple
    grad: tuple[int, ...] | None = None
    dtype: type = F64


def _leaves(case: Case):
    nn_in, t_in = [], []
    for i, a in enumerate(case.arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(case.dtype)
            g = case.grad is None or i in case.grad
            nn_in.append(numnet.Tensor(a, dtype=case.dtype, requires_grad=g))
            t_in.append(torch.tensor(a, requires_grad=g))
        else:
            nn_in.append(numnet.Tensor(a))
            t_in.append(torch.from_numpy(a.copy()))
    return nn_in, t_in


def _same(ours, theirs, what: str, tol) -> None:
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    # NaN where torch has NaN, the same infinities, finite values to rounding
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN")
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs), err_msg=f"{what}: inf")
    np.testing.assert_allclose(ours, theirs, equal_nan=True, err_msg=what, **tol)


def run_case(case: Case, kind: str) -> None:
    nn_in, t_in = _leaves(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning may leak
        ours = case.nn_fn(*nn_in)
        up = adjoints(ours.shape)[kind].astype(case.dtype)
        ours.backward(up)
    theirs = case.torch_fn(*t_in)
    tol = TOL if case.dtype == F64 else {"rtol": 1e-6, "atol": 1e-30}
    _same(np.asarray(ours.data), theirs.detach().numpy(), "value", tol)
    theirs.backward(torch.from_numpy(up))
    for i, (a, t) in enumerate(zip(nn_in, t_in)):
        if not a.requires_grad:
            continue
        assert a.grad is not None, f"numnet left no gradient on input {i}"
        expected = t.grad if t.grad is not None else torch.zeros_like(t)
        _same(np.asarray(a.grad), expected.numpy(), f"gradient of input {i} ({kind})", tol)


KINDS = ["finite", "+inf", "-inf", "nan", "mix"]


def _elementwise(x_values=X_VALUES) -> np.ndarray:
    """Each input value repeated once per adjoint value of the mixed adjoint."""
    return np.repeat(np.asarray(x_values, dtype=float), len(G_VALUES))


def _pairs(values) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(values, values, indexing="ij")
    return _elementwise(a.ravel()), _elementwise(b.ravel())


_X = _elementwise()
_PAIR_VALUES = np.array([-inf, -2.0, -0.0, 0.0, 0.5, 2.0, inf, nan])
_A, _B = _pairs(_PAIR_VALUES)

# reductions: rows with a unique extreme, ties, infinities and NaN
ROWS = np.array([
    [1.0, 3.0, -2.0, 0.5],
    [2.0, 2.0, -1.0, 2.0],  # ties
    [-inf, -inf, -inf, -inf],
    [inf, 1.0, 2.0, 3.0],
    [inf, -inf, 0.0, 1.0],
    [nan, 1.0, 2.0, 3.0],
    [-0.0, 0.0, -0.0, 0.0],
])
ROWS_FINITE = ROWS[:2]

_LOGITS = np.array([
    [0.5, -1.0, 2.0],
    [1e3, -1e3, 0.0],  # saturated: softmax exactly 0 and 1
    [-inf, 0.0, 1.0],
    [2.0, 2.0, 2.0],
])
_LABELS = np.array([2, 0, 1, 1])
_PROBS = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])

_rng = np.random.default_rng(1)
# images with ties (integers) and negative windows (relu-pooling's zero derivative)
_IMG = _rng.integers(-3, 3, (2, 3, 6, 6)).astype(float)
_IMG_SPECIAL = _IMG.copy()
_IMG_SPECIAL[0, 0, 0, 0] = inf
_IMG_SPECIAL[0, 1, 2, 3] = -inf
_IMG_SPECIAL[1, 2, 4, 4] = nan


# ReLU's large-array path (numnet.ops.activations: split over threads, in memory order)
_BIG = _rng.integers(-2, 3, (2, 96, 96, 16)).astype(float)  # NHWC, 294912 entries
_BIG[0, 0, :5, 0] = [nan, inf, -inf, -0.0, 0.0]


def _nchw(x):
    """The NCHW view of an NHWC block (a channels-last convolution output)."""
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _t_max_pool(k, s=None, p=0):
    return lambda x: TF.max_pool2d(x, k, s, p)


def _nn_max_pool(k, s=None, p=0, relu=False):
    op = ops.relu_max_pool2d if relu else ops.max_pool2d
    return lambda x: op(x, kernel_size=k, stride=s, padding=p)


def _reference(fn):
    """``fn`` on numnet's NumPy reference path (no compiled kernels)."""
    def run(*args):
        with kernels.disabled():
            return fn(*args)

    return run


def _dropout_mask(shape, p, seed):
    """numnet's dropout mask for ``generator=seed`` (numnet.parallel.dropout_mask)."""
    keep = np.random.default_rng(seed).random(shape, dtype=np.float32) >= p
    return keep * (1.0 / (1.0 - p))


_t_heaviside_st, _t_sign_st = _torch_refs.heaviside_st, _torch_refs.sign_st


def _nn_hinge(s, y, margin=1.0, reduction="mean"):
    return F.hinge_loss(s, y, margin, reduction)


def _t_hinge(s, y, margin=1.0, reduction="mean"):
    losses = TF.relu(margin - y * s)
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


_M = np.array([[1.0, 0.0, -2.0], [0.0, 0.0, 0.0]])  # zeros: δW = δy xᵀ is ∞ · 0 there
_HINGE_S = np.array([2.0, 0.5, 1.0, -1.0, 3.0, -0.5])
_HINGE_Y = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])


CASES: list[Case] = [
    # activations
    Case("relu", ops.relu, TF.relu, (_X,)),
    Case("relu-2d", ops.relu, TF.relu, (_X.reshape(-1, 12),)),
    Case("relu-float32", ops.relu, TF.relu, (_X,), dtype=np.float32),
    Case("relu-large", ops.relu, TF.relu, (np.ascontiguousarray(_BIG.transpose(0, 3, 1, 2)),)),
    Case("relu-large-channels-last", lambda x: _nhwc(ops.relu(_nchw(x))),
         lambda x: _nhwc(TF.relu(_nchw(x))), (_BIG,)),
    Case("relu-large-channels-last-float32", lambda x: _nhwc(ops.relu(_nchw(x))),
         lambda x: _nhwc(TF.relu(_nchw(x))), (_BIG,), dtype=np.float32),
    Case("relu-large-strided-adjoint", lambda x: ops.relu(_nchw(x)),
         lambda x: TF.relu(_nchw(x)), (_BIG,)),
    Case("leaky_relu", lambda x: ops.leaky_relu(x, negative_slope=0.01),
         lambda x: TF.leaky_relu(x, 0.01), (_X,)),
    Case("leaky_relu-slope0", lambda x: ops.leaky_relu(x, negative_slope=0.0),
         lambda x: TF.leaky_relu(x, 0.0), (_X,)),
    Case("sigmoid", ops.sigmoid, torch.sigmoid, (_X,)),
    Case("tanh", ops.tanh, torch.tanh, (_X,)),
    Case("softplus", ops.softplus, TF.softplus, (_X[np.abs(_X) != 40],)),
    Case("arctan", ops.arctan, torch.atan, (_X,)),
    Case("straight_through_sign", ops.straight_through_sign, _t_sign_st, (_X,)),
    Case("straight_through_heaviside", ops.straight_through_heaviside, _t_heaviside_st, (_X,)),
    # elementwise
    Case("neg", ops.neg, torch.neg, (_X,)),
    Case("exp", ops.exp, torch.exp, (_X,)),
    Case("log", ops.log, torch.log, (_X,)),
    Case("sqrt", ops.sqrt, torch.sqrt, (_X,)),
    Case("abs", ops.abs, torch.abs, (_X,)),
    Case("clamp", lambda x: ops.clamp(x, min=-1.0, max=1.0),
         lambda x: torch.clamp(x, -1.0, 1.0), (_X,)),
    Case("clamp-min", lambda x: ops.clamp(x, min=0.0), lambda x: torch.clamp(x, min=0.0), (_X,)),
    Case("clamp-max", lambda x: ops.clamp(x, max=0.5), lambda x: torch.clamp(x, max=0.5), (_X,)),
    Case("clip-tensor-method", lambda x: x.clip(-2.0, 2.0), lambda x: x.clip(-2.0, 2.0), (_X,)),
    Case("clamp-float32", lambda x: ops.clamp(x, min=-1.0, max=1.0),
         lambda x: torch.clamp(x, -1.0, 1.0), (_X,), dtype=np.float32),
    Case("pow-2", lambda x: x ** 2.0, lambda x: x ** 2.0, (_X,)),
    Case("pow-0.5", lambda x: x ** 0.5, lambda x: x ** 0.5, (_X[~np.signbit(_X)],)),
    Case("pow-0", lambda x: x ** 0.0, lambda x: x ** 0.0, (_X,)),
    Case("pow-3", lambda x: x ** 3.0, lambda x: x ** 3.0, (_X,)),
    Case("pow-tensor", ops.pow, torch.pow,
         _pairs(np.array([-2.0, -0.0, 0.0, 0.5, 2.0, 3.0, inf, nan]))),
    Case("add", ops.add, torch.add, (_A, _B)),
    Case("sub", ops.sub, torch.sub, (_A, _B)),
    Case("mul", ops.mul, torch.mul, (_A, _B)),
    Case("div", ops.div, torch.div, (_A, _B)),
    Case("maximum", ops.maximum, torch.maximum, (_A, _B)),
    Case("minimum", ops.minimum, torch.minimum, (_A, _B)),
    Case("where", lambda c, a, b: ops.where(c, a, b), torch.where,
         (np.resize([True, False, True], _A.shape), _A, _B)),
    # reductions
    Case("sum-dim", lambda x: ops.sum(x, dim=1), lambda x: x.sum(1), (ROWS,)),
    Case("mean-dim", lambda x: ops.mean(x, dim=1), lambda x: x.mean(1), (ROWS,)),
    Case("amax-dim", lambda x: ops.amax(x, dim=1), lambda x: x.amax(1), (ROWS,)),
    Case("amin-dim", lambda x: ops.amin(x, dim=1), lambda x: x.amin(1), (ROWS,)),
    Case("amax-all", ops.amax, torch.amax, (ROWS,)),
    Case("amax-all-finite", ops.amax, torch.amax, (ROWS_FINITE,)),
    Case("max-dim-values", lambda x: x.max(dim=1).values, lambda x: x.max(1).values, (ROWS,)),
    Case("min-dim-values", lambda x: x.min(dim=1).values, lambda x: x.min(1).values, (ROWS,)),
    Case("logsumexp", lambda x: ops.logsumexp(x, dim=1), lambda x: x.logsumexp(1), (ROWS,)),
    Case("var", lambda x: ops.var(x, dim=1), lambda x: x.var(1), (ROWS_FINITE,)),
    Case("std", lambda x: ops.std(x, dim=1), lambda x: x.std(1),
         (np.vstack([ROWS_FINITE, np.ones((1, 4))]),)),
    # softmax family and losses
    Case("log_softmax", lambda x: ops.log_softmax(x, dim=1),
         lambda x: torch.log_softmax(x, 1), (_LOGITS,)),
    Case("softmax", lambda x: ops.softmax(x, dim=1), lambda x: torch.softmax(x, 1), (_LOGITS,)),
    *[
        Case(f"cross_entropy-{r}", lambda z, y, r=r: F.cross_entropy(z, y, reduction=r),
             lambda z, y, r=r: TF.cross_entropy(z, y, reduction=r), (_LOGITS, _LABELS))
        for r in ("none", "mean", "sum")
    ],
    *[
        Case(f"cross_entropy-soft-{r}", lambda z, t, r=r: F.cross_entropy(z, t, reduction=r),
             lambda z, t, r=r: TF.cross_entropy(z, t, reduction=r), (_LOGITS, _PROBS), (0,))
        for r in ("none", "mean", "sum")
    ],
    Case("cross_entropy-smoothing",
         lambda z, y: F.cross_entropy(z, y, reduction="none", label_smoothing=0.1),
         lambda z, y: TF.cross_entropy(z, y, reduction="none", label_smoothing=0.1),
         (_LOGITS, _LABELS)),
    Case("cross_entropy-weight",
         lambda z, y: F.cross_entropy(z, y, np.array([1.0, 0.0, 2.0]), reduction="sum"),
         lambda z, y: TF.cross_entropy(z, y, torch.tensor([1.0, 0.0, 2.0], dtype=z.dtype),
                                       reduction="sum"),
         (_LOGITS, _LABELS)),
    *[
        Case(f"nll_loss-{r}", lambda z, y, r=r: F.nll_loss(z, y, reduction=r),
             lambda z, y, r=r: TF.nll_loss(z, y, reduction=r), (_LOGITS, _LABELS))
        for r in ("none", "mean")
    ],
    *[
        Case(f"mse_loss-{r}", lambda a, b, r=r: F.mse_loss(a, b, reduction=r),
             lambda a, b, r=r: TF.mse_loss(a, b, reduction=r),
             (np.array([1.0, 2.0, -1.0, 0.0, 3.0, 0.5]), np.array([1.0, 0.0, -1.0, 2.0, 3.0, 0.0])))
        for r in ("none", "mean")
    ],
    *[
        Case(f"bce_logits-{r}",
             lambda z, y, r=r: F.binary_cross_entropy_with_logits(z, y, reduction=r),
             lambda z, y, r=r: TF.binary_cross_entropy_with_logits(z, y, reduction=r),
             (np.array([-40.0, -1.0, 0.0, 2.0, 40.0, 1e3]),
              np.array([0.0, 1.0, 0.5, 1.0, 1.0, 0.0])))
        for r in ("none", "sum")
    ],
    Case("bce_probs-none", lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
         lambda p, y: TF.binary_cross_entropy(p, y, reduction="none"),
         (np.array([0.2, 0.5, 0.9, 0.3, 0.5, 0.7]), np.array([0.0, 0.5, 1.0, 0.3, 1.0, 0.0]))),
    *[
        Case(f"hinge-{r}", lambda s, y, r=r: _nn_hinge(s, y, reduction=r),
             lambda s, y, r=r: _t_hinge(s, y, reduction=r), (_HINGE_S, _HINGE_Y), (0,))
        for r in ("none", "mean")
    ],
    # dropout (PyTorch's CPU dropout multiplies by the scaled mask)
    Case("dropout-eval", lambda x: F.dropout(x, 0.5, training=False),
         lambda x: TF.dropout(x, 0.5, training=False), (_X,)),
    Case("dropout-train", lambda x: F.dropout(x, 0.5, generator=3),
         lambda x: x * torch.from_numpy(_dropout_mask(x.shape, 0.5, 3)), (_X,)),
    Case("dropout-p1", lambda x: F.dropout(x, 1.0), lambda x: TF.dropout(x, 1.0), (_X,)),
    # linear algebra
    Case("matmul", ops.matmul, torch.matmul, (_M, np.array([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]))),
    Case("linear", lambda x, w, b: F.linear(x, w, b), TF.linear,
         (_M, np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]]), np.array([0.5, 0.0]))),
    Case("conv2d", lambda x, w: ops.conv2d(x, w), TF.conv2d,
         (_IMG[:, :2, :4, :4], _rng.integers(-1, 2, (2, 2, 3, 3)).astype(float))),
    # pooling: the compiled tiled path, the NumPy reference, overlapping and padded windows
    Case("max_pool2d", _nn_max_pool(2), _t_max_pool(2), (_IMG,)),
    Case("max_pool2d-reference", _reference(_nn_max_pool(2)), _t_max_pool(2), (_IMG,)),
    Case("max_pool2d-overlapping", _nn_max_pool(3, 1), _t_max_pool(3, 1), (_IMG,)),
    Case("max_pool2d-padded", _nn_max_pool(3, 2, 1), _t_max_pool(3, 2, 1), (_IMG,)),
    Case("max_pool2d-special", _nn_max_pool(2), _t_max_pool(2), (_IMG_SPECIAL[:, :2],)),
    Case("max_pool2d-special-reference", _reference(_nn_max_pool(2)), _t_max_pool(2),
         (_IMG_SPECIAL[:, :2],)),
    Case("max_pool2d-float32-reference", _reference(_nn_max_pool(2)), _t_max_pool(2), (_IMG,),
         dtype=np.float32),
    Case("relu_max_pool2d", _nn_max_pool(2, relu=True),
         lambda x: TF.max_pool2d(TF.relu(x), 2), (_IMG,)),
    Case("relu_max_pool2d-reference", _reference(_nn_max_pool(2, relu=True)),
         lambda x: TF.max_pool2d(TF.relu(x), 2), (_IMG,)),
    Case("relu_max_pool2d-overlapping", _nn_max_pool(3, 1, relu=True),
         lambda x: TF.max_pool2d(TF.relu(x), 3, 1), (_IMG,)),
    Case("avg_pool2d", lambda x: ops.avg_pool2d(x, kernel_size=2), lambda x: TF.avg_pool2d(x, 2),
         (_IMG,)),
    # shape ops (the adjoint moves, never multiplied)
    Case("getitem", lambda x: x[np.array([0, 2, 2])], lambda x: x[torch.tensor([0, 2, 2])],
         (ROWS,)),
    Case("getitem-mask", lambda x: x[np.array([True, False, True, False])],
         lambda x: x[torch.tensor([True, False, True, False])], (ROWS.T,)),
    Case("cat", lambda a, b: ops.cat(a, b, dim=1), lambda a, b: torch.cat([a, b], 1),
         (ROWS, ROWS_FINITE.repeat(4, 0)[:7])),
    Case("permute-reshape", lambda x: x.permute(1, 0).reshape(-1),
         lambda x: x.permute(1, 0).reshape(-1), (ROWS,)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_nonfinite_adjoint(case, kind):
    run_case(case, kind)


# Tensor.max() / Tensor.min() without ``dim``: PyTorch's backward is
# ``evenly_distribute_backward``, a masked fill (0 off the maxima for any δy; δy / count at
# the NaN entries when the maximum is NaN, even for a finite δy), while ``torch.amax``
# multiplies. numnet's Tensor.max() calls ops.amax(x, masked_fill=True), the masked fill.
FULL_EXTREMES = [
    Case("max-all", lambda x: x.max(), lambda x: x.max(), (ROWS_FINITE,)),
    Case("min-all", lambda x: x.min(), lambda x: x.min(), (ROWS_FINITE,)),
    Case("max-all-nan", lambda x: x.max(), lambda x: x.max(), (ROWS,)),
    Case("min-all-nan", lambda x: x.min(), lambda x: x.min(), (ROWS,)),
    Case("max-all-inf", lambda x: x.max(), lambda x: x.max(), (ROWS[2:5],)),
    Case("min-all-inf", lambda x: x.min(), lambda x: x.min(), (ROWS[2:5],)),
    Case("max-all-float32", lambda x: x.max(), lambda x: x.max(), (ROWS,), dtype=np.float32),
    Case("min-all-zeros", lambda x: x.min(), lambda x: x.min(), (ROWS[6:],)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", FULL_EXTREMES, ids=lambda c: c.label)
def test_full_max_adjoint(case, kind):
    run_case(case, kind)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_select_adjoint_is_a_selection(dtype):
    """``where(mask, δy, +0)`` bit for bit, broadcasting the mask, in each float width."""
    from numnet.ops.elementwise import select_adjoint

    g = np.array([[inf, -inf, nan, -0.0, 1.5, -2.0]] * 2, dtype)
    mask = np.array([[True], [False]])
    out = select_adjoint(g, mask)
    assert out.dtype == dtype and out.shape == g.shape
    expected = np.where(mask, g, dtype(0))
    np.testing.assert_array_equal(out.view(np.uint8), expected.view(np.uint8))
    strided = select_adjoint(g[:, ::2], np.array([True, False, True]))  # a strided adjoint
    np.testing.assert_array_equal(strided, np.where([True, False, True], g[:, ::2], 0))
