"""Edge values, as a sweep: every primitive and every loss against PyTorch.

Each registered primitive (``numnet.autograd.PRIMITIVES``) and each loss (functional and
module) has an entry in ``CASES`` / ``LOSS_CASES``; a primitive or loss without one fails
``test_every_primitive_has_an_edge_entry`` / ``test_every_loss_has_an_edge_entry``. The
entries run, in float64 and float32, on

(a) empty tensors: a batch of 0 and zero-size reduced dimensions (empty results, ``-inf``
    for an empty logsumexp, NaN for an empty mean, 0 for an empty sum, an error for an
    empty amax/amin; losses of an empty batch: NaN for 'mean', 0 for 'sum'; gradients of
    empty tensors are empty arrays of the right shape);
(b) the special points where a textbook derivative is ``0·∞`` or ``0/0`` (``x**p`` at 0,
    ``√0``, ``|0|``, clamp at its bounds, ties of maximum/amax, ``log 0``, ``x / 0``,
    logsumexp of an all ``-inf`` row, saturated sigmoid/tanh/softplus, BCE at p = 0 and 1,
    cross-entropy with ``±inf`` logits);
(c) ``±inf`` and NaN inputs;

comparing values and gradients with torch elementwise (NaN equal to NaN, infinities equal
when of the same sign). NumPy floating-point warnings are errors here: numnet, like torch,
returns IEEE special values silently. Where numnet deliberately differs from torch, the
case asserts numnet's documented value instead (``expect=``), with the reason.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import numnet  # noqa: E402
import numnet.nn.functional as F  # noqa: E402
from numnet import nn, ops  # noqa: E402
from numnet.autograd import PRIMITIVES  # noqa: E402
from numnet.nn import loss as loss_modules  # noqa: E402
from tests.ops import _torch_refs  # noqa: E402 (needs torch)

TF = torch.nn.functional
F64, F32 = np.float64, np.float32
DTYPES = [F64, F32]
TOL = {F64: {"rtol": 1e-10, "atol": 1e-12}, F32: {"rtol": 1e-5, "atol": 1e-6}}
inf, nan = np.inf, np.nan

# the special values of (b) and (c), and every pair of them (for binary ops)
SPECIAL = np.array([-inf, -1e3, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 40.0, 1e3, inf, nan])
_A, _B = np.meshgrid(SPECIAL, SPECIAL, indexing="ij")
PAIR_A, PAIR_B = _A.ravel(), _B.ravel()
EMPTY = np.zeros((0, 3))


# -- the harness ---------------------------------------------------------------------------
@dataclass
class Case:
    """``nn_fn(*numnet inputs)`` against ``torch_fn(*torch inputs)``, values and gradients.

    ``arrays``: the inputs (floating ones become leaves in the test's dtype; integer and
    bool ones are passed as they are); ``grad``: indices of the inputs that require grad
    (default: every floating one). ``expect``: when numnet deliberately differs from
    torch, ``expect(*input arrays, upstream)`` returns numnet's documented
    ``(value, [gradient of each input requiring grad])``, ``None`` where torch's is
    expected; the reason is in the docstring of the op and in ``why``. ``raises``: both
    libraries raise; numnet raises this exception type with a message matching ``match``.
    """

    label: str
    nn_fn: Callable
    torch_fn: Callable | None
    arrays: tuple
    grad: tuple[int, ...] | None = None
    expect: Callable | None = None
    why: str = ""
    raises: Any = None
    match: str = ""
    dtypes: tuple = (F64, F32)
    tol: dict = field(default_factory=dict)
    out_dtype: Any = None  # output dtype when it is not the test's dtype (cast, argmax)


def _leaves(arrays, dtype, grad):
    nn_in, t_in = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            with np.errstate(over="ignore"):  # 1e200 in float32 is inf
                a = a.astype(dtype)
            g = grad is None or i in grad
            nn_in.append(numnet.Tensor(a, dtype=dtype, requires_grad=g))
            t_in.append(torch.tensor(a, requires_grad=g))
        else:
            nn_in.append(numnet.Tensor(a))
            t_in.append(torch.from_numpy(a.copy()))
    return nn_in, t_in


def _np(x) -> np.ndarray:
    if isinstance(x, numnet.Tensor):
        return np.asarray(x.data)
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _same(ours, theirs, what: str, tol: dict) -> None:
    ours, theirs = _np(ours), _np(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != expected {theirs.shape}"
    if ours.dtype.kind in "biu" or theirs.dtype.kind in "biu":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    np.testing.assert_allclose(ours, theirs, equal_nan=True, err_msg=what, **tol)


def upstream(shape, dtype) -> np.ndarray:
    """The adjoint fed to ``backward`` (1 for a scalar output)."""
    if shape == ():
        return np.ones((), dtype)
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def run_case(case: Case, dtype) -> None:
    tol = {**TOL[dtype], **case.tol.get(dtype, {})}
    nn_in, t_in = _leaves(case.arrays, dtype, case.grad)
    if case.raises is not None:
        with pytest.raises(case.raises, match=case.match):
            case.nn_fn(*nn_in)
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            case.torch_fn(*t_in)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning may leak
        ours = case.nn_fn(*nn_in)
        up = upstream(ours.shape, ours.dtype)
        if ours.requires_grad:
            ours.backward(up)
    theirs = case.torch_fn(*t_in)
    expected_dtype = case.out_dtype or dtype
    assert ours.dtype == expected_dtype, f"output dtype {ours.dtype} != {expected_dtype}"
    value, grads = None, []
    if case.expect is not None:  # numnet's documented values where it differs from torch
        inputs = [a.data for a in nn_in]
        value, grads = case.expect(*inputs, up)
    _same(ours, theirs if value is None else np.asarray(value, expected_dtype), "value", tol)
    if not ours.requires_grad:
        return
    if theirs.requires_grad:
        theirs.backward(torch.from_numpy(up))
    for k, i in enumerate(i for i, a in enumerate(nn_in) if a.requires_grad):
        documented = grads[k] if k < len(grads) else None
        if documented is not None:
            expected = np.asarray(documented, dtype)
        else:
            expected = t_in[i].grad if t_in[i].grad is not None else torch.zeros_like(t_in[i])
        assert nn_in[i].grad is not None, f"numnet left no gradient on input {i}"
        assert nn_in[i].grad.dtype == dtype, f"gradient {i} has dtype {nn_in[i].grad.dtype}"
        _same(nn_in[i].grad, expected, f"gradient of input {i}", tol)


# -- torch references for numnet-only ops --------------------------------------------------
_t_heaviside_st, _t_sign_st = _torch_refs.heaviside_st, _torch_refs.sign_st


def _ce_probs_torch(z, t, reduction):
    return TF.cross_entropy(z, t, reduction=reduction)


# -- primitives ----------------------------------------------------------------------------
def _unary(name, nn_fn, torch_fn, extra=()):
    """``nn_fn`` on the special values, an empty tensor and an empty batch."""
    xs = np.concatenate([SPECIAL, np.asarray(extra, dtype=float)])
    return [
        Case(f"{name}-special", nn_fn, torch_fn, (xs,)),
        Case(f"{name}-empty", nn_fn, torch_fn, (np.zeros(0),)),
        Case(f"{name}-empty-batch", nn_fn, torch_fn, (EMPTY,)),
    ]


def _binary(name, nn_fn, torch_fn):
    """``nn_fn`` on every pair of special values, empty operands and broadcast empties."""
    return [
        Case(f"{name}-pairs", nn_fn, torch_fn, (PAIR_A, PAIR_B)),
        Case(f"{name}-empty", nn_fn, torch_fn, (EMPTY, EMPTY)),
        Case(f"{name}-broadcast-empty", nn_fn, torch_fn, (np.zeros((0, 1)), np.ones(3))),
        Case(f"{name}-broadcast-to-empty", nn_fn, torch_fn, (np.ones((2, 1)), np.ones((2, 0)))),
    ]


POW_EXPONENTS = [0.0, 0.5, 1.0, 2.0, 3.0, -1.0]
POW_BASES = np.array([0.0, -0.0, 2.0, -2.0, 0.5, inf, -inf, nan])
_PA, _PB = np.meshgrid(
    POW_BASES, np.array([0.0, 0.5, 1.0, 2.0, 3.0, -1.0, -0.5, 2.5, inf, -inf, nan]),
    indexing="ij",
)


def _pow_scalar(p):
    bases = POW_BASES
    if p == 0.5:  # -0 and -inf: see _pow_half_ieee
        bases = bases[~(np.signbit(bases) & ((bases == 0) | np.isinf(bases)))]
    return Case(f"pow-x**{p}", lambda x: x ** p, lambda x: x ** p, (bases,))


def _pow_half_ieee(x, up):
    """``δx = δy · ½ x^{-½}`` with IEEE ``pow``: ``(-0)^{-½} = +∞``, ``(-∞)^{-½} = +0``.

    torch computes ``x^{-½}`` as ``rsqrt`` in this gradient (``-∞`` at ``-0``, NaN at
    ``-∞``), numnet with ``np.power`` (see ``numnet.ops.pow``).
    """
    with np.errstate(all="ignore"):
        return None, [up * 0.5 * np.power(x, -0.5)]


def _bce_logits_limits(z, y, up):
    """The loss at ``z = ±∞`` is its limit (numnet.ops.binary_cross_entropy_logits)."""
    with np.errstate(all="ignore"):
        value = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        c = np.where(z > 0, 1 - y, y)
        value = np.where(np.isinf(z), np.where(c == 0, 0, c * np.inf), value)
    return value, [None, None]


def _bce_probs_clamped_target_grad(p, y, up):
    """``δy`` of the clamped loss: ``log(1-p) - log p`` with each log clamped at -100
    (numnet.ops.binary_cross_entropy_probs); torch differentiates the unclamped logs."""
    with np.errstate(all="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    return None, [None, up * (log_q - log_p)]


def _reduction_cases(name, nn_fn, torch_fn, empty_ok=True):
    """Reductions over special rows and over empty tensors / empty reduced dimensions."""
    rows = np.array([
        [-inf, -inf, -inf, -inf],
        [inf, 1.0, 2.0, 3.0],
        [inf, -inf, 0.0, 1.0],
        [nan, 1.0, 2.0, 3.0],
        [2.0, 2.0, -1.0, 2.0],  # ties
        [1e3, -1e3, 0.0, 0.5],
        [-0.0, 0.0, -0.0, 0.0],
    ])
    cases = [
        Case(f"{name}-rows", lambda x: nn_fn(x, dim=1), lambda x: torch_fn(x, dim=1), (rows,)),
        Case(f"{name}-rows-keepdim", lambda x: nn_fn(x, dim=-1, keepdim=True),
             lambda x: torch_fn(x, dim=-1, keepdim=True), (rows,)),
        Case(f"{name}-cols", lambda x: nn_fn(x, dim=0), lambda x: torch_fn(x, dim=0), (rows,)),
        # a batch of 0 reduced over the non-empty axis: an empty result
        Case(f"{name}-empty-batch", lambda x: nn_fn(x, dim=1), lambda x: torch_fn(x, dim=1),
             (EMPTY,)),
    ]
    empty_dims = [
        ("empty-dim", lambda x: nn_fn(x, dim=0), lambda x: torch_fn(x, dim=0), EMPTY),
        ("empty-dim-keepdim", lambda x: nn_fn(x, dim=1, keepdim=True),
         lambda x: torch_fn(x, dim=1, keepdim=True), np.zeros((3, 0))),
        ("empty-dims-tuple", lambda x: nn_fn(x, dim=(0, 2)),
         lambda x: torch_fn(x, dim=(0, 2)), np.zeros((2, 3, 0))),
    ]
    for label, f, g, x in empty_dims:
        if empty_ok:
            cases.append(Case(f"{name}-{label}", f, g, (x,)))
        else:
            cases.append(Case(f"{name}-{label}", f, g, (x,), raises=ValueError,
                              match="non-zero size"))
    return cases


def _all(nn_fn, torch_fn, name, empty_ok=True):
    """Reduction over all axes, for a scalar-result reduction without ``dim``."""
    out = [Case(f"{name}-all-special", nn_fn, torch_fn, (SPECIAL[SPECIAL == SPECIAL],))]
    if empty_ok:
        out.append(Case(f"{name}-all-empty", nn_fn, torch_fn, (EMPTY,)))
    else:
        out.append(Case(f"{name}-all-empty", nn_fn, torch_fn, (EMPTY,), raises=ValueError,
                        match="empty tensor"))
    return out


def _sum(x, dim=None, keepdim=False):
    return ops.sum(x, dim=dim, keepdim=keepdim)


def _mean(x, dim=None, keepdim=False):
    return ops.mean(x, dim=dim, keepdim=keepdim)


def _amax(x, dim=None, keepdim=False):
    return ops.amax(x, dim=dim, keepdim=keepdim)


def _amin(x, dim=None, keepdim=False):
    return ops.amin(x, dim=dim, keepdim=keepdim)


def _full_extreme(name):
    """``Tensor.max()`` / ``Tensor.min()`` without dim (``ops.amax/amin`` with
    ``masked_fill``): torch.max(input)'s gradient, on ties, infinities, NaN and empties."""

    def fn(x):  # the same call on both libraries
        return getattr(x, name)()

    ties = np.array([[2.0, -1.0, 2.0], [2.0, 0.5, -0.0]])
    return [
        Case(f"{name}-all-special", fn, fn, (SPECIAL,)),  # NaN: its entry takes δy
        Case(f"{name}-all-finite", fn, fn, (SPECIAL[SPECIAL == SPECIAL],)),
        Case(f"{name}-all-ties", fn, fn, (ties if name == "max" else -ties,)),
        Case(f"{name}-all-infinite-ties", fn, fn, (np.array([inf, -inf, inf, -inf]),)),
        Case(f"{name}-all-nan-ties", fn, fn, (np.array([[nan, 1.0], [inf, nan]]),)),
        Case(f"{name}-all-zeros", fn, fn, (np.array([-0.0, 0.0, -0.0]),)),
        Case(f"{name}-all-scalar", fn, fn, (np.array(-inf),)),
        Case(f"{name}-all-empty", fn, fn, (EMPTY,), raises=ValueError,
             match=rf"^{name}\(\): cannot reduce an empty tensor"),
        Case(f"{name}-all-empty-1d", fn, fn, (np.zeros(0),), raises=ValueError,
             match=rf"^{name}\(\): cannot reduce an empty tensor"),
    ]


def _lse(x, dim=None, keepdim=False):
    return ops.logsumexp(x, dim=dim, keepdim=keepdim)


def _t_lse(x, dim=None, keepdim=False):
    return torch.logsumexp(x, dim=dim, keepdim=keepdim)


_LOGITS = np.array([
    [-inf, 0.0, 1.0],
    [-inf, -inf, -inf],
    [inf, 0.0, 1.0],
    [inf, inf, 0.0],
    [nan, 0.0, 1.0],
    [1e3, 0.0, -1e3],
    [-inf, -inf, 2.0],
    [0.5, 0.5, 0.5],
])
_LABELS = np.array([1, 0, 1, 0, 2, 0, 0, 2])  # the label of row 0 and 6 is not at -inf
_LABELS_AT_NINF = np.array([0, 0, 0, 2, 1, 2, 1, 1])  # labels at -inf entries
_SOFT = np.abs(np.random.default_rng(3).standard_normal(_LOGITS.shape))
_SOFT /= _SOFT.sum(axis=1, keepdims=True)

_BCE_P = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1e-30, 1 - 1e-7, 0.5, 0.25])
_BCE_Y = np.array([0.0, 1.0, 0.3, 0.0, 1.0, 0.7, 1.0, 0.0, 0.5, 1.0])
_BCE_Z = np.array([inf, inf, inf, -inf, -inf, -inf, 1e3, -1e3, 40.0, -40.0, 0.0, nan])
_BCE_ZY = np.array([1.0, 0.0, 0.4, 1.0, 0.0, 0.4, 1.0, 0.0, 0.0, 1.0, 0.5, 1.0])

_IMG = np.arange(2 * 2 * 4 * 4, dtype=float).reshape(2, 2, 4, 4) / 10
_IMG_SPECIAL = _IMG.copy()
_IMG_SPECIAL[0, 0, 0, 0] = inf
_IMG_SPECIAL[0, 1, 1, 1] = -inf
_IMG_SPECIAL[1, 0, 2, 3] = nan
_IMG_NEGINF = _IMG.copy()
_IMG_NEGINF[0, 0, :2, :2] = -inf  # a whole window of -inf
_IMG_NEGINF[1, 1, 2:, 2:] = inf
_W = np.linspace(-1, 1, 3 * 2 * 3 * 3).reshape(3, 2, 3, 3)


CASES: dict[str, list[Case]] = {
    # -- elementwise --------------------------------------------------------------------
    "add": _binary("add", ops.add, torch.add),
    "sub": _binary("sub", ops.sub, torch.sub),
    "mul": _binary("mul", ops.mul, torch.mul) + [
        Case("mul-overflow", ops.mul, torch.mul, (np.array([1e300, -1e300]),
                                                  np.array([1e300, 1e300])), dtypes=(F64,)),
    ],
    "div": _binary("div", ops.div, torch.div),
    "neg": _unary("neg", ops.neg, torch.neg),
    "pow": [_pow_scalar(p) for p in POW_EXPONENTS] + [
        Case("pow-tensor-exponent", ops.pow, torch.pow, (_PA.ravel(), _PB.ravel())),
        Case("pow-x**0.5-ieee", lambda x: x ** 0.5, lambda x: x ** 0.5,
             (np.array([-0.0, -inf]),), expect=_pow_half_ieee,
             why="IEEE pow for x^(p-1) at -0 and -inf; torch uses rsqrt"),
        Case("pow-0**0", ops.pow, torch.pow, (np.zeros(1), np.zeros(1))),
        Case("pow-empty", ops.pow, torch.pow, (EMPTY, EMPTY)),
        Case("pow-scalar-base", lambda p: 0.0 ** p, lambda p: 0.0 ** p,
             (np.array([0.0, 0.5, 1.0, -1.0, 2.0, inf, -inf, nan]),)),
    ],
    "exp": _unary("exp", ops.exp, torch.exp, [710.0, 89.0, -750.0]),
    "log": _unary("log", ops.log, torch.log, [1e-300, 1e-40]),
    "sqrt": _unary("sqrt", ops.sqrt, torch.sqrt, [1e-300, 1e-40]),
    "abs": _unary("abs", ops.abs, torch.abs),
    "clamp": [
        Case("clamp-both", lambda x: ops.clamp(x, min=-1.0, max=1.0),
             lambda x: x.clamp(-1.0, 1.0), (SPECIAL,)),
        Case("clamp-min", lambda x: ops.clamp(x, min=0.0), lambda x: x.clamp(min=0.0),
             (SPECIAL,)),
        Case("clamp-max", lambda x: ops.clamp(x, max=0.5), lambda x: x.clamp(max=0.5),
             (SPECIAL,)),
        Case("clamp-min-above-max", lambda x: ops.clamp(x, min=2.0, max=1.0),
             lambda x: x.clamp(2.0, 1.0), (SPECIAL,)),
        Case("clamp-min-equals-max", lambda x: ops.clamp(x, min=1.0, max=1.0),
             lambda x: x.clamp(1.0, 1.0), (SPECIAL,)),
        Case("clamp-infinite-bounds", lambda x: ops.clamp(x, min=-inf, max=inf),
             lambda x: x.clamp(-inf, inf), (SPECIAL,)),
        Case("clamp-empty", lambda x: ops.clamp(x, min=0.0, max=1.0),
             lambda x: x.clamp(0.0, 1.0), (EMPTY,)),
    ],
    "maximum": _binary("maximum", ops.maximum, torch.maximum),
    "minimum": _binary("minimum", ops.minimum, torch.minimum),
    "where": [
        Case("where-special", lambda c, a, b: ops.where(c, a, b),
             lambda c, a, b: torch.where(c, a, b), (PAIR_A > 0, PAIR_A, PAIR_B)),
        Case("where-empty", lambda c, a, b: ops.where(c, a, b),
             lambda c, a, b: torch.where(c, a, b), (np.zeros((0, 3), bool), EMPTY, EMPTY)),
    ],
    "cast": [
        Case("cast-to-float32", lambda x: ops.cast(x, dtype=np.float32),
             lambda x: x.to(torch.float32),
             (np.concatenate([SPECIAL, [1e300, -1e300, 1e-300]]),), dtypes=(F64,),
             out_dtype=np.float32),
        Case("cast-to-float64", lambda x: ops.cast(x, dtype=np.float64),
             lambda x: x.to(torch.float64), (SPECIAL,), dtypes=(F32,), out_dtype=np.float64),
        Case("cast-empty", lambda x: ops.cast(x, dtype=np.float32),
             lambda x: x.to(torch.float32), (EMPTY,), dtypes=(F64,), out_dtype=np.float32),
    ],
    # -- reductions ---------------------------------------------------------------------
    "sum": _reduction_cases("sum", _sum, torch.sum) + _all(_sum, torch.sum, "sum"),
    "mean": _reduction_cases("mean", _mean, torch.mean) + _all(_mean, torch.mean, "mean"),
    "amax": _reduction_cases("amax", _amax, torch.amax, empty_ok=False)
    + _all(_amax, torch.amax, "amax", empty_ok=False)
    + _full_extreme("max"),
    "amin": _reduction_cases("amin", _amin, torch.amin, empty_ok=False)
    + _all(_amin, torch.amin, "amin", empty_ok=False)
    + _full_extreme("min"),
    "logsumexp": _reduction_cases("logsumexp", _lse, _t_lse) + [
        Case("logsumexp-all-dims-empty", lambda x: ops.logsumexp(x, dim=(0, 1)),
             lambda x: torch.logsumexp(x, dim=(0, 1)), (EMPTY,)),
    ],
    # -- linear algebra -----------------------------------------------------------------
    "matmul": [
        Case("matmul-empty-batch", ops.matmul, torch.matmul, (EMPTY, np.ones((3, 4)))),
        Case("matmul-empty-inner", ops.matmul, torch.matmul,
             (np.ones((3, 0)), np.ones((0, 4)))),
        Case("matmul-empty-batched", ops.matmul, torch.matmul,
             (np.zeros((2, 0, 3)), np.ones((3, 4)))),
        Case("matmul-empty-vector", ops.matmul, torch.matmul, (np.zeros(0), np.zeros(0))),
        Case("matmul-special", ops.matmul, torch.matmul,
             (np.array([[inf, 1.0], [nan, 1.0], [2.0, 3.0]]),
              np.array([[1.0, 2.0], [-1.0, 0.5]]))),
    ],
    "linear": [
        Case("linear-empty-batch", ops.linear, TF.linear,
             (EMPTY, np.ones((4, 3)), np.ones(4))),
        Case("linear-empty-batch-nobias", ops.linear, TF.linear, (EMPTY, np.ones((4, 3)))),
        Case("linear-empty-features", ops.linear, TF.linear,
             (np.ones((2, 0)), np.ones((4, 0)), np.ones(4))),
        Case("linear-no-outputs", ops.linear, TF.linear,
             (np.ones((2, 3)), np.ones((0, 3)), np.ones(0))),
        Case("linear-special", ops.linear, TF.linear,
             (np.array([[inf, 1.0], [nan, 1.0], [2.0, -inf]]),
              np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([inf, 0.0]))),
    ],
    # -- shape ops ----------------------------------------------------------------------
    "reshape": [
        Case("reshape-empty", lambda x: ops.reshape(x, shape=(3, 0, 5)),
             lambda x: x.reshape(3, 0, 5), (np.zeros((0, 15)),)),
        Case("reshape-empty-ambiguous", lambda x: ops.reshape(x, shape=(3, 0, -1)),
             lambda x: x.reshape(3, 0, -1), (np.zeros((0, 15)),), raises=ValueError,
             match="cannot reshape"),
        Case("reshape-special", lambda x: ops.reshape(x, shape=(13, 1)),
             lambda x: x.reshape(13, 1), (SPECIAL,)),
    ],
    "permute": [
        Case("permute-empty", lambda x: ops.permute(x, dims=(1, 0)), lambda x: x.permute(1, 0),
             (EMPTY,)),
        Case("permute-special", lambda x: ops.permute(x, dims=(1, 0)),
             lambda x: x.permute(1, 0), (_LOGITS,)),
    ],
    "broadcast_to": [
        Case("broadcast_to-empty", lambda x: ops.broadcast_to(x, shape=(0, 3)),
             lambda x: x.expand(0, 3), (np.ones((1, 3)),)),
        Case("broadcast_to-special", lambda x: ops.broadcast_to(x, shape=(2, 13)),
             lambda x: x.expand(2, 13), (SPECIAL,)),
    ],
    "getitem": [
        Case("getitem-empty-slice", lambda x: x[1:1], lambda x: x[1:1], (_LOGITS,)),
        Case("getitem-empty-int-array", lambda x: x[np.zeros(0, dtype=np.int64)],
             lambda x: x[torch.zeros(0, dtype=torch.int64)], (_LOGITS,)),
        Case("getitem-all-false-mask", lambda x: x[np.zeros(8, bool)],
             lambda x: x[torch.zeros(8, dtype=torch.bool)], (_LOGITS,)),
        Case("getitem-of-empty", lambda x: x[:, 1], lambda x: x[:, 1], (EMPTY,)),
        Case("getitem-repeated-special", lambda x: x[np.array([0, 0, 11, 11, 12])],
             lambda x: x[torch.tensor([0, 0, 11, 11, 12])], (SPECIAL,)),
    ],
    "cat": [
        Case("cat-with-empty", lambda a, b: ops.cat(a, b, dim=0),
             lambda a, b: torch.cat([a, b], dim=0), (EMPTY, _LOGITS)),
        Case("cat-all-empty", lambda a, b: ops.cat(a, b, dim=1),
             lambda a, b: torch.cat([a, b], dim=1), (EMPTY, np.zeros((0, 2)))),
    ],
    "stack": [
        Case("stack-empty", lambda a, b: ops.stack(a, b, dim=1),
             lambda a, b: torch.stack([a, b], dim=1), (EMPTY, EMPTY)),
        Case("stack-special", lambda a, b: ops.stack(a, b), lambda a, b: torch.stack([a, b]),
             (PAIR_A, PAIR_B)),
    ],
    # -- activations --------------------------------------------------------------------
    "sigmoid": _unary("sigmoid", ops.sigmoid, torch.sigmoid, [-745.0, 36.0, 17.0, -88.0]),
    "tanh": _unary("tanh", ops.tanh, torch.tanh, [20.0, -20.0]),
    "relu": _unary("relu", ops.relu, torch.relu),
    "leaky_relu": _unary("leaky_relu", ops.leaky_relu, TF.leaky_relu) + [
        Case("leaky_relu-slope", lambda x: ops.leaky_relu(x, negative_slope=0.2),
             lambda x: TF.leaky_relu(x, 0.2), (SPECIAL,)),
    ],
    "softplus": [
        Case(c.label, c.nn_fn, c.torch_fn, c.arrays, tol={F64: {"rtol": 3e-9}},
             why="torch returns z and 1 for z > 20 (threshold), off by e^-z < 2.1e-9; "
                 "numnet is exact (numnet.ops.softplus)")
        for c in _unary("softplus", ops.softplus, TF.softplus,
                        [20.0, 20.5, -20.5, 88.0, 710.0, -745.0, 1e-8])
    ],
    "arctan": _unary("arctan", ops.arctan, torch.atan, [1e200, -1e200]),
    "straight_through_heaviside": _unary(
        "straight_through_heaviside", ops.straight_through_heaviside, _t_heaviside_st
    ),
    "straight_through_sign": _unary("straight_through_sign", ops.straight_through_sign,
                                    _t_sign_st),
    # -- compare (not differentiable) ---------------------------------------------------
    **{
        name: [
            Case(f"{name}-pairs", getattr(ops, name), getattr(torch, name), (PAIR_A, PAIR_B),
                 out_dtype=np.bool_),
            Case(f"{name}-empty", getattr(ops, name), getattr(torch, name), (EMPTY, EMPTY),
                 out_dtype=np.bool_),
        ]
        for name in ("lt", "le", "gt", "ge", "eq", "ne")
    },
    **{
        name: [
            Case(f"{name}-special", lambda x, n=name: getattr(ops, n)(x, dim=1),
                 lambda x, n=name: getattr(torch, n)(x, dim=1), (_LOGITS,), out_dtype=np.int64),
            Case(f"{name}-flat", lambda x, n=name: getattr(ops, n)(x),
                 lambda x, n=name: getattr(torch, n)(x), (SPECIAL,), out_dtype=np.int64),
            Case(f"{name}-empty-batch", lambda x, n=name: getattr(ops, n)(x, dim=1),
                 lambda x, n=name: getattr(torch, n)(x, dim=1), (EMPTY,), out_dtype=np.int64),
            Case(f"{name}-empty-dim", lambda x, n=name: getattr(ops, n)(x, dim=0),
                 lambda x, n=name: getattr(torch, n)(x, dim=0), (EMPTY,), raises=ValueError,
                 match="empty"),
        ]
        for name in ("argmax", "argmin")
    },
    "heaviside_step": _unary("heaviside_step", ops.heaviside_step,
                             lambda x: (x >= 0).to(x.dtype)),
    "sign_step": _unary("sign_step", ops.sign_step,
                        lambda x: torch.where(x >= 0, 1.0, -1.0).to(x.dtype)),
    # -- fused losses -------------------------------------------------------------------
    "log_softmax": [
        Case("log_softmax-special", lambda x: ops.log_softmax(x, dim=1),
             lambda x: TF.log_softmax(x, dim=1), (_LOGITS,)),
        Case("log_softmax-special-dim0", lambda x: ops.log_softmax(x, dim=0),
             lambda x: TF.log_softmax(x, dim=0), (_LOGITS.T,)),
        Case("log_softmax-empty-batch", lambda x: ops.log_softmax(x, dim=1),
             lambda x: TF.log_softmax(x, dim=1), (EMPTY,)),
        Case("log_softmax-empty-dim", lambda x: ops.log_softmax(x, dim=0),
             lambda x: TF.log_softmax(x, dim=0), (EMPTY,)),
        Case("softmax-special", lambda x: ops.softmax(x, dim=1),
             lambda x: TF.softmax(x, dim=1), (_LOGITS,)),
    ],
    "cross_entropy_logits": [
        Case(f"cross_entropy_logits-{r}-{lab}",
             lambda z, y, r=r: ops.cross_entropy_logits(z, y, reduction=r),
             lambda z, y, r=r: TF.cross_entropy(z, y, reduction=r), (z, y))
        for r in ("mean", "sum", "none")
        for lab, z, y in [
            ("special", _LOGITS, _LABELS),
            ("at-ninf", _LOGITS[[0, 6]], _LABELS_AT_NINF[[0, 6]]),
            ("empty-batch", EMPTY, np.zeros(0, np.int64)),
        ]
    ],
    "cross_entropy_soft": [
        Case(f"cross_entropy_soft-{r}-{lab}",
             lambda z, t, r=r: ops.cross_entropy_soft(z, t, reduction=r),
             lambda z, t, r=r: _ce_probs_torch(z, t, r), (z, t))
        for r in ("mean", "sum", "none")
        for lab, z, t in [
            ("special", _LOGITS, _SOFT),
            ("empty-batch", EMPTY, EMPTY),
        ]
    ],
    "binary_cross_entropy_probs": [
        Case("binary_cross_entropy_probs-bounds", ops.binary_cross_entropy_probs,
             lambda p, y: TF.binary_cross_entropy(p, y, reduction="none"), (_BCE_P, _BCE_Y),
             expect=_bce_probs_clamped_target_grad,
             why="the target gradient differentiates the clamped logs (torch: unclamped)"),
        Case("binary_cross_entropy_probs-empty", ops.binary_cross_entropy_probs,
             lambda p, y: TF.binary_cross_entropy(p, y, reduction="none"), (EMPTY, EMPTY)),
    ],
    "binary_cross_entropy_logits": [
        Case("binary_cross_entropy_logits-special", ops.binary_cross_entropy_logits,
             lambda z, y: TF.binary_cross_entropy_with_logits(z, y, reduction="none"),
             (_BCE_Z, _BCE_ZY), expect=_bce_logits_limits,
             why="the limits at z = ±inf (torch: NaN for 0·inf)"),
        Case("binary_cross_entropy_logits-empty", ops.binary_cross_entropy_logits,
             lambda z, y: TF.binary_cross_entropy_with_logits(z, y, reduction="none"),
             (EMPTY, EMPTY)),
    ],
    # -- convolution and pooling ------------------------------------------------------------
    "conv2d": [
        Case("conv2d-empty-batch", lambda x, w, b: ops.conv2d(x, w, b, padding=1),
             lambda x, w, b: TF.conv2d(x, w, b, padding=1),
             (np.zeros((0, 2, 4, 4)), _W, np.ones(3))),
        Case("conv2d-special", lambda x, w, b: ops.conv2d(x, w, b, padding=1),
             lambda x, w, b: TF.conv2d(x, w, b, padding=1), (_IMG_SPECIAL, _W, np.ones(3))),
    ],
    "max_pool2d": [
        Case("max_pool2d-empty-batch", lambda x: ops.max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(x, 2), (np.zeros((0, 2, 4, 4)),)),
        Case("max_pool2d-infinite", lambda x: ops.max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(x, 2), (_IMG_NEGINF,)),
        Case("max_pool2d-infinite-padded",
             lambda x: ops.max_pool2d(x, kernel_size=3, stride=2, padding=1),
             lambda x: TF.max_pool2d(x, 3, 2, 1), (_IMG_NEGINF,)),
        Case("max_pool2d-ties", lambda x: ops.max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(x, 2), (np.ones((1, 2, 4, 4)),)),
    ],
    "relu_max_pool2d": [
        Case("relu_max_pool2d-empty-batch", lambda x: ops.relu_max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(TF.relu(x), 2), (np.zeros((0, 2, 4, 4)),)),
        Case("relu_max_pool2d-infinite", lambda x: ops.relu_max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(TF.relu(x), 2), (_IMG_NEGINF,)),
        Case("relu_max_pool2d-infinite-padded",
             lambda x: ops.relu_max_pool2d(x, kernel_size=3, stride=2, padding=1),
             lambda x: TF.max_pool2d(TF.relu(x), 3, 2, 1), (_IMG_NEGINF,)),
        Case("relu_max_pool2d-ties", lambda x: ops.relu_max_pool2d(x, kernel_size=2),
             lambda x: TF.max_pool2d(TF.relu(x), 2), (np.zeros((1, 2, 4, 4)),)),
    ],
    "avg_pool2d": [
        Case("avg_pool2d-empty-batch", lambda x: ops.avg_pool2d(x, kernel_size=2),
             lambda x: TF.avg_pool2d(x, 2), (np.zeros((0, 2, 4, 4)),)),
        Case("avg_pool2d-special", lambda x: ops.avg_pool2d(x, kernel_size=2),
             lambda x: TF.avg_pool2d(x, 2), (_IMG_SPECIAL,)),
    ],
}


def _primitive_params():
    for _, cases in sorted(CASES.items()):
        for case in cases:
            for dtype in case.dtypes:
                yield pytest.param(case, dtype, id=f"{case.label}-{np.dtype(dtype).name}")


def test_every_primitive_has_an_edge_entry():
    missing = sorted(set(PRIMITIVES) - set(CASES))
    assert not missing, f"registered primitives without an edge-value entry: {missing}"
    empty = sorted(n for n, cases in CASES.items() if not cases)
    assert not empty, f"edge-value entries without a case: {empty}"
    unknown = sorted(set(CASES) - set(PRIMITIVES))
    assert not unknown, f"entries for primitives that are not registered: {unknown}"


@pytest.mark.parametrize(("case", "dtype"), list(_primitive_params()))
def test_primitive_edge_values(case, dtype):
    run_case(case, dtype)


# -- losses: functional and modules ---------------------------------------------------------
REDUCTIONS = ("mean", "sum", "none")
_LOGP = TF.log_softmax(torch.tensor(_LOGITS), dim=1).numpy()  # log-probabilities with -inf
_LOGP = np.where(np.isnan(_LOGP), -inf, _LOGP)
_LOGP[4] = [nan, -1.0, -2.0]
_CLS_W = np.array([0.5, 2.0, 1.0])
_HINGE_S = np.array([inf, -inf, 1.0, 0.0, -1.0, 2.0, nan, 0.5])
_HINGE_Y = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0, -1.0])


def _reduce_np(value, reduction):
    if reduction == "none":
        return value
    return value.sum() if reduction == "sum" else value.mean()


def _bce_logits_reduced(reduction):
    def expect(z, y, up):
        value, _ = _bce_logits_limits(z, y, up)
        with np.errstate(all="ignore"):
            return _reduce_np(value, reduction), [None, None]

    return expect


def _bce_probs_reduced(reduction):
    def expect(p, y, up):
        n = 1 if reduction != "mean" else p.size
        g = up if reduction == "none" else np.full(p.shape, float(up) / n)
        return None, _bce_probs_clamped_target_grad(p, y, g)[1]

    return expect


def _hinge_torch(s, y, margin=1.0, reduction="mean"):
    losses = TF.relu(margin - y * s)
    return losses if reduction == "none" else getattr(losses, reduction)()


def _loss_cases(name, nn_fn, torch_fn, inputs, **options):
    """``nn_fn(*inputs, reduction=r)`` for every reduction, each labelled ``name-r``."""
    return [
        Case(f"{name}-{r}", lambda *a, r=r: nn_fn(*a, reduction=r),
             lambda *a, r=r: torch_fn(*a, reduction=r), inputs,
             **{k: (v(r) if callable(v) and k == "expect" else v) for k, v in options.items()})
        for r in REDUCTIONS
    ]


def _module_cases(name, nn_cls, torch_cls, inputs, init=None, torch_init=None, **options):
    init = init or {}
    torch_init = torch_init if torch_init is not None else init
    return [
        Case(f"{name}-{r}", lambda *a, r=r: nn_cls(**init, reduction=r)(*a),
             lambda *a, r=r: torch_cls(**torch_init, reduction=r)(*a), inputs,
             **{k: (v(r) if callable(v) and k == "expect" else v) for k, v in options.items()})
        for r in REDUCTIONS
    ]


class _TorchHinge(torch.nn.Module):
    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, s, y):
        return _hinge_torch(s, y, self.margin, self.reduction)


_EMPTY_LABELS = np.zeros(0, np.int64)
LOSS_CASES: dict[str, list[Case]] = {
    "mse_loss": _loss_cases("mse_loss-special", F.mse_loss, TF.mse_loss, (PAIR_A, PAIR_B))
    + _loss_cases("mse_loss-empty", F.mse_loss, TF.mse_loss, (EMPTY, EMPTY)),
    "cross_entropy": _loss_cases("cross_entropy-special", F.cross_entropy, TF.cross_entropy,
                                 (_LOGITS, _LABELS))
    + _loss_cases("cross_entropy-empty", F.cross_entropy, TF.cross_entropy,
                  (EMPTY, _EMPTY_LABELS))
    + _loss_cases("cross_entropy-empty-spatial", F.cross_entropy, TF.cross_entropy,
                  (np.zeros((2, 3, 0)), np.zeros((2, 0), np.int64)))
    + _loss_cases("cross_entropy-empty-probs", F.cross_entropy, TF.cross_entropy,
                  (EMPTY, EMPTY))
    + _loss_cases("cross_entropy-special-probs", F.cross_entropy, TF.cross_entropy,
                  (_LOGITS, _SOFT))
    + _loss_cases(
        "cross_entropy-options-special",
        lambda z, y, reduction: F.cross_entropy(z, y, _CLS_W, ignore_index=1,
                                                label_smoothing=0.1, reduction=reduction),
        lambda z, y, reduction: TF.cross_entropy(z, y, torch.tensor(_CLS_W, dtype=z.dtype),
                                                 ignore_index=1, label_smoothing=0.1,
                                                 reduction=reduction),
        (_LOGITS[[0, 5, 6, 7]], _LABELS[[0, 5, 6, 7]]))
    + _loss_cases(
        "cross_entropy-options-empty",
        lambda z, y, reduction: F.cross_entropy(z, y, _CLS_W, ignore_index=1,
                                                label_smoothing=0.1, reduction=reduction),
        lambda z, y, reduction: TF.cross_entropy(z, y, torch.tensor(_CLS_W, dtype=z.dtype),
                                                 ignore_index=1, label_smoothing=0.1,
                                                 reduction=reduction),
        (EMPTY, _EMPTY_LABELS)),
    "nll_loss": _loss_cases("nll_loss-special", F.nll_loss, TF.nll_loss, (_LOGP, _LABELS))
    + _loss_cases("nll_loss-empty", F.nll_loss, TF.nll_loss, (EMPTY, _EMPTY_LABELS))
    + _loss_cases(
        "nll_loss-weighted-empty",
        lambda x, y, reduction: F.nll_loss(x, y, _CLS_W, reduction=reduction),
        lambda x, y, reduction: TF.nll_loss(x, y, torch.tensor(_CLS_W, dtype=x.dtype),
                                            reduction=reduction),
        (EMPTY, _EMPTY_LABELS)),
    "binary_cross_entropy": _loss_cases(
        "binary_cross_entropy-bounds", F.binary_cross_entropy, TF.binary_cross_entropy,
        (_BCE_P, _BCE_Y), expect=_bce_probs_reduced)
    + _loss_cases("binary_cross_entropy-empty", F.binary_cross_entropy,
                  TF.binary_cross_entropy, (EMPTY, EMPTY)),
    "binary_cross_entropy_with_logits": _loss_cases(
        "bce_with_logits-special", F.binary_cross_entropy_with_logits,
        TF.binary_cross_entropy_with_logits, (_BCE_Z, _BCE_ZY), expect=_bce_logits_reduced)
    + _loss_cases("bce_with_logits-empty", F.binary_cross_entropy_with_logits,
                  TF.binary_cross_entropy_with_logits, (EMPTY, EMPTY))
    + _loss_cases(
        "bce_with_logits-pos_weight-empty",
        lambda z, y, reduction: F.binary_cross_entropy_with_logits(
            z, y, reduction=reduction, pos_weight=np.array([1.0, 2.0, 3.0])),
        lambda z, y, reduction: TF.binary_cross_entropy_with_logits(
            z, y, reduction=reduction, pos_weight=torch.tensor([1.0, 2.0, 3.0], dtype=z.dtype)),
        (EMPTY, EMPTY)),
    "hinge_loss": _loss_cases("hinge_loss-special", F.hinge_loss, _hinge_torch,
                              (_HINGE_S, _HINGE_Y), grad=(0,))
    + _loss_cases("hinge_loss-empty", F.hinge_loss, _hinge_torch, (np.zeros(0), np.zeros(0)),
                  grad=(0,)),
    # modules
    "MSELoss": _module_cases("MSELoss", nn.MSELoss, torch.nn.MSELoss, (PAIR_A, PAIR_B))
    + _module_cases("MSELoss-empty", nn.MSELoss, torch.nn.MSELoss, (EMPTY, EMPTY)),
    "CrossEntropyLoss": _module_cases("CrossEntropyLoss", nn.CrossEntropyLoss,
                                      torch.nn.CrossEntropyLoss, (_LOGITS, _LABELS))
    + _module_cases("CrossEntropyLoss-empty", nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss,
                    (EMPTY, _EMPTY_LABELS), init={"label_smoothing": 0.2}),
    "NLLLoss": _module_cases("NLLLoss", nn.NLLLoss, torch.nn.NLLLoss, (_LOGP, _LABELS))
    + _module_cases("NLLLoss-empty", nn.NLLLoss, torch.nn.NLLLoss, (EMPTY, _EMPTY_LABELS)),
    "BCELoss": _module_cases("BCELoss", nn.BCELoss, torch.nn.BCELoss, (_BCE_P, _BCE_Y),
                             expect=_bce_probs_reduced)
    + _module_cases("BCELoss-empty", nn.BCELoss, torch.nn.BCELoss, (EMPTY, EMPTY)),
    "BCEWithLogitsLoss": _module_cases("BCEWithLogitsLoss", nn.BCEWithLogitsLoss,
                                       torch.nn.BCEWithLogitsLoss, (_BCE_Z, _BCE_ZY),
                                       expect=_bce_logits_reduced)
    + _module_cases("BCEWithLogitsLoss-empty", nn.BCEWithLogitsLoss,
                    torch.nn.BCEWithLogitsLoss, (EMPTY, EMPTY)),
    "HingeLoss": _module_cases("HingeLoss", nn.HingeLoss, _TorchHinge, (_HINGE_S, _HINGE_Y),
                               grad=(0,))
    + _module_cases("HingeLoss-empty", nn.HingeLoss, _TorchHinge, (np.zeros(0), np.zeros(0)),
                    grad=(0,)),
}


def _functional_losses() -> set[str]:
    return {
        n for n, f in vars(F).items()
        if not n.startswith("_") and inspect.isfunction(f) and ("loss" in n or "entropy" in n)
    }


def _loss_modules() -> set[str]:
    return {
        n for n, c in vars(loss_modules).items()
        if not n.startswith("_") and inspect.isclass(c) and issubclass(c, loss_modules._Loss)
    }


def test_every_loss_has_an_edge_entry():
    losses = _functional_losses() | _loss_modules()
    assert {"cross_entropy", "nll_loss", "mse_loss", "CrossEntropyLoss"} <= losses
    missing = sorted(losses - set(LOSS_CASES))
    assert not missing, f"losses without an edge-value entry: {missing}"
    unknown = sorted(set(LOSS_CASES) - losses)
    assert not unknown, f"entries for unknown losses: {unknown}"


def _loss_params():
    for _, cases in sorted(LOSS_CASES.items()):
        for case in cases:
            for dtype in case.dtypes:
                yield pytest.param(case, dtype, id=f"{case.label}-{np.dtype(dtype).name}")


@pytest.mark.parametrize(("case", "dtype"), list(_loss_params()))
def test_loss_edge_values(case, dtype):
    run_case(case, dtype)
