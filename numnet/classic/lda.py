"""Linear discriminant analysis in closed form (seeds 002, 3.2, and 004)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearBinaryClassifier, sigmoid
from numnet.classic._validation import check_binary_labels, check_X_y

__all__ = ["LDA"]


class LDA(LinearBinaryClassifier):
    """Two Gaussian classes with a shared covariance; ``P(Y=1 | X=x) = σ(w·x + b)``.

    Math
    ----
    With class means ``μ₀, μ₁``, shared covariance Σ and priors ``P₀, P₁``
    (homoscedasticity), the second-order terms of the log-likelihood ratio vanish and

    ``w = Σ⁻¹ (μ₁ - μ₀)``,
    ``b = ½ (μ₀ᵀ Σ⁻¹ μ₀ - μ₁ᵀ Σ⁻¹ μ₁) + log(P₁ / P₀)``.

    The estimates are the maximum-likelihood ones: the class means, the class
    frequencies as priors, and the pooled within-class covariance
    ``Σ = (1/N) Σₙ (xₙ - μ_{yₙ})(xₙ - μ_{yₙ})ᵀ``.

    Parameters
    ----------
    priors : (P₀, P₁), optional
        Class priors; the class frequencies by default.
    shrinkage : float in [0, 1]
        ``Σ ← (1 - s) Σ + s (tr Σ / D) I``: 0 is the plain estimate; a little shrinkage
        makes Σ invertible when features are constant (MNIST's border pixels).

    Attributes
    ----------
    coef_ : ndarray, shape (D,)
        ``w`` (float64).
    intercept_ : float
        ``b``.
    classes_ : ndarray, shape (2,)
        ``[negative, positive]``: ``[0, 1]`` or ``[-1, 1]``.
    means_ : ndarray, shape (2, D)
        ``μ₀, μ₁``.
    covariance_ : ndarray, shape (D, D)
        Σ (after shrinkage).
    priors_ : ndarray, shape (2,)
        ``P₀, P₁``.

    Notes
    -----
    Computed in float64 whatever the dtype of ``X``. ``Σ⁻¹ μ`` is a least-squares solve
    (``np.linalg.lstsq``), which gives the pseudo-inverse solution when Σ is singular
    and is what scikit-learn's ``solver='lsqr'`` does.

    References
    ----------
    Seed 002, "3.2. Probabilistic view of a linear classifier"; seed 004, "Linear
    discriminant analysis".
    """

    def __init__(self, *, priors=None, shrinkage: float = 0.0) -> None:
        self.priors = priors
        self.shrinkage = shrinkage

    def fit(self, X, y) -> LDA:
        """Estimate ``μ₀, μ₁, Σ, P₀, P₁`` and the closed-form ``w, b``.

        Parameters
        ----------
        X : array-like, shape (N, D)
        y : array-like, shape (N,)
            Labels in ``{0, 1}`` (seed 002) or ``{-1, +1}``.
        """
        X, y = check_X_y(X, y)
        self.classes_, y_pm = check_binary_labels(y, allowed=((0, 1), (-1, 1)))
        if not 0.0 <= float(self.shrinkage) <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {self.shrinkage}")
        X = X.astype(np.float64, copy=False)
        positive = y_pm > 0
        means = np.stack([X[~positive].mean(axis=0), X[positive].mean(axis=0)])
        if self.priors is None:
            priors = np.array([np.mean(~positive), np.mean(positive)])
        else:
            priors = np.asarray(self.priors, dtype=np.float64).reshape(-1)
            if priors.shape != (2,) or np.any(priors <= 0):
                raise ValueError(f"priors must be two positive numbers, got {self.priors!r}")
            priors = priors / priors.sum()

        centered = X - means[positive.astype(np.intp)]
        sigma = centered.T @ centered / X.shape[0]
        s = float(self.shrinkage)
        if s > 0:
            D = sigma.shape[0]
            sigma = (1 - s) * sigma + s * np.trace(sigma) / D * np.eye(D)

        # Σ⁻¹ μ₀ and Σ⁻¹ μ₁ in one least-squares solve
        sigma_inv_means = np.linalg.lstsq(sigma, means.T, rcond=None)[0]
        self.coef_ = sigma_inv_means[:, 1] - sigma_inv_means[:, 0]  # Σ⁻¹(μ₁ - μ₀)
        quad = np.einsum("kd,dk->k", means, sigma_inv_means)  # μₖᵀ Σ⁻¹ μₖ
        self.intercept_ = float(0.5 * (quad[0] - quad[1]) + np.log(priors[1] / priors[0]))
        self.means_, self.covariance_, self.priors_ = means, sigma, priors
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``[P(Y=classes_[0] | x), P(Y=classes_[1] | x)]`` with ``P(Y=1|x) = σ(w·x + b)``.

        Returns
        -------
        ndarray, shape (N, 2)
        """
        p1 = sigmoid(self.decision_function(X))
        return np.stack([1 - p1, p1], axis=1)
