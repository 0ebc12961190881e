"""Linear discriminant analysis in closed form (seeds 002, 3.2, and 004)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearClassifier, sigmoid
from numnet.classic._validation import check_classes, validate_data
from numnet.classic.softmax import log_softmax

__all__ = ["LDA"]


class LDA(LinearClassifier):
    """Two Gaussian classes with a shared covariance; ``P(Y=1 | X=x) = σ(w·x + b)``.

    With class means ``μ₀, μ₁``, shared covariance Σ and priors ``P₀, P₁``
    (homoscedasticity), the second-order terms of the log-likelihood ratio vanish and

    ``w = Σ⁻¹ (μ₁ - μ₀)``,
    ``b = ½ (μ₀ᵀ Σ⁻¹ μ₀ - μ₁ᵀ Σ⁻¹ μ₁) + log(P₁ / P₀)``.

    The estimates are the maximum-likelihood ones: the class means, the class
    frequencies as priors, and the pooled within-class covariance
    ``Σ = (1/N) Σₙ (xₙ - μ_{yₙ})(xₙ - μ_{yₙ})ᵀ``.

    With K > 2 classes the same model gives one linear discriminant per class,
    ``δₖ(x) = xᵀ Σ⁻¹ μₖ - ½ μₖᵀ Σ⁻¹ μₖ + log Pₖ``, and ``P(Y=k | x) = softmax(δ(x))ₖ``
    (scikit-learn's ``LinearDiscriminantAnalysis``).

    Parameters
    ----------
    priors : (P₀, P₁, ...), optional
        Class priors, one per class of ``classes_``; the class frequencies by default.
    shrinkage : float in [0, 1]
        ``Σ ← (1 - s) Σ + s (tr Σ / D) I``: 0 is the plain estimate; a little shrinkage
        makes Σ invertible when features are constant (MNIST's border pixels).

    Attributes
    ----------
    coef_ : ndarray, shape (D,) with two classes, (K, D) with K > 2
        ``w`` (float64); with K > 2 the rows ``Σ⁻¹ μₖ``.
    intercept_ : float, or ndarray of shape (K,)
        ``b``; with K > 2 the ``-½ μₖᵀ Σ⁻¹ μₖ + log Pₖ``.
    classes_ : ndarray, shape (K,)
        The sorted labels; ``classes_[1]`` is the positive class of a binary model.
    n_features_in_ : int
    means_ : ndarray, shape (K, D)
        ``μ₀, μ₁, ...``.
    covariance_ : ndarray, shape (D, D)
        Σ (after shrinkage).
    priors_ : ndarray, shape (K,)
        ``P₀, P₁, ...``.

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
        """Estimate ``μₖ, Σ, Pₖ`` and the closed-form ``w, b``.

        Parameters
        ----------
        X : array-like, shape (N, D)
            Converted to float64 for the estimates.
        y : array-like, shape (N,)
            Labels in ``{0, 1}`` (seed 002), ``{-1, +1}``, any two labels (the larger one
            is ``classes_[1]``), or K > 2 labels (the multiclass closed form).
        """
        if not 0.0 <= float(self.shrinkage) <= 1.0:
            raise ValueError(f"shrinkage must be in [0, 1], got {self.shrinkage}")
        X, y = validate_data(self, X, y, reset=True)
        self.classes_, y_index = check_classes(y)
        K = self.classes_.shape[0]
        X = X.astype(np.float64, copy=False)
        counts = np.bincount(y_index, minlength=K)
        means = np.stack([X[y_index == k].mean(axis=0) for k in range(K)])
        if self.priors is None:
            priors = counts / counts.sum()
        else:
            priors = np.asarray(self.priors, dtype=np.float64).reshape(-1)
            if priors.shape != (K,) or np.any(priors <= 0):
                raise ValueError(
                    f"priors must be {K} positive numbers (one per class), got {self.priors!r}"
                )
            priors = priors / priors.sum()

        centered = X - means[y_index]
        sigma = centered.T @ centered / X.shape[0]
        s = float(self.shrinkage)
        if s > 0:
            D = sigma.shape[0]
            sigma = (1 - s) * sigma + s * np.trace(sigma) / D * np.eye(D)

        # Σ⁻¹ μₖ for every class in one least-squares solve
        sigma_inv_means = np.linalg.lstsq(sigma, means.T, rcond=None)[0]
        quad = np.einsum("kd,dk->k", means, sigma_inv_means)  # μₖᵀ Σ⁻¹ μₖ
        if K == 2:
            self.coef_ = sigma_inv_means[:, 1] - sigma_inv_means[:, 0]  # Σ⁻¹(μ₁ - μ₀)
            self.intercept_ = float(0.5 * (quad[0] - quad[1]) + np.log(priors[1] / priors[0]))
        else:  # δₖ(x) = xᵀΣ⁻¹μₖ - ½ μₖᵀΣ⁻¹μₖ + log Pₖ
            self.coef_ = sigma_inv_means.T.copy()
            self.intercept_ = -0.5 * quad + np.log(priors)
        self.means_, self.covariance_, self.priors_ = means, sigma, priors
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``P(Y=classes_[k] | x)``, shape (N, K): ``[1 - σ(w·x + b), σ(w·x + b)]`` with
        two classes, the softmax of the discriminants ``δₖ(x)`` with K > 2."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = sigmoid(scores)
            return np.stack([1 - p1, p1], axis=1)
        return np.exp(log_softmax(scores))
