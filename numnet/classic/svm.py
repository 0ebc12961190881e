"""The linear SVM, ``λ‖w‖² + (1/N) Σ max(0, 1 - yₙ(w·xₙ + b))``, by subgradient descent."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearBinaryClassifier
from numnet.classic._validation import check_binary_labels, check_X_y
from numnet.classic.hinge import SVM_THRESHOLD, hinge_loss, hinge_subgradient

__all__ = ["LinearSVM"]


class LinearSVM(LinearBinaryClassifier):
    """Soft-margin linear SVM trained by full-batch subgradient descent (seed 002, 3.1).

    Math
    ----
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
    coef_ : ndarray, shape (D,)
        ``w``, in the dtype of ``X``.
    intercept_ : float
        ``b``.
    classes_ : ndarray, shape (2,)
        ``[-1, 1]``.
    support_ : ndarray of int, shape (n_SV,)
        Indices of the support vectors in the training set.
    support_vectors_ : ndarray, shape (n_SV, D)
    loss_curve_ : list of float
        ℒ at each iterate.
    n_iter_ : int

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
        y : array-like, shape (N,)
            Labels in ``{-1, +1}``.
        """
        lam, lr = float(self.alpha), float(self.lr)
        if lam <= 0 or lr <= 0 or int(self.max_iter) < 1:
            raise ValueError(
                f"need alpha > 0, lr > 0 and max_iter >= 1; got alpha={self.alpha}, "
                f"lr={self.lr}, max_iter={self.max_iter}"
            )
        X, y = check_X_y(X, y)
        self.classes_, y_pm = check_binary_labels(y, allowed=((-1, 1),))
        dtype = X.dtype
        y_pm = y_pm.astype(dtype)
        w, b = np.zeros(X.shape[1], dtype=dtype), 0.0
        best = (np.inf, w, b)
        self.loss_curve_ = []
        for t in range(int(self.max_iter) + 1):
            margins = y_pm * (X @ w + dtype.type(b))
            loss = lam * float(w @ w) + hinge_loss(margins, SVM_THRESHOLD)
            self.loss_curve_.append(loss)
            if loss < best[0]:
                best = (loss, w, b)
            if t == self.max_iter:
                break
            grad_w, grad_b = hinge_subgradient(X, y_pm, margins, SVM_THRESHOLD)
            eta = lr / (1.0 + 2.0 * lam * lr * t)
            w = w - dtype.type(eta) * (grad_w + dtype.type(2 * lam) * w)
            b -= eta * grad_b
        self.n_iter_ = int(self.max_iter)
        _, self.coef_, self.intercept_ = best[0], best[1], float(best[2])

        margins = y_pm * self.decision_function(X)
        self.support_ = np.flatnonzero(margins <= SVM_THRESHOLD + self.support_tol)
        self.support_vectors_ = X[self.support_]
        return self
