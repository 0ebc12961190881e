"""Affine layers: ``Linear`` and ``Identity``."""

from __future__ import annotations

import math

import numpy as np

from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.module import Module
from numnet.nn.parameter import Parameter
from numnet.random import as_generator


def _fan_in_uniform(shape: tuple[int, ...], bias: bool, generator, dtype):
    """``(weight, bias or None)``: a weight of ``shape`` and, if ``bias``, a bias
    ``(shape[0],)``, both from ``U(-1/√fan_in, 1/√fan_in)`` with ``fan_in =
    prod(shape[1:])``, weight first: PyTorch's initialisation of ``Linear`` and
    ``Conv*d`` (kaiming-uniform with ``a = √5``)."""
    rng = as_generator(generator)
    bound = 1.0 / math.sqrt(math.prod(shape[1:]))
    params = [Parameter(np.empty(shape, dtype=dtype))]
    if bias:
        params.append(Parameter(np.empty(shape[0], dtype=dtype)))
    for p in params:
        init.uniform_(p, -bound, bound, generator=rng)
    return params[0], (params[1] if bias else None)


class Linear(Module):
    """``y = x Wᵀ + b`` (seed 000's ``z_k = W_k y_{k-1} + b_k``, batch as rows).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    generator : int | numpy.random.Generator | None
        Source of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    weight : Parameter (out_features, in_features)
        Initialised from ``U(-1/√in, 1/√in)``, like ``torch.nn.Linear``.
    bias : Parameter (out_features,) or None
        Same distribution.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        generator=None,
        dtype=np.float32,
    ) -> None:
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear needs positive sizes, got in_features={in_features}, "
                f"out_features={out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight, self.bias = _fan_in_uniform(
            (out_features, in_features), bias, generator, dtype
        )

    def get_config(self) -> dict:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "dtype": self.weight.dtype,
        }

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x
