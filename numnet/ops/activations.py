"""Activation functions φ with their derivatives φ' written in terms of the output.

Seed 000's backward pass multiplies the adjoint by ``φ'(z)``:
``δs = δy ⊙ φ'(z)``. For the lecture activations the derivative is cheapest from
the output ``y = φ(z)`` (as in scikit-learn's ``DERIVATIVES``):

====================  ===============================  ===========================
activation            forward ``y = φ(z)``              derivative ``φ'(z)``
====================  ===============================  ===========================
sigmoid               ``1 / (1 + e^{-z})``             ``y (1 - y)``
tanh                  ``tanh z``                       ``1 - y²``
relu                  ``max(0, z)``                    ``1{y > 0}``
leaky_relu            ``max(αz, z)``                   ``1`` if ``z > 0`` else ``α``
softplus              ``log(1 + e^z)``                 ``σ(z) = 1 - e^{-y}``
arctan                ``arctan z``                     ``1 / (1 + z²)``
====================  ===============================  ===========================
"""

from __future__ import annotations

import numpy as np

from numnet.ops._ieee import primitive
from numnet.ops.elementwise import _BITS, select_adjoint
from numnet.parallel import parallel_batch

_PARALLEL_MIN_SIZE = 1 << 18  # elements; below, one thread is faster than a split

_ZERO_ROWS: dict[tuple, np.ndarray] = {}


def _zero_row(z: np.ndarray) -> np.ndarray:
    """A read-only zero array broadcastable to ``z`` (its last axis), cached."""
    key = (z.shape[-1:] if z.ndim else (), z.dtype)
    row = _ZERO_ROWS.get(key)
    if row is None:
        if len(_ZERO_ROWS) > 64:
            _ZERO_ROWS.clear()
        row = _ZERO_ROWS[key] = np.zeros(key[0], dtype=z.dtype)
        row.flags.writeable = False
    return row


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = 1/(1+e^{-z})`` without overflow: ``e^{-|z|}`` is always ≤ 1."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


@primitive("sigmoid", family="activations", saves=(), saves_output=True, int_rule="float")
def sigmoid(z):
    """Logistic function (seed 002). Math: ``φ'(z) = σ(z)(1 - σ(z))``."""
    y = stable_sigmoid(z)

    def vjp(g, needs):
        return (g * y * (1 - y),)  # dσ = σ(1 - σ)

    return y, vjp


@primitive("tanh", family="activations", saves=(), saves_output=True, int_rule="float")
def tanh(z):
    """Hyperbolic tangent. Math: ``φ'(z) = 1 - tanh²(z)``."""
    y = np.tanh(z)

    def vjp(g, needs):
        return (g * (1 - y * y),)  # d tanh = 1 - tanh²

    return y, vjp


def _dense_order(a: np.ndarray) -> tuple[int, ...] | None:
    """An axis order in which ``a`` is C-contiguous, if ``a`` is a permuted view of one
    dense block (e.g. the NCHW view of a channels-last convolution output), else None."""
    if a.flags.c_contiguous:
        return tuple(range(a.ndim))
    order = tuple(sorted(range(a.ndim), key=lambda i: -a.strides[i]))
    return order if a.transpose(order).flags.c_contiguous else None


def _relu_adjoint(g: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``δz`` into ``out``: ``δy`` where ``y ≠ 0``, ``+0`` elsewhere (PyTorch's
    ``threshold_backward``; ``δy`` passes at NaN), with the mask written into ``out``."""
    mask = np.not_equal(y, 0, out=out.view(_BITS[out.dtype.itemsize]))  # 1{y ≠ 0} as 0/1
    return select_adjoint(g, mask, out=out)  # d relu = 1{y > 0}, and 1 at NaN (PyTorch's)


@primitive(
    "relu", family="activations", quiet=False, saves=(), saves_output=True, int_rule="no_bool"
)
def relu(z):
    """Rectified linear unit ``max(0, z)``. Math: ``φ'(z) = 1{z > 0}`` (0 at z = 0).

    The VJP is PyTorch's ``threshold_backward``, a selection: ``δz = δy`` where
    ``y ≠ 0``, else ``+0``, whatever ``δy`` is there (``±∞`` and NaN included, not the
    ``∞ · 0 = NaN`` of a product). At ``z = NaN`` (output NaN) ``δy`` passes, as in
    PyTorch (which zeroes it where ``y ≤ 0``, false for NaN); for every other input the
    mask ``y ≠ 0`` is ``1{z > 0}``, since ``y ≥ 0``.

    Notes: the zero is passed as a row of zeros rather than a scalar: NumPy's
    vectorised loop for ``maximum`` is about 2x faster on two arrays than on an array
    and a scalar (measured for float32, 128 x 512). The VJP writes the mask as 0/1
    integers into its result and multiplies ``δy``'s bit pattern by it
    (:func:`numnet.ops.elementwise.select_adjoint`): as fast as ``δy ⊙ 1{y ≠ 0}``,
    where ``np.where`` is 16x slower. Large arrays (a convolution's output) are
    processed in the order of their memory (a channels-last block behind an NCHW view
    stays channels-last) and split over :mod:`numnet.parallel`'s threads: both passes
    are memory-bound and NumPy releases the GIL.
    """
    order = _dense_order(z) if z.size >= _PARALLEL_MIN_SIZE else None
    if order is None:
        y = np.maximum(z, _zero_row(z))

        def vjp(g, needs):
            return (_relu_adjoint(g, y, np.empty(y.shape, g.dtype)),)

        return y, vjp

    inverse = tuple(np.argsort(order))
    zc = z.transpose(order)  # C-contiguous
    yc = np.empty(zc.shape, z.dtype)
    zf, yf = zc.reshape(len(zc), -1), yc.reshape(len(yc), -1)
    zero = _zero_row(zf)
    parallel_batch(lambda a, b: np.maximum(zf[a:b], zero, out=yf[a:b]), len(zf))
    y = yc.transpose(inverse)  # z's shape, z's memory order

    def vjp_large(g, needs):
        gc = g.transpose(order) if g.shape == y.shape else None
        if gc is None or not gc.flags.c_contiguous:
            return (_relu_adjoint(g, y, np.empty(y.shape, g.dtype)),)
        gxc = np.empty(gc.shape, g.dtype)
        gf, gxf = gc.reshape(len(gc), -1), gxc.reshape(len(gxc), -1)
        parallel_batch(lambda a, b: _relu_adjoint(gf[a:b], yf[a:b], gxf[a:b]), len(gf))
        return (gxc.transpose(inverse),)

    return y, vjp_large


@primitive("leaky_relu", family="activations", saves=(), int_rule="raise")
def leaky_relu(z, *, negative_slope=0.01):
    """``z`` for ``z > 0``, ``α z`` otherwise. Math: ``φ'(z) = 1`` or ``α``."""
    slope = np.asarray(negative_slope, dtype=z.dtype)
    positive = z > 0
    y = np.where(positive, z, slope * z)

    def vjp(g, needs):
        return (np.where(positive, g, slope * g),)  # d leaky = 1 or α

    return y, vjp


@primitive("softplus", family="activations", int_rule="raise")
def softplus(z):
    """``log(1 + e^z)`` as ``max(z, 0) + log1p(e^{-|z|})`` (no overflow).

    Math: ``φ'(z) = σ(z)``. Exact for every ``z``: PyTorch's ``softplus`` (``threshold=20``)
    returns ``z`` and the derivative 1 for ``z > 20``, off by ``e^{-z} < 2.1e-9``; numnet
    keeps ``z + log1p(e^{-z})`` and ``σ(z)`` there (the difference is below float32's
    resolution; ``tests/ops/test_edge_sweep.py`` allows it in float64).
    """
    y = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def vjp(g, needs):
        return (g * stable_sigmoid(z),)  # d softplus = σ

    return y, vjp


@primitive("arctan", family="activations", int_rule="float")
def arctan(z):
    """``arctan z`` (seed 002's smooth threshold). Math: ``φ'(z) = 1 / (1 + z²)``."""

    def vjp(g, needs):
        return (g / (1 + z * z),)  # d arctan = 1/(1+z²)

    return np.arctan(z), vjp


@primitive("straight_through_heaviside", family="activations", saves=())
def straight_through_heaviside(z):
    """``1{z ≥ 0}`` forward; backward uses the identity (straight-through estimator).

    The true derivative of a step is 0 almost everywhere, which stops learning; the
    straight-through estimator (Bengio et al., 2013) passes the adjoint through as if
    the unit were the identity.
    """
    y = (z >= 0).astype(z.dtype)

    def vjp(g, needs):
        return (g,)

    return y, vjp


@primitive("straight_through_sign", family="activations", int_rule="no_bool")
def straight_through_sign(z):
    """``sign(z)`` (``+1`` at 0) forward; backward ``δz = δy ⊙ 1{|z| ≤ 1}``.

    The straight-through estimator of Hubara et al. (2016), ``1{|r| ≤ 1}``: the
    identity inside the closed interval ``[-1, 1]`` and 0 outside and at NaN, whatever
    ``δy`` is there (``±∞`` and NaN included: a selection, not a product). It differs
    from PyTorch's ``hardtanh`` gradient at exactly ``|z| = 1`` (PyTorch: 0, the open
    interval) and at NaN (PyTorch passes ``δy``).
    """
    y = np.where(z >= 0, 1, -1).astype(z.dtype)

    def vjp(g, needs):
        return (select_adjoint(g, np.abs(z) <= 1),)  # = np.where(|z| ≤ 1, δy, 0)

    return y, vjp
