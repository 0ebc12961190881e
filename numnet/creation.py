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
    """A new tensor holding a copy of ``data`` (``torch.tensor``).

    Parameters
    ----------
    data : array-like or Tensor
        Nested lists, scalars, NumPy arrays or a Tensor (copied, never shared).
    dtype : NumPy dtype or numnet dtype, optional
        The result's dtype. Default: inferred, see Notes.
    device : None, 'cpu' or a CPU device
        numnet runs on the CPU only.
    requires_grad : bool
        Record operations on the result for autograd (floating dtypes only).

    Returns
    -------
    Tensor
        ``data``'s shape.

    Raises
    ------
    TypeError
        If ``data`` holds strings or objects, or ``requires_grad`` is true for an
        integer or boolean result.
    RuntimeError
        If ``device`` is not the CPU.

    Notes
    -----
    **Differs from PyTorch on purpose:** without ``dtype``, numnet keeps three dtype
    families only: every floating input becomes **float32** (PyTorch keeps a NumPy
    float64 array float64), every integer input **int64** (PyTorch keeps int32,
    uint8...), booleans stay bool. Data loaded with NumPy (``np.random.rand``,
    ``np.loadtxt``) is float64 and float32 is what numnet trains in, so a model built by
    default never meets float64 inputs by accident. Pass ``dtype=numnet.float64`` (or use
    :func:`from_numpy`, which keeps the array's dtype and memory) for float64. Python
    floats become float32 and Python ints int64, as in PyTorch.
    """
    check_device(device)
    src = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(src, dtype=dtype, copy=True), dtype=dtype, requires_grad=requires_grad)


def from_numpy(array: np.ndarray, *, requires_grad: bool = False) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype (``torch.from_numpy``).

    Parameters
    ----------
    array : numpy.ndarray
        Any shape; float64 stays float64, int32 stays int32. Writes through either
        object are seen by the other.
    requires_grad : bool
        Record operations on the result for autograd (floating dtypes only).

    Raises
    ------
    TypeError
        If ``array`` is not a NumPy array, or ``requires_grad`` is true for a
        non-floating dtype.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor(array, dtype=array.dtype, requires_grad=requires_grad)


def zeros(*shape, dtype=_F32, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (``torch.zeros``): ``shape`` as ints or one tuple; float32 by
    default. Raises RuntimeError for a non-CPU ``device``, TypeError for
    ``requires_grad`` with a non-floating ``dtype``."""
    check_device(device)
    return Tensor(
        np.zeros(_shape_arg(shape), dtype=dtype), dtype=dtype, requires_grad=requires_grad
    )


def ones(*shape, dtype=_F32, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (``torch.ones``): ``shape`` as ints or one tuple; float32 by
    default. Raises as :func:`zeros`."""
    check_device(device)
    return Tensor(np.ones(_shape_arg(shape), dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def full(
    shape, fill_value, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (``torch.full``).

    Parameters
    ----------
    shape : int or tuple of int
    fill_value : bool, int or float
    dtype : dtype, optional
        Default, as in PyTorch, inferred from ``fill_value``: bool for a bool, int64 for
        an int, float32 for a float.
    device : None, 'cpu' or a CPU device
    requires_grad : bool
        Floating dtypes only.

    Raises
    ------
    TypeError
        If no ``dtype`` is given and ``fill_value`` is not a bool or a real number, or
        ``requires_grad`` is true for a non-floating dtype.
    RuntimeError
        If ``device`` is not the CPU.
    """
    check_device(device)
    if dtype is None:
        dtype = _scalar_dtype(fill_value, "full")
    return Tensor(
        np.full(_shape_arg((shape,)), fill_value, dtype=dtype),
        dtype=dtype,
        requires_grad=requires_grad,
    )


def _scalar_dtype(value, what: str):
    """PyTorch's inference for a Python scalar: bool, int64 or the default float32."""
    if isinstance(value, (bool, np.bool_)):
        return np.bool_
    if isinstance(value, (int, np.integer)):
        return np.int64
    if isinstance(value, (float, np.floating)):
        return _F32
    if isinstance(value, Tensor) and value.ndim == 0:
        return value.dtype
    raise TypeError(
        f"{what}: fill_value must be a bool, int or float, got {type(value).__name__}"
    )


def zeros_like(t: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (unless ``dtype``) dtype (``torch.zeros_like``)."""
    check_device(device)
    dtype = dtype or t.dtype
    return Tensor(np.zeros(t.shape, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (unless ``dtype``) dtype (``torch.ones_like``)."""
    check_device(device)
    dtype = dtype or t.dtype
    return Tensor(np.ones(t.shape, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype=_F32, device=None, requires_grad: bool = False
) -> Tensor:
    """The ``(n, m)`` identity (``m = n`` by default), float32 unless ``dtype``
    (``torch.eye``)."""
    check_device(device)
    return Tensor(np.eye(n, m, dtype=dtype), dtype=dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None) -> Tensor:
    """``[start, end)`` by ``step``, or ``[0, start)`` with one argument (``torch.arange``).

    dtype: int64 if every bound is an int, else float32 (as PyTorch), unless ``dtype``.
    Like NumPy and PyTorch, a float ``step`` may give one element more or less than
    ``(end - start) / step`` suggests through rounding: :func:`linspace` fixes the count.
    """
    check_device(device)
    arr = np.arange(start, end, step) if end is not None else np.arange(start)
    return Tensor(arr, dtype=dtype)


def linspace(start, end, steps: int, *, dtype=_F32, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, float32 unless
    ``dtype`` (``torch.linspace``)."""
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
