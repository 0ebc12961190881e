"""Argument checks shared by the functional API: tensors, reductions, dtypes, shapes."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, name: str, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a float array-like takes the float dtype of ``like``."""
    if isinstance(x, Tensor):
        return x
    try:
        arr = np.asarray(x)
        if like is not None and like.dtype.kind == "f" and arr.dtype.kind == "f":
            return Tensor(arr, dtype=like.dtype)
        return Tensor(arr)
    except TypeError as exc:
        raise TypeError(f"{name} must be a Tensor or array-like, got {type(x).__name__}") from exc


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _floating(loss: str, *tensors: Tensor) -> None:
    """Losses (and dropout) are defined for floating-point tensors only, as in PyTorch:
    when none of ``tensors`` is floating (integer or bool data), raise ``TypeError``
    (the rule of :mod:`numnet.autograd.registry`, ``int_rule="raise"``)."""
    if not any(t.dtype.kind == "f" for t in tensors):
        raise TypeError(
            f"{loss}(): input of dtype {tensors[0].dtype} is not supported (PyTorch refuses "
            "it too); it is defined for floating-point tensors only: convert with .float()"
        )


def _same_shape(loss: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{loss}: input shape {input.shape} and target shape {target.shape} differ "
            "(they must match exactly; reshape one of them)"
        )


def _check_inplace(inplace, name: str) -> None:
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{name}: inplace must be a bool, got {inplace!r}")
