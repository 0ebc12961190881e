"""Fused, numerically stable primitives: log-softmax, cross-entropy, logistic loss.

They are fused because the composed versions are unstable (``log(exp(z)/Σexp)``
overflows for ``z`` of magnitude 1e2 in float32) and slower; each is written in the
log-sum-exp form and its VJP is the closed form (softmax minus one-hot, σ minus y).
"""

from __future__ import annotations

import numpy as np

from numnet.ops._ieee import primitive
from numnet.ops.activations import stable_sigmoid


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(z, axis=axis, keepdims=True, initial=-np.inf)  # (an empty axis: -inf)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@primitive("log_softmax", family="losses", saves=(), saves_output=True, int_rule="raise")
def log_softmax(z, *, dim=-1):
    """``log softmax(z)_i = z_i - log Σ_j e^{z_j}``, computed as
    ``(z_i - m) - log Σ_j e^{z_j - m}`` with ``m = max_j z_j`` (log-sum-exp trick).

    Math: ``δz = δy - softmax(z) Σ_j δy_j``.
    """
    y = _log_softmax(z, dim)

    def vjp(g, needs):
        return (g - np.exp(y) * np.sum(g, axis=dim, keepdims=True),)

    return y, vjp


@primitive(
    "cross_entropy_logits", family="losses", int_rule="raise", promote=(0,), saves=(1,)
)
def cross_entropy_logits(z, target, *, reduction="mean"):
    """Softmax cross-entropy from logits ``z`` (N, C) and integer labels ``target`` (N,).

    Math (seeds 001, 003): ``ℓ_n = -log softmax(z_n)_{y_n} = log Σ_j e^{z_nj} - z_{n y_n}``;
    ``δz_n = δℓ_n (softmax(z_n) - onehot(y_n))``, computed as
    ``δℓ_n softmax(z_n) - δℓ_n onehot(y_n)`` (PyTorch's ``nll_loss`` then
    ``log_softmax`` backward), so an infinite ``δℓ_n`` gives NaN at the label (``∞ - ∞``)
    as in PyTorch.
    """
    logp = _log_softmax(z, 1)
    rows = np.arange(z.shape[0])
    losses = -logp[rows, target]
    if reduction == "mean":
        out = losses.mean(dtype=z.dtype) if z.shape[0] else np.asarray(np.nan, z.dtype)
    elif reduction == "sum":
        out = losses.sum(dtype=z.dtype)
    else:
        out = losses

    def vjp(g, needs):
        gl = g / max(z.shape[0], 1) if reduction == "mean" else g  # (empty when N = 0)
        p = np.exp(logp)
        p *= gl[:, None] if reduction == "none" else gl
        # δz = δℓ softmax - δℓ onehot, in PyTorch's order (∞ - ∞ = NaN at the label)
        p[rows, target] -= gl
        return p, None

    return np.asarray(out, dtype=z.dtype), vjp


@primitive("cross_entropy_soft", family="losses", int_rule="raise", saves=(1,))
def cross_entropy_soft(z, target, *, reduction="mean"):
    """Cross-entropy from logits ``z`` (N, C) and probability targets ``t`` (N, C).

    Math: ``ℓ_n = -Σ_j t_nj log softmax(z_n)_j``;
    ``δz_n = δℓ_n (softmax(z_n) Σ_j t_nj - t_n)``, ``δt_n = -δℓ_n log softmax(z_n)``.
    ``δz_n`` is computed as ``softmax(z_n) Σ_j (δℓ_n t_nj) - δℓ_n t_n`` (PyTorch's
    ``log_softmax`` backward of ``-δℓ_n t_n``), so non-finite ``δℓ_n`` give PyTorch's
    infinities and NaNs.
    """
    logp = _log_softmax(z, 1)
    losses = -np.sum(target * logp, axis=1)
    n = z.shape[0]
    scale_mean = reduction == "mean"
    if scale_mean:  # NaN for N = 0 (PyTorch's value), without NumPy's empty-mean warning
        out = losses.mean() if n else np.asarray(np.nan, z.dtype)
    else:
        out = losses.sum() if reduction == "sum" else losses

    def vjp(g, needs):
        gl = g / max(n, 1) if scale_mean else g  # the gradients are empty when N = 0
        gl = gl[:, None] if reduction == "none" else gl
        tg = target * gl  # -δ log softmax(z_n) (PyTorch's order: NaN for δℓ = ∞ where t = 0)
        gz = np.exp(logp) * np.sum(tg, axis=1, keepdims=True) - tg
        gt = -logp * gl if needs[1] else None
        return gz, gt

    return np.asarray(out, dtype=z.dtype), vjp


@primitive("binary_cross_entropy_logits", family="losses", int_rule="raise")
def binary_cross_entropy_logits(z, y):
    """Elementwise logistic loss from logits: ``ℓ = -y log σ(z) - (1-y) log(1-σ(z))``.

    Computed as ``max(z, 0) - z y + log(1 + e^{-|z|})`` (never overflows; for
    ``y ∈ {0, 1}`` this is seed 002's ``log(1 + e^{-ỹ z})`` with ``ỹ = 2y - 1``).

    Math: ``δz = δℓ (σ(z) - y)``, ``δy = -δℓ z``.

    At ``z = ±∞`` the loss is its limit, ``(1 - y)·∞`` at ``+∞`` and ``y·∞`` at ``-∞``,
    with ``0·∞ = 0`` (so 0 for a correct, infinitely confident prediction:
    ``z = +∞, y = 1`` or ``z = -∞, y = 0``). PyTorch returns NaN for ``(+∞, 1)``,
    ``(-∞, 1)`` and ``(-∞, 0)`` (its formula has ``0·∞`` or ``∞ - ∞`` there); the
    gradients are PyTorch's.
    """
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    infinite = np.isinf(z)
    if infinite.any():  # z·(1 - y) or -z·y is 0·∞ or ∞ - ∞ there: take the limit
        c = np.where(z > 0, 1 - y, y)
        loss = np.where(infinite, np.where(c == 0, 0, c * np.inf), loss).astype(
            loss.dtype, copy=False
        )

    def vjp(g, needs):
        gz = g * (stable_sigmoid(z) - y) if needs[0] else None
        gy = -g * z if needs[1] else None
        return gz, gy

    return loss, vjp


_EPS12 = float(np.float32(1e-12))


@primitive("binary_cross_entropy_probs", family="losses", int_rule="raise")
def binary_cross_entropy_probs(p, y):
    """Elementwise ``ℓ = -[y log p + (1 - y) log(1 - p)]`` for probabilities ``p``.

    Each log is clamped at -100 (PyTorch's convention), so ``p ∈ {0, 1}`` gives a
    finite loss. Math: ``δp = δℓ (p - y) / max(p (1 - p), 1e-12)``,
    ``δy = δℓ (log(1 - p) - log p)`` (clamped logs).

    ``δy`` is the derivative of the loss returned, clamped logs included, so it is
    ``±100`` at ``p ∈ {0, 1}``; PyTorch differentiates unclamped logs there and gives
    ``±∞`` (inconsistent with its own clamped value). Everywhere else the two agree.
    """
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    loss = -(y * log_p + (1 - y) * log_q)

    def vjp(g, needs):
        # PyTorch's epsilon is the float32 number nearest 1e-12
        gp = g * (p - y) / np.maximum(p * (1 - p), _EPS12) if needs[0] else None
        gy = g * (log_q - log_p) if needs[1] else None
        return gp, gy

    return loss.astype(p.dtype, copy=False), vjp
