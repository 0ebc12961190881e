"""Convolution, pooling and flattening with PyTorch's positional order; the
primitives are :mod:`numnet.ops.conv` and :mod:`numnet.ops.pool`."""

from __future__ import annotations

from numnet import ops
from numnet.tensor import Tensor


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation (seed 001's convolutional layer); see :func:`numnet.ops.conv2d`."""
    args = (input, weight) if bias is None else (input, weight, bias)
    return ops.conv2d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D cross-correlation; see :func:`numnet.ops.conv1d`."""
    args = (input, weight) if bias is None else (input, weight, bias)
    return ops.conv1d(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(input, kernel_size, stride=None, padding=0) -> Tensor:
    """Max over windows; the gradient goes to the arg-max (see :func:`numnet.ops.max_pool2d`)."""
    return ops.max_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean over windows (see :func:`numnet.ops.avg_pool2d`)."""
    return ops.avg_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim``."""
    return ops.flatten(input, start_dim, end_dim)
