"""``numnet.nn.functional``: activations, losses and dropout with PyTorch's names.

Heavy lifting happens in the fused primitives of :mod:`numnet.ops`; this module
validates inputs (shapes, label ranges, reductions) and composes the rest.

Shapes: batches are rows, ``(N, D)``; classification logits are ``(N, C)`` (or
``(N, C, d1, ...)``, class axis 1), class labels ``(N,)`` (or ``(N, d1, ...)``) integers
in ``[0, C)``.
"""

from __future__ import annotations

import numpy as np

from numnet import ops
from numnet.parallel import dropout_mask
from numnet.random import as_generator
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


# -- layers ----------------------------------------------------------------------------
def linear(input, weight, bias=None) -> Tensor:
    """``y = x Wᵀ + b`` with ``weight`` of shape ``(out, in)`` (seed 000's ``W_k``).

    See :func:`numnet.ops.linear` for the VJP (``δW = δsᵀ x``, ``δb = Σ δs``,
    ``δx = δs W``).
    """
    if bias is None:
        return ops.linear(input, weight)
    return ops.linear(input, weight, bias)


# -- activations -----------------------------------------------------------------------
sigmoid = ops.sigmoid
tanh = ops.tanh


def _check_inplace(inplace, name: str) -> None:
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{name}: inplace must be a bool, got {inplace!r}")


def relu(input, inplace: bool = False) -> Tensor:
    """``max(0, z)``; derivative ``1{z > 0}`` (0 at z = 0).

    ``inplace`` is accepted so that PyTorch code (``F.relu(x, inplace=True)``) runs
    unchanged, but numnet never overwrites its input: the result is a new tensor either
    way and the values and gradients are the same. (Without PyTorch's version counters
    an in-place ReLU could silently corrupt the gradient of an op that saved the
    input, e.g. a sigmoid's output.) Large outputs come from recycled memory anyway.
    """
    _check_inplace(inplace, "relu")
    return ops.relu(input)
softplus = ops.softplus
arctan = ops.arctan


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``max(z, 0) + negative_slope · min(z, 0)``; derivative 1 or ``negative_slope``.

    ``inplace`` is accepted for PyTorch compatibility; numnet computes out of place (see
    :func:`relu`)."""
    _check_inplace(inplace, "leaky_relu")
    return ops.leaky_relu(input, negative_slope=float(negative_slope))


def heaviside(input, *, straight_through: bool = False) -> Tensor:
    """Threshold unit ``1{z ≥ 0}`` (McCulloch & Pitts, seed 002).

    Its derivative is 0 almost everywhere (and undefined at 0), so by default the
    result is cut from the graph: no gradient flows through it. With
    ``straight_through=True`` the backward pass uses the identity instead (the
    straight-through estimator), which lets a network of step units be trained.
    """
    if straight_through:
        return ops.straight_through_heaviside(input)
    return ops.heaviside_step(input)


def sign(input, *, straight_through: bool = False) -> Tensor:
    """``sign(z)`` with ``sign(0) = +1`` (the perceptron's output, seed 002).

    Forward only by default (zero gradient almost everywhere). With
    ``straight_through=True`` the gradient is that of ``hardtanh``:
    ``δz = δy ⊙ 1{|z| ≤ 1}``.
    """
    if straight_through:
        return ops.straight_through_sign(input)
    return ops.sign_step(input)


def softmax(input, dim: int = -1) -> Tensor:
    """``e^{z_i} / Σ_j e^{z_j}`` via the stable ``exp(log_softmax(z))``."""
    return ops.softmax(input, dim=dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    """``z_i - log Σ_j e^{z_j}`` with the log-sum-exp trick (fused primitive)."""
    return ops.log_softmax(input, dim=dim)


# -- losses -------------------------------------------------------------------------------
def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Squared error ``(x - y)²``, averaged (``'mean'``), summed or per element."""
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape("mse_loss", input, target)
    _floating("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy(input, target, weight=None, *, reduction: str = "mean") -> Tensor:
    """``ℓ = -w [y log p + (1 - y) log(1 - p)]`` for probabilities ``p`` (fused primitive).

    PyTorch's positional order: ``binary_cross_entropy(input, target, weight)``; the
    reduction is keyword-only (PyTorch's deprecated ``size_average`` and ``reduce`` are
    not accepted).

    Parameters
    ----------
    input : probabilities ``p`` in [0, 1], any shape
    target : ``y`` of the same shape (soft targets in [0, 1] allowed; differentiable)
    weight : floating array or Tensor, optional
        Rescaling ``w`` of each element's loss, broadcast to the input's shape (NumPy's
        rules: e.g. ``(C,)`` or ``(N, 1)`` for input ``(N, C)``); not differentiated. An
        array is cast to the input's dtype; a Tensor must already have it.
    reduction : 'mean' | 'sum' | 'none', keyword-only
        'mean' averages the weighted losses over all elements (it does not divide by
        ``Σ w``, as in PyTorch).

    As in PyTorch, each log is clamped at -100, so ``p = 0`` or ``1`` gives a large
    finite loss (never ``log(0)``), and the gradient ``(p - y) / max(p(1 - p), 1e-12)``
    stays finite. Prefer :func:`binary_cross_entropy_with_logits`, which is exact and
    stable. Without weight the single fused primitive runs, with no extra pass.
    """
    _reduction_not_weight(weight, "binary_cross_entropy")
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape("binary_cross_entropy", input, target)
    _floating("binary_cross_entropy", input, target)
    weight = _elementwise_weight(weight, input, "binary_cross_entropy")
    p = input.data
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]")
    losses = ops.binary_cross_entropy_probs(input, target)
    return _reduce(losses if weight is None else losses * weight, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, *, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """Logistic loss from logits ``z``: ``-w [p_w y log σ(z) + (1 - y) log(1 - σ(z))]``.

    PyTorch's positional order: ``binary_cross_entropy_with_logits(input, target,
    weight)``; ``reduction`` and ``pos_weight`` are keyword-only.

    Parameters
    ----------
    input : logits ``z``, any shape
    target : ``y`` of the same shape (soft targets in [0, 1] allowed; differentiable)
    weight : floating array or Tensor, optional
        Rescaling ``w`` of each element's loss, broadcast to the input's shape (NumPy's
        rules); not differentiated. Arrays are cast to the input's dtype; a Tensor must
        already have it.
    reduction : 'mean' | 'sum' | 'none', keyword-only
        'mean' averages the weighted losses over all elements.
    pos_weight : floating array or Tensor, optional, keyword-only
        Weight ``p_w`` of the positive term, broadcast to the input's shape from the
        last axis (the class axis for (N, C) multi-label logits: shape ``(C,)``; use
        ``(C, 1, 1)`` for (N, C, H, W)); not differentiated. ``p_w > 1`` raises recall,
        ``p_w < 1`` precision.

    Without ``pos_weight`` the fused primitive computes
    ``max(z, 0) - z y + log(1 + e^{-|z|})``, which never overflows (seed 002's
    ``log(1 + e^{-ỹ z})`` for labels ``ỹ = 2y - 1 ∈ {±1}``), with ``δz = σ(z) - y``.
    With it, the loss is ``p_w y softplus(-z) + (1 - y) softplus(z)`` (``-log σ(z) =
    softplus(-z)``), each softplus in the same stable form, so both terms are exact
    (no cancellation) for logits of any magnitude; ``δz = (1 - y) σ(z) - p_w y σ(-z)``
    and ``δy = p_w softplus(-z) - softplus(z)``. Without weight and pos_weight the
    single fused primitive runs, with no extra pass.
    """
    loss = "binary_cross_entropy_with_logits"
    _reduction_not_weight(weight, loss)
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape(loss, input, target)
    _floating(loss, input, target)
    if target.dtype.kind != "f":
        target = Tensor(target.data, dtype=input.dtype)
    if weight is None and pos_weight is None:
        return _reduce(ops.binary_cross_entropy_logits(input, target), reduction)
    weight = _elementwise_weight(weight, input, loss)
    pos_weight = _elementwise_weight(pos_weight, input, loss, "pos_weight")
    if pos_weight is None:
        losses = ops.binary_cross_entropy_logits(input, target)
    else:
        losses = (target * pos_weight) * ops.softplus(-input) + (1 - target) * ops.softplus(input)
    return _reduce(losses if weight is None else losses * weight, reduction)


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


def _class_cross_entropy(z: Tensor, labels, ignored, weight, eps: float, reduction: str):
    """Cross-entropy of (M, C) logits with weights, ignored targets or label smoothing.

    Without smoothing: the fused per-sample loss times ``s_n = w_{y_n}`` (0 if ignored).
    With smoothing ε, PyTorch's ``(1 - ε) ℓ_nll + (ε / C) Σ_c w_c (-log p_nc)`` (ignored
    targets contribute 0) is ``-Σ_c t_nc log p_nc`` for the target distribution
    ``t_nc = (1 - ε) s_n 1{c = y_n} + (ε / C) w_c`` (0 for ignored rows), which the
    fused soft-target primitive computes stably in one pass. The mean divides by
    ``Σ_n s_n`` in both cases, as PyTorch does.
    """
    if ignored is not None:
        labels = _fill_ignored(labels, ignored, z.data)
    s = _label_scales(labels, ignored, weight, z.dtype)
    if eps == 0:
        # (a copy: writes to the target after the forward cannot change the gradient)
        losses = ops.cross_entropy_logits(z, Tensor._wrap(labels.copy()), reduction="none") * s
    else:
        t = np.empty(z.shape, z.dtype)
        t[...] = eps / z.shape[1] if weight is None else (eps / z.shape[1]) * weight
        if ignored is not None:
            t[ignored] = 0
        t[np.arange(labels.shape[0]), labels] += (1 - eps) * s
        losses = ops.cross_entropy_soft(z, Tensor._wrap(t), reduction="none")
    return _weighted_reduce(_zero_ignored(losses, ignored), s, reduction)


def cross_entropy(
    input,
    target,
    weight=None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy from logits (fused, log-sum-exp stable for |z| ~ 1e4).

    PyTorch's positional order: ``cross_entropy(input, target, weight)``; the other
    options are keyword-only (PyTorch's deprecated ``size_average`` and ``reduce`` are
    not accepted).

    Parameters
    ----------
    input : (N, C) or (N, C, d1, ..., dk) logits (or (C,) for one sample); the class
        axis is axis 1, as in PyTorch
    target : integer labels in [0, C) of shape (N,) or (N, d1, ..., dk) (() for one
        sample), or probabilities of the same shape as input
    weight : (C,) floating array or Tensor, optional
        Per-class rescaling ``w_c`` (not differentiated). An array is cast to the
        input's dtype; a Tensor must already have it. Negative weights are allowed.
    ignore_index : int, keyword-only
        Class-label targets equal to it contribute nothing, to the loss or to the
        mean's denominator (their 'none' loss is 0). It may lie outside [0, C); the
        default is -100. With probability targets it must be negative (PyTorch).
    reduction : 'mean' | 'sum' | 'none', keyword-only
        'mean' is ``Σ_n w_{y_n} ℓ_n / Σ_n w_{y_n}`` over the non-ignored targets (the
        plain average without weights; NaN if there are none, with a zero gradient);
        'none' returns the weighted losses with shape (N, d1, ..., dk). With
        probability targets 'mean' divides by N·d1·…·dk.
    label_smoothing : float in [0, 1], keyword-only
        ε: the target becomes ``(1 - ε) onehot(y) + ε / C``; PyTorch's formula
        ``(1 - ε) ℓ + (ε / C) Σ_c w_c (-log softmax(z)_c)``, averaged with the same
        denominator ``Σ w_{y_n}``. Probability targets become ``(1 - ε) t + ε / C``.

    Math: ``ℓ_n = w_{y_n} (log Σ_j e^{z_nj} - z_{n y_n})``;
    ``δz_n = w_{y_n} (softmax(z_n) - onehot(y_n))``.
    The (N, C, d1, ..., dk) case moves the class axis last and flattens to
    (N·d1·…·dk, C), then uses the same fused primitives. Without weight, smoothing or
    ignored targets the single fused primitive runs, with no extra pass.
    """
    _reduction_not_weight(weight, "cross_entropy")
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    ignore_index = _check_ignore_index(ignore_index, "cross_entropy")
    eps = _check_label_smoothing(label_smoothing)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got {input.dtype}")
    if input.ndim < 1:
        raise ValueError("cross_entropy: input must have a class dimension")
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    weight = _class_weight(weight, input, n_classes, "cross_entropy")
    options = {"ignore_index": ignore_index, "label_smoothing": eps}
    if input.ndim == 1:  # one sample
        if target.shape != () and not (target.shape == input.shape and target.dtype.kind == "f"):
            raise ValueError(
                f"cross_entropy: target shape {target.shape} does not match input shape "
                f"{input.shape} (expected an integer label of shape () or probabilities of "
                f"shape {input.shape})"
            )
        out = cross_entropy(
            input.reshape(1, -1), target.reshape(1, *target.shape), weight,
            reduction=reduction, **options,
        )
        return out.reshape(()) if reduction == "none" else out
    soft = target.shape == input.shape and target.dtype.kind == "f"
    if not soft:
        _check_label_shape("cross_entropy", input, target, soft_ok=True)
    if input.ndim > 2:  # (N, C, d1, ...) -> (N·d1·..., C)
        perm = (0, *range(2, input.ndim), 1)
        flat = input.permute(*perm).reshape(-1, n_classes)
        flat_t = target.permute(*perm).reshape(-1, n_classes) if soft else target.reshape(-1)
        if reduction != "none":
            return cross_entropy(flat, flat_t, weight, reduction=reduction, **options)
        out = cross_entropy(flat, flat_t, weight, reduction="none", **options)
        return out.reshape(target.shape[:1] + input.shape[2:])
    if soft:
        if ignore_index >= 0:
            raise ValueError(
                f"cross_entropy: ignore_index={ignore_index} is not supported for "
                "probability targets (it must be negative, e.g. the default -100)"
            )
        if not np.all(np.isfinite(target.data)):
            raise ValueError("cross_entropy: probability targets contain NaN or inf")
        if eps:
            target = target * (1 - eps) + eps / n_classes
        if weight is not None:
            target = target * weight
        return ops.cross_entropy_soft(input, target, reduction=reduction)
    labels, ignored = _class_targets(input, target, "cross_entropy", ignore_index)
    labels = labels.astype(np.int64, copy=False)
    if weight is None and ignored is None and not eps:
        # (a copy: writes to the target after the forward cannot change the gradient)
        return ops.cross_entropy_logits(input, Tensor._wrap(labels.copy()), reduction=reduction)
    return _class_cross_entropy(input, labels, ignored, weight, eps, reduction)


def nll_loss(
    input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood ``ℓ = -w_{y} input[n, y, d1, ..., dk]`` of log-probabilities
    (``y = target[n, d1, ..., dk]``).

    PyTorch's positional order: ``nll_loss(input, target, weight)``; the other options
    are keyword-only.

    Parameters
    ----------
    input : (N, C) or (N, C, d1, ..., dk) log-probabilities (or (C,) for one sample);
        the class axis is axis 1, as in PyTorch
    target : integer labels in [0, C) of shape (N,) or (N, d1, ..., dk) (() for one sample)
    weight : (C,) floating array or Tensor, optional
        Per-class rescaling (see :func:`cross_entropy`).
    ignore_index : int, keyword-only
        Targets equal to it contribute nothing (default -100; may lie outside [0, C)).
    reduction : 'mean' | 'sum' | 'none', keyword-only
        'mean' is ``Σ_n w_{y_n} ℓ_n / Σ_n w_{y_n}`` over the non-ignored targets (NaN if
        there are none); 'none' returns the weighted losses with shape (N, d1, ..., dk).

    The entries are picked in one gather (no loop over samples); the gradient is
    ``-w_{y} δℓ`` at the picked entries and 0 elsewhere.
    """
    _reduction_not_weight(weight, "nll_loss")
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    ignore_index = _check_ignore_index(ignore_index, "nll_loss")
    if input.ndim < 1:
        raise ValueError("nll_loss: input must have a class dimension")
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    _floating("nll_loss", input)
    weight = _class_weight(weight, input, n_classes, "nll_loss")
    if input.ndim == 1:  # one sample
        if target.shape != ():
            raise ValueError(
                f"nll_loss: target shape {target.shape} does not match input shape "
                f"{input.shape} (expected an integer label of shape ())"
            )
        out = nll_loss(
            input.reshape(1, -1), target.reshape(1), weight,
            ignore_index=ignore_index, reduction=reduction,
        )
        return out.reshape(()) if reduction == "none" else out
    _check_label_shape("nll_loss", input, target, soft_ok=False)
    labels, ignored = _class_targets(input, target, "nll_loss", ignore_index)
    if ignored is not None:
        labels = _fill_ignored(labels, ignored, input.data)
    # input[n, labels[n, i, ...], i, ...] for every (n, i, ...): open grids broadcast
    grid = np.ix_(*(np.arange(k) for k in labels.shape))
    losses = -input[(grid[0], labels, *grid[1:])]
    if weight is not None or ignored is not None:
        s = _label_scales(labels, ignored, weight, input.dtype)
        return _weighted_reduce(_zero_ignored(losses * s, ignored), s, reduction)
    if reduction == "mean" and labels.size == 0:
        return losses.sum() * float("nan")  # PyTorch's NaN, without NumPy's empty-mean warning
    return _reduce(losses, reduction)


def hinge_loss(input, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Hinge loss ``max(0, margin - y s)`` for scores ``s`` and labels ``y ∈ {-1, +1}``.

    ``margin=1`` is the linear SVM's loss; ``margin=0`` gives the perceptron criterion
    (seed 002), so both are one loss family at two thresholds.
    """
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape("hinge_loss", input, target)
    _floating("hinge_loss", input)
    y = target.data
    if not np.all((y == 1) | (y == -1)):
        bad = y[(y != 1) & (y != -1)].ravel()[0]
        raise ValueError(f"hinge_loss: labels must be -1 or +1, got {bad}")
    yt = Tensor(y, dtype=input.dtype)
    return _reduce(ops.relu(margin - yt * input), reduction)


def dropout(
    input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None
) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1/(1-p).

    The expectation of the output equals the input, so evaluation (``training=False``)
    is the identity. The mask comes from ``generator`` (seed, Generator or numnet's
    default), never from global state. The positional order is PyTorch's; ``inplace``
    is accepted for compatibility, and numnet computes out of place (see :func:`relu`).
    """
    _check_inplace(inplace, "dropout")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    input = _tensor(input, "input")
    if not training or p == 0:
        return input
    _floating("dropout", input)
    if p == 1:
        return input * 0.0
    rng = as_generator(generator)
    # the same draw as ``rng.random(shape) >= p``; inside a data-parallel step, this
    # shard's rows of the unsplit batch's mask (numnet.parallel.dropout_mask)
    keep = dropout_mask(rng, input.shape, p)
    scale = np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    return input * (keep * scale)


# -- convolution and pooling (PyTorch's positional order) ---------------------------------
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
