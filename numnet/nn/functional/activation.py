"""Activations with PyTorch's names; the gradients are those of the fused primitives in
:mod:`numnet.ops.activations`."""

from __future__ import annotations

from numnet import ops
from numnet.nn.functional._validation import _check_inplace
from numnet.tensor import Tensor

sigmoid = ops.sigmoid
tanh = ops.tanh


def relu(input, inplace: bool = False) -> Tensor:
    """``max(0, z)``; derivative ``1{z > 0}`` (0 at z = 0).

    ``inplace`` is accepted so that PyTorch code (``F.relu(x, inplace=True)``) runs
    unchanged, but numnet never overwrites its input: the result is a new tensor either
    way and the values and gradients are the same. (Without PyTorch's version counters
    an in-place ReLU could silently corrupt the gradient of an op that saved the
    input, e.g. a sigmoid's output.) Large outputs come from recycled memory anyway.
    """
    _check_inplace(inplace, "relu")
    return ops.relu(input)
softplus = ops.softplus
arctan = ops.arctan


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``max(z, 0) + negative_slope · min(z, 0)``; derivative 1 or ``negative_slope``.

    ``inplace`` is accepted for PyTorch compatibility; numnet computes out of place (see
    :func:`relu`)."""
    _check_inplace(inplace, "leaky_relu")
    return ops.leaky_relu(input, negative_slope=float(negative_slope))


def heaviside(input, *, straight_through: bool = False) -> Tensor:
    """Threshold unit ``1{z ≥ 0}`` (McCulloch & Pitts, seed 002).

    Its derivative is 0 almost everywhere (and undefined at 0), so by default the
    result is cut from the graph: no gradient flows through it. With
    ``straight_through=True`` the backward pass uses the identity instead (the
    straight-through estimator), which lets a network of step units be trained.
    """
    if straight_through:
        return ops.straight_through_heaviside(input)
    return ops.heaviside_step(input)


def sign(input, *, straight_through: bool = False) -> Tensor:
    """``sign(z)`` with ``sign(0) = +1`` (the perceptron's output, seed 002).

    Forward only by default (zero gradient almost everywhere). With
    ``straight_through=True`` the gradient is Hubara et al.'s straight-through estimator
    ``δz = δy ⊙ 1{|z| ≤ 1}`` (``hardtanh``'s gradient except at ``|z| = 1``, where
    PyTorch's ``hardtanh`` gives 0).
    """
    if straight_through:
        return ops.straight_through_sign(input)
    return ops.sign_step(input)


def softmax(input, dim: int = -1) -> Tensor:
    """``e^{z_i} / Σ_j e^{z_j}`` via the stable ``exp(log_softmax(z))``."""
    return ops.softmax(input, dim=dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    """``z_i - log Σ_j e^{z_j}`` with the log-sum-exp trick (fused primitive)."""
    return ops.log_softmax(input, dim=dim)
