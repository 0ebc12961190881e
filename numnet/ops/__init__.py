"""All primitives, grouped by family, plus a few ops composed from them.

``numnet.autograd.PRIMITIVES`` lists every registered primitive; the composed ops
(``softmax``, ``var``, ``std``, ``flatten``...) need no gradient code of their own.
"""

from numnet.ops.activations import (
    arctan,
    leaky_relu,
    relu,
    sigmoid,
    softplus,
    straight_through_heaviside,
    straight_through_sign,
    tanh,
)
from numnet.ops.compare import (
    argmax,
    argmin,
    eq,
    ge,
    gt,
    heaviside_step,
    le,
    lt,
    ne,
    sign_step,
)
from numnet.ops.elementwise import (
    abs,
    add,
    cast,
    clamp,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from numnet.ops.linalg import linear, matmul
from numnet.ops.losses import (
    binary_cross_entropy_logits,
    binary_cross_entropy_probs,
    cross_entropy_logits,
    cross_entropy_soft,
    log_softmax,
)
from numnet.ops.reductions import amax, amin, logsumexp, mean, std, sum, var
from numnet.ops.shape import broadcast_to, cat, flatten, getitem, permute, reshape, squeeze, stack
from numnet.ops.shape import unsqueeze as unsqueeze


def softmax(x, *, dim=-1):
    """``softmax(z)_i = e^{z_i} / Σ_j e^{z_j}``, composed as ``exp(log_softmax(z))`` (stable)."""
    return exp(log_softmax(x, dim=dim))


__all__ = [
    "abs",
    "add",
    "amax",
    "amin",
    "arctan",
    "argmax",
    "argmin",
    "binary_cross_entropy_logits",
    "binary_cross_entropy_probs",
    "broadcast_to",
    "cast",
    "cat",
    "clamp",
    "cross_entropy_logits",
    "cross_entropy_soft",
    "div",
    "eq",
    "exp",
    "flatten",
    "ge",
    "getitem",
    "gt",
    "heaviside_step",
    "le",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "lt",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "mul",
    "ne",
    "neg",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sign_step",
    "softmax",
    "softplus",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "straight_through_heaviside",
    "straight_through_sign",
    "sub",
    "sum",
    "tanh",
    "unsqueeze",
    "var",
    "where",
]

# -- convolution and pooling ---------------------------------------------------------------
from numnet.ops.conv import conv1d, conv2d, convolve1d, convolve2d  # noqa: E402
from numnet.ops.pool import avg_pool2d, max_pool2d, relu_max_pool2d  # noqa: E402

__all__ += [
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "convolve1d",
    "convolve2d",
    "max_pool2d",
    "relu_max_pool2d",
]
