"""Multiclass (softmax) logistic regression by gradient descent (seeds 001, 003)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import ClassifierBase
from numnet.classic._gd import GradientDescentMixin, check_gd_params
from numnet.classic._validation import check_classes, validate_data

__all__ = ["SoftmaxRegression", "log_softmax"]


def log_softmax(S: np.ndarray) -> np.ndarray:
    """``log softmax`` along the last axis, shifted by the per-row maximum for stability."""
    shifted = S - S.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxRegression(GradientDescentMixin, ClassifierBase):
    """``P(Y=k | x) = exp(wₖ·x + bₖ) / Σⱼ exp(wⱼ·x + bⱼ)`` fitted by gradient descent.

    With one-hot targets ``zₙₖ`` and scores ``sₙ = W xₙ + b``, the cross-entropy

    ``ℒ(W, b) = -Σₙ Σₖ zₙₖ log softmax(sₙ)ₖ + λ‖W‖²``

    (divided by N when ``reduction="mean"``) has the gradient (seed 003,
    "Softmax + Cross-entropy") ``∇_{wₖ} = Σₙ (softmax(sₙ)ₖ - zₙₖ) xₙ + 2λwₖ`` and
    ``∇_{bₖ} = Σₙ (softmax(sₙ)ₖ - zₙₖ)``. With two classes it is the sigmoid model with
    ``w = w₁ - w₀`` (seed 003, "Softmax: Comments").

    Parameters
    ----------
    lr, max_iter, alpha, reduction, tol, init, random_state
        As in :class:`~numnet.classic.LogisticRegression` (``init="normal"`` draws ``W``).

    Attributes
    ----------
    coef_ : ndarray, shape (K, D)
        ``W``, one row per class, in the dtype of ``X``.
    intercept_ : ndarray, shape (K,)
        ``b``.
    classes_ : ndarray, shape (K,)
        The sorted class labels (any values, K ≥ 2).
    n_features_in_ : int
    loss_curve_ : list of float
    n_iter_ : int

    Notes
    -----
    Softmax is over-parameterized (adding a vector to every ``wₖ`` changes nothing);
    the L2 penalty, or ``init="zeros"`` without penalty, picks the solution whose
    ``wₖ`` sum to zero, as scikit-learn does.

    References
    ----------
    Seed 003, "Softmax"; seed 001, softmax output layer; seed 004, "Softmax".
    """

    def fit(self, X, y) -> SoftmaxRegression:
        """Minimize the cross-entropy by gradient descent.

        Parameters
        ----------
        X : array-like, shape (N, D)
        y : array-like, shape (N,)
            Any labels, at least two distinct values.
        """
        check_gd_params(self)
        X, y = validate_data(self, X, y, reset=True)
        self.classes_, y_index = check_classes(y)
        dtype, (N, D), K = X.dtype, X.shape, self.classes_.shape[0]
        Z = np.zeros((N, K), dtype=dtype)
        Z[np.arange(N), y_index] = 1
        scale = dtype.type(1.0 / N if self.reduction == "mean" else 1.0)
        lam = dtype.type(self.alpha)

        def objective(W, b):
            log_p = log_softmax(X @ W.T + b)
            loss = -float(scale) * float(np.sum(Z * log_p, dtype=np.float64))
            delta = scale * (np.exp(log_p) - Z)  # ∂ℒ/∂s = softmax(s) - z
            grad_W = delta.T @ X + 2 * lam * W  # ∇_W = δᵀ X + 2λW
            grad_b = delta.sum(axis=0)  # ∇_b = Σₙ δₙ
            return loss + float(lam) * float(np.sum(W * W)), (grad_W, grad_b)

        W = self._initial_weights((K, D), dtype)
        self.coef_, self.intercept_ = self._descend(objective, [W, np.zeros(K, dtype=dtype)])
        return self

    def _scores(self, X) -> np.ndarray:
        X = validate_data(self, X, reset=False)
        return X @ self.coef_.T.astype(X.dtype, copy=False) + self.intercept_.astype(X.dtype)

    def decision_function(self, X) -> np.ndarray:
        """The scores ``S = X Wᵀ + b``, shape (N, K); with two classes the difference
        ``s₁ - s₀``, shape (N,) (positive for ``classes_[1]``, scikit-learn's convention)."""
        S = self._scores(X)
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X) -> np.ndarray:
        """``softmax(S)``, shape (N, K); rows sum to 1."""
        return np.exp(log_softmax(self._scores(X)))

    def predict(self, X) -> np.ndarray:
        """The most probable class, shape (N,)."""
        best = np.argmax(self._scores(X), axis=1)
        return self.classes_[best]
