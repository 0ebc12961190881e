"""Activation layers (modules wrapping :mod:`numnet.nn.functional`)."""

from __future__ import annotations

from numnet import ops
from numnet.nn import functional as F
from numnet.nn.module import Module


class Sigmoid(Module):
    """``σ(z) = 1/(1+e^{-z})``."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """``tanh z``."""

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """``max(0, z)``.

    ``inplace`` is accepted for PyTorch compatibility (``nn.ReLU(inplace=True)``);
    numnet computes out of place, with the same values and gradients (see ``F.relu``).
    """

    def __init__(self, inplace: bool = False) -> None:
        F._check_inplace(inplace, "ReLU")
        self.inplace = bool(inplace)

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

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        extra = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{extra}"


class Softplus(Module):
    """``log(1 + e^z)`` (stable)."""

    def forward(self, x):
        return F.softplus(x)


class Arctan(Module):
    """``arctan z``."""

    def forward(self, x):
        return F.arctan(x)


class Heaviside(Module):
    """Threshold unit ``1{z ≥ 0}``; see :func:`numnet.nn.functional.heaviside`."""

    def __init__(self, *, straight_through: bool = False) -> None:
        self.straight_through = bool(straight_through)

    def forward(self, x):
        return F.heaviside(x, straight_through=self.straight_through)

    def extra_repr(self) -> str:
        return f"straight_through={self.straight_through}"


class Sign(Module):
    """``sign(z)`` (``+1`` at 0); see :func:`numnet.nn.functional.sign`."""

    def __init__(self, *, straight_through: bool = False) -> None:
        self.straight_through = bool(straight_through)

    def forward(self, x):
        return F.sign(x, straight_through=self.straight_through)

    def extra_repr(self) -> str:
        return f"straight_through={self.straight_through}"


class Softmax(Module):
    """``softmax`` along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)


class LogSoftmax(Module):
    """``log_softmax`` along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

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
