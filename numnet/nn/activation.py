"""Activation layers (modules wrapping :mod:`numnet.nn.functional`)."""

from __future__ import annotations

from numnet import ops
from numnet.nn import functional as F
from numnet.nn.module import Module


class _Pointwise(Module):
    """An activation without arguments: ``forward`` applies ``_function``."""

    _function = None  # set by each subclass (a staticmethod)

    def forward(self, x):
        return self._function(x)


class Sigmoid(_Pointwise):
    """``σ(z) = 1/(1+e^{-z})``."""

    _function = staticmethod(F.sigmoid)


class Tanh(_Pointwise):
    """``tanh z``."""

    _function = staticmethod(F.tanh)


class Softplus(_Pointwise):
    """``log(1 + e^z)`` (stable)."""

    _function = staticmethod(F.softplus)


class Arctan(_Pointwise):
    """``arctan z``."""

    _function = staticmethod(F.arctan)


class ReLU(Module):
    """``max(0, z)``.

    ``inplace`` is accepted for PyTorch compatibility (``nn.ReLU(inplace=True)``);
    numnet computes out of place, with the same values and gradients (see ``F.relu``).
    """

    def __init__(self, inplace: bool = False) -> None:
        F._check_inplace(inplace, "ReLU")
        self.inplace = bool(inplace)

    def get_config(self) -> dict:
        return {"inplace": self.inplace}

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``max(z, 0) + negative_slope · min(z, 0)``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        F._check_inplace(inplace, "LeakyReLU")
        self.negative_slope = float(negative_slope)
        self.inplace = bool(inplace)  # accepted for PyTorch compatibility; out of place

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope, "inplace": self.inplace}

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        extra = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{extra}"


class _Threshold(Module):
    """A threshold unit with an optional straight-through gradient."""

    _function = None  # set by each subclass (a staticmethod)

    def __init__(self, *, straight_through: bool = False) -> None:
        self.straight_through = bool(straight_through)

    def get_config(self) -> dict:
        return {"straight_through": self.straight_through}

    def forward(self, x):
        return self._function(x, straight_through=self.straight_through)

    def extra_repr(self) -> str:
        return f"straight_through={self.straight_through}"


class Heaviside(_Threshold):
    """Threshold unit ``1{z ≥ 0}``; see :func:`numnet.nn.functional.heaviside`."""

    _function = staticmethod(F.heaviside)


class Sign(_Threshold):
    """``sign(z)`` (``+1`` at 0); see :func:`numnet.nn.functional.sign`."""

    _function = staticmethod(F.sign)


class _AlongDim(Module):
    """A normalisation along one dimension ``dim``."""

    _function = None  # set by each subclass (a staticmethod)

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def get_config(self) -> dict:
        return {"dim": self.dim}

    def forward(self, x):
        return self._function(x, self.dim)


class Softmax(_AlongDim):
    """``softmax`` along ``dim``."""

    _function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """``log_softmax`` along ``dim``."""

    _function = staticmethod(F.log_softmax)


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def get_config(self) -> dict:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def forward(self, x):
        return ops.flatten(x, self.start_dim, self.end_dim)


ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softplus": Softplus,
    "arctan": Arctan,
    "heaviside": Heaviside,
    "sign": Sign,
}
