"""The affine layer ``y = x Wᵀ + b`` (seed 000)."""

from __future__ import annotations

from numnet import ops
from numnet.tensor import Tensor


def linear(input, weight, bias=None) -> Tensor:
    """``y = x Wᵀ + b`` with ``weight`` of shape ``(out, in)`` (seed 000's ``W_k``).

    See :func:`numnet.ops.linear` for the VJP (``δW = δsᵀ x``, ``δb = Σ δs``,
    ``δx = δs W``).
    """
    if bias is None:
        return ops.linear(input, weight)
    return ops.linear(input, weight, bias)
