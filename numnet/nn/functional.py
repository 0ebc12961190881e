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
    diff = input - target
    return _reduce(diff * diff, reduction)


def binary_cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """``-[y log p + (1 - y) log(1 - p)]`` for probabilities ``p`` (fused primitive).

    As in PyTorch, each log is clamped at -100, so ``p = 0`` or ``1`` gives a large
    finite loss (never ``log(0)``), and the gradient ``(p - y) / max(p(1 - p), 1e-12)``
    stays finite. Prefer :func:`binary_cross_entropy_with_logits`, which is exact and
    stable.
    """
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape("binary_cross_entropy", input, target)
    p = input.data
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]")
    return _reduce(ops.binary_cross_entropy_probs(input, target), reduction)


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean") -> Tensor:
    """Logistic loss from logits ``z``: ``max(z, 0) - z y + log(1 + e^{-|z|})``.

    Equals ``-[y log σ(z) + (1-y) log(1-σ(z))]`` without ever overflowing
    (seed 002's ``log(1 + e^{-ỹ z})`` for labels ``ỹ = 2y - 1 ∈ {±1}``).
    ``δz = σ(z) - y``.
    """
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    if target.dtype.kind != "f":
        target = Tensor(target.data, dtype=input.dtype)
    return _reduce(ops.binary_cross_entropy_logits(input, target), reduction)


def _class_targets(input: Tensor, target: Tensor, loss: str) -> np.ndarray:
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
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(
            f"{loss}: class label {bad} is out of range for {n_classes} classes "
            f"(labels must lie in [0, {n_classes - 1}])"
        )
    return labels


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


def cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy from logits (fused, log-sum-exp stable for |z| ~ 1e4).

    Parameters
    ----------
    input : (N, C) or (N, C, d1, ..., dk) logits (or (C,) for one sample); the class
        axis is axis 1, as in PyTorch
    target : integer labels in [0, C) of shape (N,) or (N, d1, ..., dk) (() for one
        sample), or probabilities of the same shape as input
    reduction : 'mean' | 'sum' | 'none'
        'mean' averages over all N·d1·…·dk losses (NaN if there are none); 'none'
        returns them with shape (N, d1, ..., dk).

    Math: ``ℓ_n = log Σ_j e^{z_nj} - z_{n y_n}``; ``δz_n = softmax(z_n) - onehot(y_n)``.
    The (N, C, d1, ..., dk) case moves the class axis last and flattens to
    (N·d1·…·dk, C), then uses the same fused primitive.
    """
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got {input.dtype}")
    if input.ndim < 1:
        raise ValueError("cross_entropy: input must have a class dimension")
    if input.ndim == 1:  # one sample
        if target.shape != () and not (target.shape == input.shape and target.dtype.kind == "f"):
            raise ValueError(
                f"cross_entropy: target shape {target.shape} does not match input shape "
                f"{input.shape} (expected an integer label of shape () or probabilities of "
                f"shape {input.shape})"
            )
        out = cross_entropy(input.reshape(1, -1), target.reshape(1, *target.shape), reduction)
        return out.reshape(()) if reduction == "none" else out
    soft = target.shape == input.shape and target.dtype.kind == "f"
    if not soft:
        _check_label_shape("cross_entropy", input, target, soft_ok=True)
    if input.ndim > 2:  # (N, C, d1, ...) -> (N·d1·..., C)
        c = input.shape[1]
        perm = (0, *range(2, input.ndim), 1)
        flat = input.permute(*perm).reshape(-1, c)
        flat_t = target.permute(*perm).reshape(-1, c) if soft else target.reshape(-1)
        if reduction != "none":
            return cross_entropy(flat, flat_t, reduction)
        return cross_entropy(flat, flat_t, "none").reshape(target.shape[:1] + input.shape[2:])
    if soft:
        if not np.all(np.isfinite(target.data)):
            raise ValueError("cross_entropy: probability targets contain NaN or inf")
        return ops.cross_entropy_soft(input, target, reduction=reduction)
    labels = _class_targets(input, target, "cross_entropy")
    return ops.cross_entropy_logits(
        input, Tensor._wrap(labels.astype(np.int64, copy=False)), reduction=reduction
    )


def nll_loss(input, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood ``ℓ = -input[n, y_n, d1, ..., dk]`` of log-probabilities.

    Parameters
    ----------
    input : (N, C) or (N, C, d1, ..., dk) log-probabilities (or (C,) for one sample);
        the class axis is axis 1, as in PyTorch
    target : integer labels in [0, C) of shape (N,) or (N, d1, ..., dk) (() for one sample)
    reduction : 'mean' | 'sum' | 'none'
        'mean' averages over all N·d1·…·dk losses (NaN if there are none); 'none'
        returns them with shape (N, d1, ..., dk).

    The entries are picked in one gather (no loop over samples); the gradient is
    ``-δℓ`` at the picked entries and 0 elsewhere.
    """
    input = _tensor(input, "input")
    target = _tensor(target, "target", like=input)
    _check_reduction(reduction)
    if input.ndim < 1:
        raise ValueError("nll_loss: input must have a class dimension")
    if input.ndim == 1:  # one sample
        if target.shape != ():
            raise ValueError(
                f"nll_loss: target shape {target.shape} does not match input shape "
                f"{input.shape} (expected an integer label of shape ())"
            )
        out = nll_loss(input.reshape(1, -1), target.reshape(1), reduction)
        return out.reshape(()) if reduction == "none" else out
    _check_label_shape("nll_loss", input, target, soft_ok=False)
    labels = _class_targets(input, target, "nll_loss")
    # input[n, labels[n, i, ...], i, ...] for every (n, i, ...): open grids broadcast
    grid = np.ix_(*(np.arange(k) for k in labels.shape))
    losses = -input[(grid[0], labels, *grid[1:])]
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
    if p == 1:
        return input * 0.0
    rng = as_generator(generator)
    keep = rng.random(input.shape, dtype=np.float32) >= p
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
