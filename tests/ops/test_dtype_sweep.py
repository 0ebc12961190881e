"""Integer and boolean inputs follow PyTorch's type promotion, primitive by primitive.

``CASES`` maps every registered primitive to sample calls, each a pair of functions
(numnet, torch) of one input tensor. Every call runs on an int64 and on a bool tensor;
numnet's result must have torch's dtype (float32 -> float32, int64 -> int64, bool ->
bool) and values, or both must raise (numnet raises ``TypeError``, see
:mod:`numnet.autograd.registry`). A registered primitive without an entry fails
``test_every_primitive_has_a_dtype_entry``. ``FUNCTIONAL`` does the same for the
composed ops and the ``numnet.nn.functional`` API, ``MIXED`` for operands of mixed kinds.
"""

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import ops
from numnet.autograd import PRIMITIVES

torch = pytest.importorskip("torch")
TF = torch.nn.functional

INT = np.array([[-2, -1, 0], [1, 2, 3]], dtype=np.int64)
BOOL = np.array([[True, False, True], [False, True, True]])
LABELS = np.array([0, 2], dtype=np.int64)
IMG = np.array([[[[3, -1, 2, 0], [-4, 5, 1, 2], [0, 1, -2, 7]]]], dtype=np.int64)  # (1,1,3,4)


def img(x):
    """The (1, 1, 3, 4) image of the same kind as ``x`` (numnet or torch)."""
    data = IMG if x.dtype in (numnet.int64, torch.int64) else IMG > 0
    return numnet.Tensor(data) if isinstance(x, numnet.Tensor) else torch.tensor(data)


def sign_ref(x):
    """numnet's ``sign_step`` (sign with +1 at 0) in torch; refused for bool (±1 are not
    booleans: numnet's choice for its own op, as for ``neg``)."""
    if x.dtype == torch.bool:
        raise RuntimeError("sign_step of a bool tensor")
    return torch.where(x >= 0, 1, -1).to(x.dtype)


def lab(x):
    return numnet.Tensor(LABELS) if isinstance(x, numnet.Tensor) else torch.tensor(LABELS)


# name -> [(numnet function, torch function)], each of one (2, 3) int64 or bool tensor
CASES = {
    "add": [(lambda x: ops.add(x, x), lambda x: x + x), (lambda x: x + 1, lambda x: x + 1)],
    "sub": [(lambda x: ops.sub(x, x), lambda x: x - x), (lambda x: 1 - x, lambda x: 1 - x)],
    "mul": [(lambda x: ops.mul(x, x), lambda x: x * x), (lambda x: x * 3, lambda x: x * 3)],
    "div": [(lambda x: ops.div(x, x), lambda x: x / x), (lambda x: x / 4, lambda x: x / 4)],
    "neg": [(ops.neg, torch.neg)],
    "pow": [
        (lambda x: ops.pow(x, 2), lambda x: x**2),
        (lambda x: ops.pow(x, 0.5), lambda x: x**0.5),
        (lambda x: ops.pow(x, x * x), lambda x: x ** (x * x)),
        (lambda x: ops.pow(2, x * x), lambda x: 2 ** (x * x)),
    ],
    "exp": [(ops.exp, torch.exp)],
    "log": [(ops.log, torch.log)],
    "sqrt": [(ops.sqrt, torch.sqrt)],
    "abs": [(ops.abs, torch.abs)],
    "clamp": [
        (lambda x: ops.clamp(x, min=0, max=1), lambda x: torch.clamp(x, 0, 1)),
        (lambda x: ops.clamp(x, min=0.5), lambda x: torch.clamp(x, min=0.5)),
        (lambda x: ops.clamp(x, max=-1), lambda x: torch.clamp(x, max=-1)),
    ],
    "maximum": [(lambda x: ops.maximum(x, x[0]), lambda x: torch.maximum(x, x[0]))],
    "minimum": [(lambda x: ops.minimum(x, x[1]), lambda x: torch.minimum(x, x[1]))],
    "where": [
        (lambda x: ops.where(x > 0, x, x[1]), lambda x: torch.where(x > 0, x, x[1])),
        (lambda x: ops.where(x > 0, x, 0.5), lambda x: torch.where(x > 0, x, 0.5)),
        (lambda x: ops.where(x > 0, x, 7), lambda x: torch.where(x > 0, x, 7)),
    ],
    "cast": [
        (lambda x: ops.cast(x, dtype=np.float32), lambda x: x.to(torch.float32)),
        (lambda x: ops.cast(x, dtype=np.int64), lambda x: x.to(torch.int64)),
    ],
    "sum": [
        (ops.sum, torch.sum),
        (lambda x: ops.sum(x, dim=1, keepdim=True), lambda x: x.sum(1, keepdim=True)),
    ],
    "mean": [(ops.mean, torch.mean), (lambda x: ops.mean(x, dim=0), lambda x: x.mean(0))],
    "amax": [
        (ops.amax, torch.amax),
        (lambda x: ops.amax(x, dim=1), lambda x: x.amax(1)),
        (lambda x: x.max(), lambda x: x.max()),  # ops.amax(x, masked_fill=True)
    ],
    "amin": [(lambda x: ops.amin(x, dim=0), lambda x: x.amin(0)), (lambda x: x.min(), None)],
    "logsumexp": [(lambda x: ops.logsumexp(x, dim=1), lambda x: torch.logsumexp(x, 1))],
    "matmul": [(lambda x: ops.matmul(x, x.T), lambda x: x @ x.T), (lambda x: x[0] @ x[1], None)],
    "linear": [
        (lambda x: ops.linear(x, x), lambda x: TF.linear(x, x)),
        (lambda x: ops.linear(x, x, x[:, 0]), lambda x: TF.linear(x, x, x[:, 0])),
    ],
    "reshape": [(lambda x: ops.reshape(x, shape=(3, -1)), lambda x: x.reshape(3, -1))],
    "permute": [(lambda x: ops.permute(x, dims=(1, 0)), lambda x: x.permute(1, 0))],
    "broadcast_to": [
        (lambda x: ops.broadcast_to(x, shape=(2, 2, 3)), lambda x: x.expand(2, 2, 3))
    ],
    "getitem": [
        (lambda x: x[1], None),
        (lambda x: x[:, [0, 2, 2]], None),
        (lambda x: x[np.array([True, False])], lambda x: x[torch.tensor([True, False])]),
    ],
    "cat": [
        (lambda x: ops.cat(x, x[:1], dim=0), lambda x: torch.cat([x, x[:1]])),
        (lambda x: ops.cat(x, x * 2, dim=1), lambda x: torch.cat([x, x * 2], 1)),
    ],
    "stack": [(lambda x: ops.stack(x, x, dim=1), lambda x: torch.stack([x, x], 1))],
    "sigmoid": [(ops.sigmoid, torch.sigmoid)],
    "tanh": [(ops.tanh, torch.tanh)],
    "relu": [(ops.relu, torch.relu)],
    "leaky_relu": [
        (lambda x: ops.leaky_relu(x, negative_slope=0.1), lambda x: TF.leaky_relu(x, 0.1))
    ],
    "softplus": [(ops.softplus, TF.softplus)],
    "arctan": [(ops.arctan, torch.arctan)],
    # numnet's own ops: the torch expression they compute
    "straight_through_heaviside": [
        (ops.straight_through_heaviside, lambda x: torch.heaviside(x, torch.ones_like(x)))
    ],
    "straight_through_sign": [(ops.straight_through_sign, sign_ref)],
    "heaviside_step": [(ops.heaviside_step, lambda x: torch.heaviside(x, torch.ones_like(x)))],
    "sign_step": [(ops.sign_step, sign_ref)],
    "lt": [(lambda x: ops.lt(x, x[1]), lambda x: x < x[1]), (lambda x: x < 0.5, None)],
    "le": [(lambda x: ops.le(x, 0), lambda x: x <= 0)],
    "gt": [(lambda x: ops.gt(x, 1.5), lambda x: x > 1.5)],
    "ge": [(lambda x: ops.ge(x, x[0]), lambda x: x >= x[0])],
    "eq": [(lambda x: ops.eq(x, x[0]), lambda x: x == x[0]), (lambda x: x == 1, None)],
    "ne": [(lambda x: ops.ne(x, True), lambda x: x != True)],  # noqa: E712
    "argmax": [
        (ops.argmax, torch.argmax),
        (lambda x: ops.argmax(x, dim=1), lambda x: torch.argmax(x, 1)),
    ],
    "argmin": [
        (lambda x: ops.argmin(x, dim=0, keepdim=True), lambda x: torch.argmin(x, 0, True))
    ],
    "log_softmax": [(lambda x: ops.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, 1))],
    "cross_entropy_logits": [
        (
            lambda x: ops.cross_entropy_logits(x, lab(x)),
            lambda x: TF.cross_entropy(x, lab(x)),
        )
    ],
    "cross_entropy_soft": [
        (lambda x: ops.cross_entropy_soft(x, x), lambda x: TF.cross_entropy(x, x))
    ],
    "binary_cross_entropy_logits": [
        (
            ops.binary_cross_entropy_logits,
            lambda x: TF.binary_cross_entropy_with_logits(x, x, reduction="none"),
        )
    ],
    "binary_cross_entropy_probs": [
        (ops.binary_cross_entropy_probs, lambda x: TF.binary_cross_entropy(x, x, reduction="none"))
    ],
    "conv2d": [
        (
            lambda x: ops.conv2d(img(x), img(x)[..., :2, :2], padding=1),
            lambda x: TF.conv2d(img(x), img(x)[..., :2, :2], padding=1),
        ),
        (
            lambda x: ops.conv2d(img(x), img(x)[..., :2, :3], img(x)[0, 0, 0, :1]),
            lambda x: TF.conv2d(img(x), img(x)[..., :2, :3], img(x)[0, 0, 0, :1]),
        ),
    ],
    "max_pool2d": [
        (lambda x: ops.max_pool2d(img(x), kernel_size=2), lambda x: TF.max_pool2d(img(x), 2)),
        (
            lambda x: ops.max_pool2d(img(x), kernel_size=3, stride=1, padding=1),
            lambda x: TF.max_pool2d(img(x), 3, 1, 1),
        ),
    ],
    "relu_max_pool2d": [
        (
            lambda x: ops.relu_max_pool2d(img(x), kernel_size=2),
            lambda x: TF.max_pool2d(TF.relu(img(x)), 2),
        ),
        (
            lambda x: ops.relu_max_pool2d(img(x), kernel_size=3, stride=1, padding=1),
            lambda x: TF.max_pool2d(TF.relu(img(x)), 3, 1, 1),
        ),
    ],
    "avg_pool2d": [
        (lambda x: ops.avg_pool2d(img(x), kernel_size=2), lambda x: TF.avg_pool2d(img(x), 2)),
        (
            lambda x: ops.avg_pool2d(img(x), kernel_size=3, stride=1, padding=1),
            lambda x: TF.avg_pool2d(img(x), 3, 1, 1),
        ),
    ],
}

# composed ops, top-level functions, Tensor methods and numnet.nn.functional
FUNCTIONAL = {
    "numnet.sigmoid(arange)": (
        lambda x: numnet.sigmoid(numnet.arange(-2, 3)),
        lambda x: torch.sigmoid(torch.arange(-2, 3)),
    ),
    "ops.softmax": (lambda x: ops.softmax(x, dim=1), lambda x: torch.softmax(x, 1)),
    "ops.var": (lambda x: ops.var(x), torch.var),
    "ops.std": (lambda x: ops.std(x, dim=0), lambda x: torch.std(x, 0)),
    "ops.flatten": (ops.flatten, torch.flatten),
    "ops.unsqueeze": (lambda x: ops.unsqueeze(x, 1), lambda x: x.unsqueeze(1)),
    "ops.squeeze": (lambda x: ops.squeeze(x[:1]), lambda x: x[:1].squeeze()),
    "numnet.mean": (numnet.mean, torch.mean),
    "numnet.sum": (lambda x: numnet.sum(x, dim=0), lambda x: torch.sum(x, 0)),
    "numnet.where": (
        lambda x: numnet.where(x > 0, x, -x[0]),
        lambda x: torch.where(x > 0, x, -x[0]),
    ),
    "numnet.clamp": (lambda x: numnet.clamp(x, 0, 2), lambda x: torch.clamp(x, 0, 2)),
    "Tensor.max": (lambda x: x.max(), lambda x: x.max()),
    "Tensor.float": (lambda x: x.float(), lambda x: x.float()),
    "Tensor.long": (lambda x: x.long(), lambda x: x.long()),
    "Tensor.softmax": (lambda x: x.softmax(0), lambda x: x.softmax(0)),
    "F.sigmoid": (F.sigmoid, TF.sigmoid),
    "F.tanh": (F.tanh, TF.tanh),
    "F.relu": (F.relu, TF.relu),
    "F.leaky_relu(0.1)": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "F.softplus": (F.softplus, TF.softplus),
    "F.softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
    "F.log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    "F.mse_loss": (lambda x: F.mse_loss(x, x * 0), lambda x: TF.mse_loss(x, x * 0)),
    "F.mse_loss(none)": (
        lambda x: F.mse_loss(x, x, reduction="none"),
        lambda x: TF.mse_loss(x, x, reduction="none"),
    ),
    "F.cross_entropy": (
        lambda x: F.cross_entropy(x, lab(x)),
        lambda x: TF.cross_entropy(x, lab(x)),
    ),
    "F.nll_loss": (lambda x: F.nll_loss(x, lab(x)), lambda x: TF.nll_loss(x, lab(x))),
    "F.nll_loss(none)": (
        lambda x: F.nll_loss(x, lab(x), reduction="none"),
        lambda x: TF.nll_loss(x, lab(x), reduction="none"),
    ),
    "F.binary_cross_entropy": (
        lambda x: F.binary_cross_entropy(x, x),
        lambda x: TF.binary_cross_entropy(x, x),
    ),
    "F.binary_cross_entropy_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, x),
        lambda x: TF.binary_cross_entropy_with_logits(x, x),
    ),
    "F.dropout(eval)": (
        lambda x: F.dropout(x, 0.5, training=False),
        lambda x: TF.dropout(x, 0.5, training=False),
    ),
    "F.dropout(train)": (lambda x: F.dropout(x, 0.5), lambda x: TF.dropout(x, 0.5)),
    "F.linear": (lambda x: F.linear(x, x), lambda x: TF.linear(x, x)),
    "F.conv2d": (
        lambda x: F.conv2d(img(x), img(x)[..., :2, :2]),
        lambda x: TF.conv2d(img(x), img(x)[..., :2, :2]),
    ),
    "F.max_pool2d": (lambda x: F.max_pool2d(img(x), 2), lambda x: TF.max_pool2d(img(x), 2)),
    "F.avg_pool2d": (
        lambda x: F.avg_pool2d(img(x), 3, 1, 1),
        lambda x: TF.avg_pool2d(img(x), 3, 1, 1),
    ),
    "F.flatten": (F.flatten, torch.flatten),
}

# operands of mixed kinds: (numnet function, torch function) of (int64, bool, float32) tensors
MIXED = {
    "int + float tensor": (lambda i, b, f: i + f, None),
    "int * 0.5": (lambda i, b, f: i * 0.5, None),
    "0.5 - int": (lambda i, b, f: 0.5 - i, None),
    "bool + 1": (lambda i, b, f: b + 1, None),
    "bool * 2.5": (lambda i, b, f: b * 2.5, None),
    "int + bool": (lambda i, b, f: i + b, None),
    "bool + bool": (lambda i, b, f: b + b, None),
    "bool * bool": (lambda i, b, f: b * b, None),
    "int - bool": (lambda i, b, f: i - b, None),
    "float - bool": (lambda i, b, f: f - b, None),
    "bool / bool": (lambda i, b, f: b / b, None),
    "int / int": (lambda i, b, f: i / (i * 0 + 2), None),
    "int ** 2.0": (lambda i, b, f: i**2.0, None),
    "bool ** 2": (lambda i, b, f: b**2, None),
    "2 ** bool": (lambda i, b, f: 2**b, None),
    "maximum(int, bool)": (ops.maximum, torch.maximum),
    "maximum(int, float)": (lambda i, b, f: ops.maximum(i, f), lambda i, b, f: torch.maximum(i, f)),
    "where(b, int, bool)": (
        lambda i, b, f: ops.where(b, i, b),
        lambda i, b, f: torch.where(b, i, b),
    ),
    "where(b, int, float)": (
        lambda i, b, f: ops.where(b, i, f),
        lambda i, b, f: torch.where(b, i, f),
    ),
    "where(b, bool, 0.5)": (
        lambda i, b, f: ops.where(b, b, 0.5),
        lambda i, b, f: torch.where(b, b, 0.5),
    ),
    "where(b, bool, 0)": (lambda i, b, f: ops.where(b, b, 0), lambda i, b, f: torch.where(b, b, 0)),
    "cat(int, bool)": (lambda i, b, f: ops.cat(i, b), lambda i, b, f: torch.cat([i, b])),
    "cat(int, float)": (lambda i, b, f: ops.cat(i, f), lambda i, b, f: torch.cat([i, f])),
    "stack(bool, float)": (lambda i, b, f: ops.stack(b, f), lambda i, b, f: torch.stack([b, f])),
    "clamp(bool, min=0)": (
        lambda i, b, f: ops.clamp(b, min=0, max=1),
        lambda i, b, f: torch.clamp(b, 0, 1),
    ),
    "clamp(int, min=0.5, max=1)": (
        lambda i, b, f: ops.clamp(i, min=0.5, max=1),
        lambda i, b, f: torch.clamp(i, 0.5, 1),
    ),
    "int < float": (lambda i, b, f: i < f, None),
    "bool == int": (lambda i, b, f: b == i, None),
    "matmul(int, float)": (lambda i, b, f: i @ f.T, None),
    "matmul(float, bool)": (lambda i, b, f: f @ b.T, None),
    "linear(int, float)": (lambda i, b, f: F.linear(i, f), lambda i, b, f: TF.linear(i, f)),
    "linear(float, int)": (lambda i, b, f: F.linear(f, i), lambda i, b, f: TF.linear(f, i)),
    "conv2d(int, float)": (
        lambda i, b, f: F.conv2d(img(i), f[:1, :2].reshape(1, 1, 1, 2)),
        lambda i, b, f: TF.conv2d(img(i), f[:1, :2].reshape(1, 1, 1, 2)),
    ),
    "conv2d(float, bool)": (
        lambda i, b, f: F.conv2d(f.reshape(1, 1, 2, 3), img(b)[..., :1, :2]),
        lambda i, b, f: TF.conv2d(f.reshape(1, 1, 2, 3), img(b)[..., :1, :2]),
    ),
    "mse_loss(float, int)": (
        lambda i, b, f: F.mse_loss(f, i),
        lambda i, b, f: TF.mse_loss(f, i.float()),  # torch computes it in float32 too
    ),
}

FLOAT = np.array([[0.5, -1.0, 2.5], [1.0, 0.0, -3.0]], dtype=np.float32)
_DTYPES = {torch.float32: np.float32, torch.int64: np.int64, torch.bool: np.bool_}


def _run(fn, *args):
    try:
        with np.errstate(all="ignore"):
            return fn(*args), None
    except Exception as exc:  # noqa: BLE001
        return None, exc


def _compare(ours, theirs, what):
    got, err = ours
    want, terr = theirs
    if terr is not None:
        assert err is not None, f"{what}: torch raises {terr!r}, numnet returns {got!r}"
        assert isinstance(err, TypeError), f"{what}: numnet raises {err!r}, not TypeError"
        return
    assert err is None, f"{what}: numnet raises {err!r}, torch gives {want!r}"
    assert isinstance(got, numnet.Tensor), f"{what}: {type(got)}"
    assert got.dtype == _DTYPES[want.dtype], f"{what}: dtype {got.dtype}, torch {want.dtype}"
    np.testing.assert_allclose(
        got.data, want.detach().numpy(), rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=what
    )


def _same(torch_fn, nn_fn):
    """The torch function of a case (``None``: the numnet expression works on torch too)."""
    return nn_fn if torch_fn is None else torch_fn


def test_every_primitive_has_a_dtype_entry():
    missing = [n for n in PRIMITIVES if not CASES.get(n)]
    assert not missing, f"primitives without a dtype-sweep entry: {missing}"
    assert not set(CASES) - set(PRIMITIVES), "entries for primitives that do not exist"


@pytest.mark.parametrize("kind", ["int64", "bool"])
@pytest.mark.parametrize(
    "name,fn,torch_fn",
    [(n, fn, tfn) for n, cases in CASES.items() for fn, tfn in cases],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_primitive_dtype_matches_torch(name, fn, torch_fn, kind):
    data = INT if kind == "int64" else BOOL
    ours = _run(fn, numnet.Tensor(data))
    theirs = _run(_same(torch_fn, fn), torch.tensor(data))
    _compare(ours, theirs, f"{name}({kind})")


@pytest.mark.parametrize("kind", ["int64", "bool"])
@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_dtype_matches_torch(name, kind):
    fn, torch_fn = FUNCTIONAL[name]
    data = INT if kind == "int64" else BOOL
    ours = _run(fn, numnet.Tensor(data))
    theirs = _run(torch_fn, torch.tensor(data))
    _compare(ours, theirs, f"{name}({kind})")


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_operands_match_torch(name):
    fn, torch_fn = MIXED[name]
    ours = _run(fn, *(numnet.Tensor(a) for a in (INT, BOOL, FLOAT)))
    theirs = _run(_same(torch_fn, fn), *(torch.tensor(a) for a in (INT, BOOL, FLOAT)))
    _compare(ours, theirs, name)


def test_errors_name_the_op_and_dtype():
    x = numnet.arange(-2, 3)
    with pytest.raises(TypeError, match=r"mean\(\).*int64.*\.float\(\)"):
        x.mean()
    with pytest.raises(TypeError, match=r"neg\(\).*bool"):
        ops.neg(x > 0)
    with pytest.raises(TypeError, match=r"sub\(\).*bool operand"):
        ops.sub(x, x > 0)
    with pytest.raises(TypeError, match=r"leaky_relu\(\).*int64"):
        F.leaky_relu(x, 0.1)
    with pytest.raises(TypeError, match=r"mse_loss.*int64"):
        F.mse_loss(x, x)


def test_float_results_are_float32_not_float64():
    x = numnet.arange(-2, 3)
    for y in (numnet.sigmoid(x), x / 2, numnet.exp(x), x * 0.1, numnet.sqrt(x > 0)):
        assert y.dtype == numnet.float32
    np.testing.assert_allclose(numnet.sigmoid(x).data, 1 / (1 + np.exp(-np.arange(-2, 3))), 1e-6)
    # a float64 tensor keeps its dtype against ints
    d = numnet.Tensor([1.0, 2.0], dtype=numnet.float64)
    assert (d + numnet.Tensor([1, 2])).dtype == numnet.float64
    assert ops.where(d > 1, numnet.Tensor([1, 2]), d).dtype == numnet.float64


def test_gradients_flow_through_promoted_int_operands():
    w = numnet.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    i = numnet.Tensor([1, 2, 3])
    (w * i + ops.where(i > 1, w, 0)).sum().backward()
    np.testing.assert_allclose(w.grad, [1.0, 3.0, 4.0])
    x = numnet.Tensor([[1.0, 2.0]], requires_grad=True)
    ops.cat(x, numnet.Tensor([[3, 4]])).sum().backward()
    assert x.grad.dtype == np.float32


def test_int_rule_is_declared_for_every_primitive():
    from numnet.autograd.registry import INT_RULES

    assert {p.int_rule for p in PRIMITIVES.values()} <= set(INT_RULES)
    with pytest.raises(ValueError, match="int_rule"):
        numnet.autograd.primitive("bad", family="test", int_rule="cast")
