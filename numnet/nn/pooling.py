"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d`` (no parameters)."""

from __future__ import annotations

from numnet import ops
from numnet.nn.module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        self.kernel_size = kernel_size if isinstance(kernel_size, int) else tuple(kernel_size)
        self.stride = stride if stride is None or isinstance(stride, int) else tuple(stride)
        self.padding = padding if isinstance(padding, int) else tuple(padding)

    def get_config(self) -> dict:
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over ``k × k`` blocks (seed 001); the gradient goes to each block's arg-max.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default ``kernel_size`` (non-overlapping blocks)
    padding : int or (int, int), at most half the kernel (``-inf`` padding)
    """

    def forward(self, x):
        return ops.max_pool2d(
            x, kernel_size=self.kernel_size, stride=self.stride, padding=self.padding
        )


class AvgPool2d(_Pool2d):
    """Mean over ``k × k`` blocks (zero padding counted, PyTorch's default)."""

    def forward(self, x):
        return ops.avg_pool2d(
            x, kernel_size=self.kernel_size, stride=self.stride, padding=self.padding
        )
