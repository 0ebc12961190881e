"""Tensor factories mirroring ``torch``: ``tensor``, ``zeros``, ``ones``, ``randn``...

Each takes PyTorch's ``device=`` keyword; numnet runs on the CPU only, so it must be
``None``, ``'cpu'`` (or ``'cpu:0'``, a CPU ``numnet.device`` / ``torch.device``): any
other device raises ``RuntimeError``.
"""

from __future__ import annotations

import numpy as np

from numnet._device import check_device
from numnet.random import as_generator
from numnet.tensor import Tensor, _shape_arg

_F32 = np.float32


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become float32 unless ``dtype``)."""
    check_device(device)
    src = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(src, dtype=dtype, copy=True), dtype=dtype, requires_grad=requires_grad)


def from_numpy(array: np.ndarray, *, requires_grad: bool = False) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype (float64 stays float64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor(array, dtype=array.dtype, requires_grad=requires_grad)


def zeros(*shape, dtype=_F32, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    return Tensor(
        np.zeros(_shape_arg(shape), dtype=dtype), dtype=dtype, requires_grad=requires_grad
    )


def ones(*shape, dtype=_F32, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    return Tensor(np.ones(_shape_arg(shape), dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def full(
    shape, fill_value, *, dtype=_F32, device=None, requires_grad: bool = False
) -> Tensor:
    check_device(device)
    return Tensor(
        np.full(_shape_arg((shape,)), fill_value, dtype=dtype),
        dtype=dtype,
        requires_grad=requires_grad,
    )


def zeros_like(t: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    dtype = dtype or t.dtype
    return Tensor(np.zeros(t.shape, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    dtype = dtype or t.dtype
    return Tensor(np.ones(t.shape, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype=_F32, device=None, requires_grad: bool = False
) -> Tensor:
    check_device(device)
    return Tensor(np.eye(n, m, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None) -> Tensor:
    check_device(device)
    arr = np.arange(start, end, step) if end is not None else np.arange(start)
    return Tensor(arr, dtype=dtype)


def linspace(start, end, steps: int, *, dtype=_F32, device=None) -> Tensor:
    check_device(device)
    return Tensor(np.linspace(start, end, steps, dtype=dtype), dtype=dtype)


def randn(
    *shape, generator=None, dtype=_F32, device=None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples from ``generator`` (seed, Generator, or numnet's default)."""
    check_device(device)
    gen = as_generator(generator)
    return Tensor(
        gen.standard_normal(_shape_arg(shape), dtype=dtype),
        dtype=dtype,
        requires_grad=requires_grad,
    )


def rand(
    *shape, generator=None, dtype=_F32, device=None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples on [0, 1) from ``generator``."""
    check_device(device)
    gen = as_generator(generator)
    return Tensor(
        gen.random(_shape_arg(shape), dtype=dtype), dtype=dtype, requires_grad=requires_grad
    )
