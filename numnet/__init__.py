"""numnet: neural networks from first principles, in NumPy.

The engine (:class:`Tensor`, ``backward``, ``no_grad``), layers (:mod:`numnet.nn`),
optimizers (:mod:`numnet.optim`) and more, with PyTorch's names.
"""

import numpy as np

from numnet import ops as _ops
from numnet._device import device
from numnet._memory import empty_cache
from numnet.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from numnet.creation import (
    arange,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from numnet.ops import (  # the functional forms, under torch's names
    abs,
    exp,
    flatten,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    minimum,
    permute,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    tanh,
)
from numnet.parallel import get_num_threads, set_num_threads
from numnet.random import manual_seed
from numnet.tensor import Tensor, bool_, float32, float64, int64

__version__ = "0.1.0"


def clamp(input, min=None, max=None):  # noqa: A002
    """Clip ``input`` to ``[min, max]`` (``torch.clamp``)."""
    return _ops.clamp(input, min=min, max=max)


clip = clamp


def argmax(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Indices of the largest values (``torch.argmax``), an int64 Tensor.

    Parameters
    ----------
    input : Tensor or array_like
    dim : int, optional
        Axis to reduce; ``None`` gives the index into the flattened input (a 0-d tensor).
    keepdim : bool
        Keep ``dim`` as an axis of size 1.

    Raises
    ------
    ValueError
        If ``input`` is empty.
    """
    return _ops.argmax(input, dim=dim, keepdim=keepdim)


def argmin(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Indices of the smallest values (``torch.argmin``), an int64 Tensor; see :func:`argmax`."""
    return _ops.argmin(input, dim=dim, keepdim=keepdim)


def max(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """``torch.max``: the largest value, per-``dim`` ``(values, indices)``, or ``maximum``.

    ``max(input)``: a 0-d Tensor whose gradient is shared equally by tied maxima;
    ``max(input, dim, keepdim=False)``: a ``(values, indices)`` pair (see
    :meth:`Tensor.max`); ``max(input, other)`` with a Tensor or array ``other``: the
    element-wise :func:`maximum`, as in PyTorch.

    Raises
    ------
    ValueError
        If ``input`` is empty (PyTorch: ``RuntimeError``).
    """
    if isinstance(dim, (Tensor, np.ndarray)):
        return _ops.maximum(input, dim)
    return (input if isinstance(input, Tensor) else Tensor(input)).max(dim=dim, keepdim=keepdim)


def min(input, dim=None, keepdim: bool = False):  # noqa: A001, A002
    """``torch.min``: the smallest value, per-``dim`` ``(values, indices)``, or
    ``minimum``; see :func:`max`."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return _ops.minimum(input, dim)
    return (input if isinstance(input, Tensor) else Tensor(input)).min(dim=dim, keepdim=keepdim)


def amax(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """The largest values along ``dim`` (all by default), ``torch.amax``: the gradient
    is ``δy`` times the mask of the maxima, divided among ties."""
    return _ops.amax(input, dim=dim, keepdim=keepdim)


def amin(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """The smallest values along ``dim``, ``torch.amin``; see :func:`amax`."""
    return _ops.amin(input, dim=dim, keepdim=keepdim)


def where(condition, input, other):
    """``input`` where ``condition`` else ``other`` (``torch.where``)."""
    return _ops.where(condition, input, other)


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate a sequence of tensors along ``dim`` (``torch.cat``)."""
    return _ops.cat(*tensors, dim=dim)


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack a sequence of same-shape tensors along a new axis ``dim`` (``torch.stack``)."""
    return _ops.stack(*tensors, dim=dim)


def sum(x, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _ops.sum(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim: bool = False) -> Tensor:
    return _ops.mean(x, dim=dim, keepdim=keepdim)


def transpose(x, dim0: int, dim1: int) -> Tensor:
    return x.transpose(dim0, dim1)


__all__ = [
    "Tensor",
    "abs",
    "arange",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cat",
    "clamp",
    "clip",
    "concatenate",
    "device",
    "empty_cache",
    "enable_grad",
    "exp",
    "eye",
    "flatten",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "int64",
    "bool_",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "linspace",
    "log",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "set_num_threads",
    "get_num_threads",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "no_grad",
    "ones",
    "ones_like",
    "permute",
    "rand",
    "randn",
    "relu",
    "reshape",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "where",
    "zeros",
    "zeros_like",
]

# Like `import torch`, `import numnet` makes numnet.nn and numnet.optim available.
from numnet import nn, optim  # noqa: E402

__all__ += ["nn", "optim"]

# The other public subpackages load on first use (PEP 562), so `import numnet` stays
# fast and `numnet.data.spirals(...)`, `numnet.io.save(...)` work without an import.
_LAZY_MODULES = (
    "autoencoder",
    "classic",
    "data",
    "deep_linear",
    "experiments",
    "io",
    "models",
    "sklearn",
    "testing",
    "train",
    "utils",
    "viz",
)
_LAZY_FUNCTIONS = {
    "save": ("io", "save"),
    "load": ("io", "load"),
    "summary": ("utils.model_summary", "summary"),
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        module = importlib.import_module(f"numnet.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_FUNCTIONS:
        mod, attr = _LAZY_FUNCTIONS[name]
        value = getattr(importlib.import_module(f"numnet.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'numnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_FUNCTIONS))


__all__ += ["save", "load", "summary"]
