"""Gradient clipping (``torch.nn.utils.clip_grad_norm_``, ``clip_grad_value_``).

Deep networks can have exploding gradients (seed 000: with ``L = 20`` layers, a slope
of 2 per layer multiplies the first layer's gradient by ``2^20 ≈ 10^6``). Clipping
rescales the gradients before the optimizer step:

* :func:`clip_grad_norm_` scales all of them by one factor
  ``min(1, max_norm / (‖g‖ + 1e-6))``, where ``‖g‖`` is the ``norm_type``-norm of all
  gradients together (the norm of the per-parameter norms), so the direction of the
  step is kept and its length is at most ``max_norm``;
* :func:`clip_grad_value_` clips every gradient entry to ``[-clip_value, clip_value]``.

Both write into ``.grad`` (in place, as PyTorch's do): the parameters' data, and so
their version counters, are not touched.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from numnet.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

_EPS = 1e-6  # PyTorch's: clip_coef = max_norm / (total_norm + 1e-6)


def _as_list(parameters, *, warn_empty_generator: bool = False) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if warn_empty_generator and is_generator and not parameters:
        warnings.warn(
            "`parameters` is an empty generator, no gradient clipping will occur.",
            stacklevel=3,
        )
    return parameters


def _grad_array(g) -> np.ndarray:
    return g.data if isinstance(g, Tensor) else np.asarray(g)


def _vector_norm(a: np.ndarray, p: float) -> float:
    """``torch.linalg.vector_norm(a, p)`` of the flattened array, in float64."""
    x = np.abs(a.ravel()).astype(np.float64, copy=False)
    if x.size == 0:
        return 0.0
    if p == math.inf:
        return float(x.max())
    if p == -math.inf:
        return float(x.min())
    if p == 0:
        return float(np.count_nonzero(x))
    if p == 2:
        return float(np.sqrt(np.dot(x, x)))
    if p == 1:
        return float(x.sum())
    return float(np.sum(x**p) ** (1.0 / p))


def get_total_norm(
    tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """The ``norm_type``-norm of a collection of arrays, taken together (``torch.nn.utils``).

    Parameters
    ----------
    tensors : Tensor, ndarray or iterable of them
        Typically the gradients ``[p.grad for p in params if p.grad is not None]``.
    norm_type : float or str
        ``p`` of the p-norm; ``inf`` (or ``'inf'``) for the largest absolute value.
    error_if_nonfinite : bool
        Raise if the total norm is NaN or infinite.
    foreach : None
        Accepted for PyTorch compatibility; ignored.

    Returns
    -------
    Tensor
        0-d, the norm of the vector of per-array norms (equal to the norm of all
        entries concatenated), in the dtype of the arrays (``float32`` if there are
        none, when the value is 0).

    Raises
    ------
    RuntimeError
        If ``error_if_nonfinite`` and the norm is NaN or infinite.
    """
    arrays = [_grad_array(t) for t in _as_list(tensors) if t is not None]
    p = float(norm_type)
    if not arrays:
        return Tensor._wrap(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*(a.dtype for a in arrays))
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)
    norms = np.array([_vector_norm(a, p) for a in arrays])
    total = np.asarray(_vector_norm(norms, p), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so "
            "it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))``, in place.

    The second half of :func:`clip_grad_norm_`, for a ``total_norm`` computed
    beforehand (e.g. by :func:`get_total_norm`); ``torch.nn.utils.clip_grads_with_norm_``.
    """
    params = _as_list(parameters)
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return
    total = np.asarray(_grad_array(total_norm))
    dtype = total.dtype if total.dtype.kind == "f" else np.dtype(np.float32)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # torch evaluates ``max_norm / t`` as ``t.reciprocal() * max_norm``: the same
        # roundings give bit-identical gradients
        coef = np.reciprocal(total.astype(dtype) + dtype.type(_EPS)) * dtype.type(max_norm)
        coef = np.minimum(coef, dtype.type(1.0))  # NaN stays NaN, as torch.clamp
        for p in grads:
            g = p.grad
            if isinstance(g, np.ndarray) and g.flags.writeable:
                np.multiply(g, coef, out=g, casting="unsafe")
            else:
                p.grad = np.asarray(np.asarray(g) * coef, dtype=np.asarray(g).dtype)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``.

    ``torch.nn.utils.clip_grad_norm_``: the norm ``‖g‖`` of all gradients together is
    computed, and every ``.grad`` is multiplied, in place, by
    ``min(1, max_norm / (‖g‖ + 1e-6))``. Parameters whose ``.grad`` is ``None`` are
    skipped. Only ``.grad`` is written: parameter data and versions do not change.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        E.g. ``model.parameters()``.
    max_norm : float
        Largest allowed total norm.
    norm_type : float or str
        ``p`` of the p-norm (2 by default); ``inf`` or ``'inf'`` for the largest
        absolute gradient entry.
    error_if_nonfinite : bool
        Raise ``RuntimeError`` when the total norm is NaN or infinite (otherwise the
        gradients are scaled by the non-finite factor, as in PyTorch).
    foreach : None
        Accepted for PyTorch compatibility; ignored.

    Returns
    -------
    Tensor
        The total norm *before* clipping, 0-d, in the gradients' dtype (float32).

    Raises
    ------
    RuntimeError
        If ``error_if_nonfinite`` and the total norm is NaN or infinite.

    Examples
    --------
    >>> loss.backward()
    >>> norm = numnet.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> optimizer.step()
    """
    params = _as_list(parameters, warn_empty_generator=True)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]``, in place.

    ``torch.nn.utils.clip_grad_value_``: parameters whose ``.grad`` is ``None`` are
    skipped; only ``.grad`` is written (no version bump).

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
    clip_value : float
        Bound of the absolute value of each gradient entry.
    foreach : None
        Accepted for PyTorch compatibility; ignored.
    """
    v = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        if isinstance(g, np.ndarray) and g.flags.writeable:
            np.clip(g, -v, v, out=g)
        else:
            p.grad = np.asarray(np.clip(np.asarray(g), -v, v), dtype=np.asarray(g).dtype)
