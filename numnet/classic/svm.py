"""The linear SVM, ``λ‖w‖² + (1/N) Σ max(0, 1 - yₙ(w·xₙ + b))``, by subgradient descent."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearClassifier
from numnet.classic._validation import validate_data
from numnet.classic.hinge import SVM_THRESHOLD, hinge_loss, hinge_subgradient

__all__ = ["LinearSVM"]


class LinearSVM(LinearClassifier):
    """Soft-margin linear SVM trained by full-batch subgradient descent (seed 002, 3.1).

    ``ℒ(w, b) = λ‖w‖² + (1/N) Σₙ max(0, 1 - yₙ (w·xₙ + b))``, the hinge at threshold 1
    of :mod:`numnet.classic.hinge`. A subgradient is

    ``∂ℒ/∂w = 2λw - (1/N) Σ_{n: mₙ ≤ 1} yₙ xₙ``,  ``∂ℒ/∂b = -(1/N) Σ_{n: mₙ ≤ 1} yₙ``

    with ``mₙ = yₙ (w·xₙ + b)``. The step decays as ``ηₜ = η / (1 + 2λη t)``: constant
    at first, then the ``1/(2λt)`` of a 2λ-strongly convex objective (Pegasos). A
    subgradient step need not decrease ℒ, so the iterate with the lowest ℒ is kept.

    Minimizing ``max(0, 1 - yₙ(w·xₙ + b))`` pushes sample n beyond the plane
    ``w·x + b = yₙ``; minimizing ``‖w‖²`` widens the band between ``w·x + b = ±1``.
    At the optimum only the samples on or inside that band, the support vectors, matter.
    The problem is scikit-learn's ``SVC(kernel="linear", C=1/(2λN))``.

    Parameters
    ----------
    alpha : float
        λ > 0.
    lr : float
        η, the initial step.
    max_iter : int
        Number of subgradient steps.
    support_tol : float
        Samples with ``mₙ ≤ 1 + support_tol`` are reported as support vectors.

    Attributes
    ----------
    coef_ : ndarray, shape (D,), or (K, D) one-vs-rest
        ``w``, normal to the separating plane ``w·x + b = 0``, in the dtype of ``X``;
        the margin band is ``|w·x + b| ≤ 1``, of width ``2 / ‖w‖``.
    intercept_ : float, or ndarray of shape (K,)
        ``b``, of the iterate with the lowest ℒ.
    classes_ : ndarray, shape (K,)
        The sorted labels, e.g. ``[-1, 1]``; ``classes_[1]`` is the positive class of a
        binary model.
    n_features_in_ : int
    support_ : ndarray of int, shape (n_SV,)
        Indices of the support vectors in the training set (of any of the K models).
    support_vectors_ : ndarray, shape (n_SV, D)
    loss_curve_ : list of float (a list per class with K > 2)
        ℒ at each iterate.
    n_iter_ : int, or ndarray of shape (K,)

    References
    ----------
    C. Cortes and V. Vapnik. Support-vector networks. Machine Learning, 1995.
    S. Shalev-Shwartz et al. Pegasos: primal estimated sub-gradient solver for SVM, 2007.
    Seed 002, "3.1. The perceptron" (SVM and hinge loss).
    """

    def __init__(
        self,
        *,
        alpha: float = 1e-2,
        lr: float = 1.0,
        max_iter: int = 5000,
        support_tol: float = 1e-3,
    ) -> None:
        self.alpha = alpha
        self.lr = lr
        self.max_iter = max_iter
        self.support_tol = support_tol

    def fit(self, X, y) -> LinearSVM:
        """Minimize ℒ by subgradient descent from ``w = 0, b = 0``.

        Parameters
        ----------
        X : array-like, shape (N, D)
            float32 stays float32 (the steps are taken in the dtype of ``X``).
        y : array-like, shape (N,)
            Labels in ``{-1, +1}`` (any two labels: the larger one is the positive
            class), or K > 2 labels (one-vs-rest).
        """
        self._fit_ovr(X, y)
        if self.coef_.ndim == 2:  # one-vs-rest: the support vectors of any of the models
            self.support_ = np.unique(np.concatenate(self.support_))
        self.support_vectors_ = validate_data(self, X, reset=False)[self.support_]
        return self

    def _check_params(self) -> None:
        lam, lr = float(self.alpha), float(self.lr)
        if lam <= 0 or lr <= 0 or int(self.max_iter) < 1:
            raise ValueError(
                f"need alpha > 0, lr > 0 and max_iter >= 1; got alpha={self.alpha}, "
                f"lr={self.lr}, max_iter={self.max_iter}"
            )

    def _fit_binary(self, X, y_pm, generator, class_index=None) -> dict:
        lam, lr = float(self.alpha), float(self.lr)
        dtype = X.dtype
        w, b = np.zeros(X.shape[1], dtype=dtype), 0.0
        best = (np.inf, w, b)
        loss_curve = []
        for t in range(int(self.max_iter) + 1):
            margins = y_pm * (X @ w + dtype.type(b))
            loss = lam * float(w @ w) + hinge_loss(margins, SVM_THRESHOLD)
            loss_curve.append(loss)
            if loss < best[0]:
                best = (loss, w, b)
            if t == self.max_iter:
                break
            grad_w, grad_b = hinge_subgradient(X, y_pm, margins, SVM_THRESHOLD)
            eta = lr / (1.0 + 2.0 * lam * lr * t)
            w = w - dtype.type(eta) * (grad_w + dtype.type(2 * lam) * w)
            b -= eta * grad_b
        w, b = best[1], float(best[2])
        margins = y_pm * (X @ w + dtype.type(b))
        support = np.flatnonzero(margins <= SVM_THRESHOLD + self.support_tol)
        return {
            "coef_": w,
            "intercept_": b,
            "loss_curve_": loss_curve,
            "n_iter_": int(self.max_iter),
            "support_": support,
        }
