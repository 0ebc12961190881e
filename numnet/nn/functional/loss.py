"""Losses with PyTorch's names and positional order (regression, binary and multi-class
classification, hinge); the fused primitives live in :mod:`numnet.ops.losses`."""

from __future__ import annotations

import numpy as np

from numnet import ops
from numnet.nn.functional._targets import (
    _check_ignore_index,
    _check_label_shape,
    _check_label_smoothing,
    _class_targets,
    _class_weight,
    _elementwise_weight,
    _fill_ignored,
    _label_scales,
    _reduction_not_weight,
    _weighted_reduce,
    _zero_ignored,
)
from numnet.nn.functional._validation import (
    _check_reduction,
    _floating,
    _reduce,
    _same_shape,
    _tensor,
)
from numnet.tensor import Tensor


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

    Notes
    -----
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

    Notes
    -----
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

    Notes
    -----
    The loss and its gradient: ``ℓ_n = w_{y_n} (log Σ_j e^{z_nj} - z_{n y_n})``,
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
    if input.ndim == 1:
        return _one_sample_cross_entropy(input, target, weight, reduction, options)
    soft = target.shape == input.shape and target.dtype.kind == "f"
    if not soft:
        _check_label_shape("cross_entropy", input, target, soft_ok=True)
    if input.ndim > 2:
        return _spatial_cross_entropy(input, target, weight, reduction, options, soft)
    if soft:
        return _soft_cross_entropy(input, target, weight, ignore_index, eps, reduction)
    labels, ignored = _class_targets(input, target, "cross_entropy", ignore_index)
    labels = labels.astype(np.int64, copy=False)
    if weight is None and ignored is None and not eps:
        # (a copy: writes to the target after the forward cannot change the gradient)
        return ops.cross_entropy_logits(input, Tensor._wrap(labels.copy()), reduction=reduction)
    return _class_cross_entropy(input, labels, ignored, weight, eps, reduction)


def _one_sample_cross_entropy(input, target, weight, reduction: str, options: dict) -> Tensor:
    """:func:`cross_entropy` of (C,) logits: a batch of one, squeezed back."""
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


def _spatial_cross_entropy(input, target, weight, reduction, options, soft: bool) -> Tensor:
    """:func:`cross_entropy` of (N, C, d1, ...) logits as (N·d1·..., C) rows."""
    perm = (0, *range(2, input.ndim), 1)
    n_classes = input.shape[1]
    flat = input.permute(*perm).reshape(-1, n_classes)
    flat_t = target.permute(*perm).reshape(-1, n_classes) if soft else target.reshape(-1)
    if reduction != "none":
        return cross_entropy(flat, flat_t, weight, reduction=reduction, **options)
    out = cross_entropy(flat, flat_t, weight, reduction="none", **options)
    return out.reshape(target.shape[:1] + input.shape[2:])


def _soft_cross_entropy(input, target, weight, ignore_index: int, eps: float, reduction: str):
    """:func:`cross_entropy` with probability targets of the input's shape."""
    if ignore_index >= 0:
        raise ValueError(
            f"cross_entropy: ignore_index={ignore_index} is not supported for "
            "probability targets (it must be negative, e.g. the default -100)"
        )
    if not np.all(np.isfinite(target.data)):
        raise ValueError("cross_entropy: probability targets contain NaN or inf")
    if eps:
        target = target * (1 - eps) + eps / input.shape[1]
    if weight is not None:
        target = target * weight
    return ops.cross_entropy_soft(input, target, reduction=reduction)


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

    Notes
    -----
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
