"""Non-differentiable primitives: comparisons, arg-max/min, sign and step functions.

Their derivative is zero almost everywhere (or undefined), so they record no graph
node: results never require grad.
"""

from __future__ import annotations

import numpy as np

from numnet.autograd.registry import primitive


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


@primitive("lt", family="compare", differentiable=False)
def lt(a, b):
    return a < b


@primitive("le", family="compare", differentiable=False)
def le(a, b):
    return a <= b


@primitive("gt", family="compare", differentiable=False)
def gt(a, b):
    return a > b


@primitive("ge", family="compare", differentiable=False)
def ge(a, b):
    return a >= b


@primitive("eq", family="compare", differentiable=False)
def eq(a, b):
    return np.equal(a, b)


@primitive("ne", family="compare", differentiable=False)
def ne(a, b):
    return np.not_equal(a, b)


@primitive("argmax", family="compare", differentiable=False, int_rule="no_bool")
def argmax(x, *, dim=None, keepdim=False):
    """Index of the largest value (flattened when ``dim`` is None), int64."""
    return np.argmax(x, axis=dim, keepdims=keepdim).astype(np.int64)


@primitive("argmin", family="compare", differentiable=False, int_rule="no_bool")
def argmin(x, *, dim=None, keepdim=False):
    """Index of the smallest value (flattened when ``dim`` is None), int64."""
    return np.argmin(x, axis=dim, keepdims=keepdim).astype(np.int64)


@primitive("heaviside_step", family="compare", differentiable=False)
def heaviside_step(x):
    """Threshold unit ``1{x ≥ 0}`` (seed 002, McCulloch & Pitts), in ``x``'s dtype."""
    return (x >= 0).astype(x.dtype)


@primitive("sign_step", family="compare", differentiable=False, int_rule="no_bool")
def sign_step(x):
    """``sign(x)`` with ``sign(0) = +1`` (seed 002's perceptron output), in ``x``'s dtype."""
    return np.where(x >= 0, 1, -1).astype(x.dtype)
