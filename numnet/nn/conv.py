"""Convolutional layers: ``Conv1d`` and ``Conv2d`` (PyTorch's names, shapes and init)."""

from __future__ import annotations

import numpy as np

from numnet import ops
from numnet.nn.linear import _fan_in_uniform
from numnet.nn.module import Module


def _tuple(value, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value}")
    return value


class _ConvNd(Module):
    """Shared constructor of ``Conv1d``/``Conv2d``: checks, parameters and initialisation."""

    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        *,
        generator=None,
        dtype=np.float32,
    ) -> None:
        name = type(self).__name__
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(
                f"{name} needs positive channel counts, got in_channels="
                f"{in_channels}, out_channels={out_channels}"
            )
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} "
                f"and out_channels={out_channels}"
            )
        d = self._dims
        self.in_channels, self.out_channels, self.groups = (
            int(in_channels),
            int(out_channels),
            int(groups),
        )
        self.kernel_size = _tuple(kernel_size, d, "kernel_size")
        self.stride = _tuple(stride, d, "stride")
        self.dilation = _tuple(dilation, d, "dilation")
        self.padding = padding if isinstance(padding, str) else _tuple(padding, d, "padding")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError(
                f"{name}: kernel_size, stride and dilation must be positive, got "
                f"{self.kernel_size}, {self.stride}, {self.dilation}"
            )
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight, self.bias = _fan_in_uniform(shape, bias, generator, dtype)

    def get_config(self) -> dict:
        names = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
        config = {name: getattr(self, name) for name in (*names, "groups")}
        return {**config, "bias": self.bias is not None, "dtype": self.weight.dtype}

    def _conv_kwargs(self) -> dict:
        pad = self.padding
        if self._dims == 1:
            return {
                "stride": self.stride[0],
                "dilation": self.dilation[0],
                "groups": self.groups,
                "padding": pad if isinstance(pad, str) else pad[0],
            }
        return {
            "stride": self.stride,
            "padding": pad,
            "dilation": self.dilation,
            "groups": self.groups,
        }

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in ((0,) * self._dims, "valid"):
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer (cross-correlation, seed 001): ``y = W ⋆ x + b``.

    Input ``(N, C_in, H, W)``, output ``(N, C_out, H_out, W_out)``; see
    :func:`numnet.ops.conv2d` for the output size and the gradients.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), ``'same'`` or ``'valid'`` (zeros)
    groups : int
    bias : bool
    generator : int, numpy.random.Generator or None
        The seed or generator of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    weight : Parameter (C_out, C_in / groups, kH, kW)
        ``U(-1/√fan_in, 1/√fan_in)`` with ``fan_in = C_in/groups · kH · kW``, the
        distribution of ``torch.nn.Conv2d`` (kaiming-uniform with ``a = √5``).
    bias : Parameter (C_out,) or None
        The same distribution; ``None`` when ``bias=False``.
    """

    _dims = 2

    def forward(self, x):
        if self.bias is None:
            return ops.conv2d(x, self.weight, **self._conv_kwargs())
        return ops.conv2d(x, self.weight, self.bias, **self._conv_kwargs())


class Conv1d(_ConvNd):
    """1-D convolution layer (cross-correlation): ``(N, C_in, L) -> (N, C_out, L_out)``.

    Seed 000's filter bank ``y^j = Σ_i w^{ij} ⋆ x^i + b_j`` on sequences. Weight
    ``(C_out, C_in / groups, k)`` and initialisation as ``torch.nn.Conv1d``.
    Parameters as :class:`Conv2d`, with ints for the sizes.
    """

    _dims = 1

    def forward(self, x):
        if self.bias is None:
            return ops.conv1d(x, self.weight, **self._conv_kwargs())
        return ops.conv1d(x, self.weight, self.bias, **self._conv_kwargs())
