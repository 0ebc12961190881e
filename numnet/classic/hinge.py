"""The hinge family ``ℓ_t(m) = max(0, t - m)`` of the margin ``m = y (w·x + b)``.

Two classic linear classifiers are one loss at two thresholds (seed 002, 3.1):

- ``t = 0``: the **perceptron** criterion ``max(0, -y (w·x + b))``. A stochastic
  subgradient step of size 1 on a violating sample (``m ≤ 0``) is exactly Rosenblatt's
  update ``w ← w + y x``.
- ``t = 1``: the **hinge loss** of the SVM, ``max(0, 1 - y (w·x + b))``; with the
  penalty ``λ‖w‖²`` it pushes every sample beyond the plane ``w·x + b = y``.

Both treat a sample exactly on the threshold (``m = t``) as violating: that is the
seed's rule ``y (w·x) ≤ 0`` (needed to leave ``w⁰ = 0``), and for ``t = 1`` it picks a
valid subgradient at the kink.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PERCEPTRON_THRESHOLD", "SVM_THRESHOLD", "hinge_loss", "hinge_subgradient", "violates"]

#: The perceptron's threshold: a sample is a mistake when ``y (w·x + b) ≤ 0``.
PERCEPTRON_THRESHOLD = 0.0
#: The SVM's threshold: a sample is a support vector when ``y (w·x + b) ≤ 1``.
SVM_THRESHOLD = 1.0


def violates(margins: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of the samples with ``m ≤ t``: those the loss ``ℓ_t`` pushes on."""
    return margins <= threshold


def hinge_loss(margins: np.ndarray, threshold: float = SVM_THRESHOLD) -> float:
    """The mean hinge loss ``(1/N) Σ_n max(0, t - m_n)``.

    Parameters
    ----------
    margins : ndarray, shape (N,)
        ``m_n = y_n (w·x_n + b)``.
    threshold : float
        ``t``: 0 for the perceptron criterion, 1 for the SVM.
    """
    return float(np.mean(np.maximum(0.0, threshold - margins)))


def hinge_subgradient(
    X: np.ndarray, y: np.ndarray, margins: np.ndarray, threshold: float = SVM_THRESHOLD
) -> tuple[np.ndarray, float]:
    """A subgradient of the mean hinge loss with respect to ``(w, b)``.

    ``∂/∂w (1/N) Σ_n ℓ_t(m_n) = -(1/N) Σ_{n: m_n ≤ t} y_n x_n`` and
    ``∂/∂b = -(1/N) Σ_{n: m_n ≤ t} y_n``.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    y : ndarray, shape (N,)
        Labels in ``{-1, +1}``, in the dtype of ``X``.
    margins : ndarray, shape (N,)
    threshold : float

    Returns
    -------
    grad_w : ndarray, shape (D,)
    grad_b : float
    """
    u = np.where(violates(margins, threshold), y, 0).astype(X.dtype, copy=False)
    n = X.shape[0]
    return -(X.T @ u) / n, -float(u.sum()) / n
