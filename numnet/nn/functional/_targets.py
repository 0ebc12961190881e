"""Class labels, class and element weights, ignored targets and weighted reductions:
the checks and bookkeeping of the classification losses."""

from __future__ import annotations

import numpy as np

from numnet import ops
from numnet.tensor import Tensor


def _class_targets(
    input: Tensor, target: Tensor, loss: str, ignore_index: int = -100
) -> tuple[np.ndarray, np.ndarray | None]:
    """The integer labels, checked, and the mask of those equal to ``ignore_index``
    (``None`` when there are none).

    Labels equal to ``ignore_index`` may lie outside ``[0, C)`` (the default -100 does).
    With the default and in-range labels, no pass beyond the min/max check is made.
    """
    labels = target.data
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise TypeError(
                f"{loss}: class labels must be integers, got non-integer values of dtype "
                f"{labels.dtype} (pass probability targets with the same shape as the input)"
            )
        raise TypeError(
            f"{loss}: class labels must have an integer dtype, got {labels.dtype} "
            "(use y.astype(np.int64) or Tensor(y).long())"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{loss}: class labels must be integers, got dtype {labels.dtype}")
    n_classes = input.shape[1]
    ignored = None
    if labels.size:
        if labels.min() < 0 or labels.max() >= n_classes:
            ignored = labels == ignore_index
            bad = ((labels < 0) | (labels >= n_classes)) & ~ignored
            if bad.any():
                raise ValueError(
                    f"{loss}: class label {labels[bad][0]} is out of range for {n_classes} "
                    f"classes (labels must lie in [0, {n_classes - 1}] or equal "
                    f"ignore_index={ignore_index})"
                )
        elif 0 <= ignore_index < n_classes:
            ignored = labels == ignore_index
        if ignored is not None and not ignored.any():
            ignored = None
    return labels, ignored


def _check_label_shape(loss: str, input: Tensor, target: Tensor, soft_ok: bool) -> None:
    """Class labels for input ``(N, C, d1, ..., dk)`` must have shape ``(N, d1, ..., dk)``."""
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        soft = f" or probabilities of shape {input.shape}" if soft_ok else ""
        raise ValueError(
            f"{loss}: target shape {target.shape} does not match input shape {input.shape} "
            f"(expected integer labels of shape {expected}{soft}; the class axis of the "
            "input is axis 1)"
        )


def _reduction_not_weight(weight, loss: str) -> None:
    """``loss(x, y, "sum")``: the third positional argument is ``weight``, as in PyTorch."""
    if isinstance(weight, str):
        raise TypeError(
            f"{loss}: the third positional argument is weight (PyTorch's order: "
            f"{loss}(input, target, weight=None, *, ...)); pass the reduction by keyword: "
            f"reduction={weight!r}"
        )


def _check_ignore_index(ignore_index, loss: str) -> int:
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(
        ignore_index, (int, np.integer)
    ):
        raise TypeError(f"{loss}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def _check_label_smoothing(label_smoothing, loss: str = "cross_entropy") -> float:
    if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(
        label_smoothing, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{loss}: label_smoothing must be a float, got {label_smoothing!r}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{loss}: label_smoothing must be in [0, 1], got {eps}")
    return eps


def _constant_array(value, loss: str, name: str = "weight", what: str = "") -> np.ndarray:
    """``value`` (Tensor or array-like) as a floating array (not yet cast).

    A Tensor that requires grad is refused, as PyTorch refuses it: the losses are not
    differentiable with respect to their weights (``what`` names them in the message).
    """
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(
                f"{loss}: {name} requires grad, but the loss is not differentiable with "
                f"respect to {what or name} (as in PyTorch); pass {name}.detach()"
            )
        arr = value.data
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{loss}: {name} must be a Tensor or array-like, got {type(value).__name__}"
            ) from exc
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{loss}: {name} must be floating point, got dtype {arr.dtype} "
            "(e.g. np.array([...], dtype=np.float32))"
        )
    return arr


def _as_weight_array(weight, loss: str) -> np.ndarray:
    """``weight`` (Tensor or array-like) as a 1-D floating array (not yet cast)."""
    arr = _constant_array(weight, loss, "weight", "the class weights")
    if arr.ndim != 1:
        raise ValueError(
            f"{loss}: weight must be 1-D with one entry per class, got shape {arr.shape}"
        )
    return arr


def _cast_like(arr: np.ndarray, given, input: Tensor, loss: str, name: str) -> np.ndarray:
    """``arr`` in the input's floating dtype: an array-like is cast; a Tensor (``given``)
    of another floating dtype is an error (numnet never converts Tensors silently)."""
    if input.dtype.kind == "f" and arr.dtype != input.dtype:
        if isinstance(given, Tensor):
            raise TypeError(
                f"{loss}: {name} has dtype {arr.dtype} but input has dtype {input.dtype}; "
                "convert explicitly with .float() or .double()"
            )
        arr = arr.astype(input.dtype)
    return arr


def _class_weight(weight, input: Tensor, n_classes: int, loss: str) -> np.ndarray | None:
    """Per-class weights as an array of shape ``(C,)`` in the input's floating dtype.

    An array-like is cast to that dtype; a Tensor of another floating dtype is an
    error (numnet never converts Tensors silently). Negative and zero weights are
    allowed, as in PyTorch.
    """
    if weight is None:
        return None
    arr = _as_weight_array(weight, loss)
    if arr.shape != (n_classes,):
        raise ValueError(
            f"{loss}: weight has shape {arr.shape}, expected ({n_classes},): one weight per "
            f"class for input of shape {input.shape}"
        )
    return _cast_like(arr, weight, input, loss, "weight")


def _elementwise_weight(
    value, input: Tensor, loss: str, name: str = "weight"
) -> np.ndarray | None:
    """A weight of the binary losses (``weight``, ``pos_weight``) as an array in the
    input's floating dtype whose shape broadcasts to the input's shape (NumPy's rules,
    aligned at the last axis; it may not enlarge the result, as in PyTorch).
    Negative and zero weights are allowed."""
    if value is None:
        return None
    arr = _constant_array(value, loss, name)
    try:
        fits = np.broadcast_shapes(arr.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        hint = (
            f"; one weight per class of the last axis is shape ({input.shape[-1]},)"
            if input.ndim else ""
        )
        raise ValueError(
            f"{loss}: {name} of shape {arr.shape} does not broadcast to the input's shape "
            f"{input.shape} (NumPy's broadcasting, aligned at the last axis{hint})"
        )
    return _cast_like(arr, value, input, loss, name)


def _fill_ignored(labels: np.ndarray, ignored: np.ndarray, data: np.ndarray) -> np.ndarray:
    """``labels`` with each ignored entry replaced by the arg-max class of its scores.

    Any valid class would do (the entry's loss is discarded, see :func:`_zero_ignored`);
    the arg-max keeps the gather's gradient finite when other scores are ``-inf``.
    """
    labels = labels.copy()
    labels[ignored] = np.moveaxis(data, 1, -1)[ignored].argmax(axis=-1)
    return labels


def _zero_ignored(losses: Tensor, ignored: np.ndarray | None) -> Tensor:
    """``losses`` with the ignored entries set to exactly 0 (PyTorch skips them).

    Multiplying by ``s_n = 0`` is not enough: the loss of an ignored row whose scores
    hold NaN or +inf (or -inf, with label smoothing) is NaN, and ``0 · NaN`` is NaN.
    The gradient of those rows stays what PyTorch gives (0, or NaN for NaN/+inf rows).
    """
    if ignored is None:
        return losses
    return ops.where(Tensor._wrap(~ignored), losses, 0.0)


def _label_scales(labels, ignored, weight, dtype) -> np.ndarray:
    """``s_n = w_{y_n}`` (1 without weights), 0 for ignored targets."""
    s = weight[labels] if weight is not None else np.ones(labels.shape, dtype)
    if ignored is not None:
        s[ignored] = 0
    return s


def _weighted_reduce(losses: Tensor, scales: np.ndarray, reduction: str) -> Tensor:
    """'none' / 'sum' / PyTorch's weighted mean ``Σ_n s_n ℓ_n / Σ_n s_n`` of scaled losses.

    When ``Σ s_n = 0`` (every target ignored, or zero weights) the mean is NaN as in
    PyTorch (±inf if weights of both signs cancel), with a zero gradient and without
    NumPy's division warning. It is NaN even when label smoothing makes the numerator
    non-zero: PyTorch adds the smoothing term to an NLL mean of ``0 / 0``.
    """
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    denom = scales.sum()
    if denom == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(total.data / denom) if scales.any() else float("nan")
        return total * 0.0 + value
    return total / denom
