"""Binary logistic regression by gradient descent (seed 002, 3.2 and 3.5)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearBinaryClassifier, log_sigmoid, sigmoid
from numnet.classic._validation import (
    RandomState,
    check_binary_labels,
    check_random_state,
    check_X_y,
)

__all__ = ["LogisticRegression", "check_gd_params"]


class LogisticRegression(LinearBinaryClassifier):
    """``P(Y=y | X=x) = σ(y (w·x + b))`` fitted by plain gradient descent.

    Math
    ----
    With labels ``yₙ ∈ {-1, +1}`` (``{0, 1}`` labels are mapped to them), the loss is

    ``ℒ(w, b) = -Σₙ log σ(yₙ (w·xₙ + b)) + λ‖w‖²``

    (divided by N when ``reduction="mean"``, the default). Seed 002's gradient, with
    ``uₙ = yₙ σ(-yₙ (w·xₙ + b))``:

    ``∂ℒ/∂b = -Σₙ uₙ``,   ``∂ℒ/∂w = -Σₙ xₙ uₙ + 2λw``,

    and each step is ``w ← w - η ∂ℒ/∂w``, ``b ← b - η ∂ℒ/∂b``.

    Parameters
    ----------
    lr : float
        The step η.
    max_iter : int
        Number of gradient steps at most.
    alpha : float
        λ, the L2 penalty on ``w`` (the bias is not penalized).
    reduction : {"mean", "sum"}
        Average or sum the per-sample losses. The seed's example sums (with η = 0.1).
    tol : float
        Stop when every component of the gradient is below ``tol`` in absolute value.
    init : {"zeros", "normal"}
        ``w = 0``, or ``w ~ N(0, 1)`` as in the seed's example (``b = 0`` either way).
    random_state : int, numpy.random.Generator or None
        For ``init="normal"``.

    Attributes
    ----------
    coef_ : ndarray, shape (D,)
        ``w``, in the dtype of ``X``.
    intercept_ : float
        ``b``.
    classes_ : ndarray, shape (2,)
        ``[0, 1]`` or ``[-1, 1]``; ``classes_[1]`` is the positive class.
    loss_curve_ : list of float
        ``ℒ`` before each step (and after the last one).
    n_iter_ : int
        Steps taken.

    References
    ----------
    Seed 002, "3.2. Probabilistic view of a linear classifier" and "3.5. Gradient
    descent"; seed 004, "Logistic regression".
    """

    def __init__(
        self,
        *,
        lr: float = 0.1,
        max_iter: int = 1000,
        alpha: float = 0.0,
        reduction: str = "mean",
        tol: float = 1e-6,
        init: str = "zeros",
        random_state: RandomState = None,
    ) -> None:
        self.lr = lr
        self.max_iter = max_iter
        self.alpha = alpha
        self.reduction = reduction
        self.tol = tol
        self.init = init
        self.random_state = random_state

    def fit(self, X, y) -> LogisticRegression:
        """Minimize ``ℒ(w, b)`` by gradient descent from the chosen initialization.

        Parameters
        ----------
        X : array-like, shape (N, D)
        y : array-like, shape (N,)
            Labels in ``{-1, +1}`` or ``{0, 1}``.
        """
        check_gd_params(self)
        X, y = check_X_y(X, y)
        self.classes_, y_pm = check_binary_labels(y, allowed=((-1, 1), (0, 1)))
        dtype = X.dtype
        y_pm = y_pm.astype(dtype)
        if self.init == "normal":
            w = check_random_state(self.random_state).standard_normal(X.shape[1]).astype(dtype)
        else:
            w = np.zeros(X.shape[1], dtype=dtype)
        b = 0.0
        scale = 1.0 / X.shape[0] if self.reduction == "mean" else 1.0
        lam, lr = float(self.alpha), float(self.lr)

        self.loss_curve_ = []
        self.n_iter_ = 0
        for _ in range(int(self.max_iter) + 1):
            s = X @ w + dtype.type(b)
            loss = -scale * float(np.sum(log_sigmoid(y_pm * s), dtype=np.float64))
            self.loss_curve_.append(loss + lam * float(w @ w))
            u = y_pm * sigmoid(-y_pm * s)  # uₙ = yₙ σ(-yₙ(w·xₙ + b))
            grad_b = -scale * float(np.sum(u, dtype=np.float64))  # ∂ℒ/∂b = -Σ uₙ
            grad_w = -scale * (X.T @ u) + 2 * lam * w  # ∂ℒ/∂w = -Σ xₙ uₙ + 2λw
            grad_max = max(np.abs(grad_w).max(), abs(grad_b))
            if self.n_iter_ == self.max_iter or grad_max < self.tol:
                break
            w = w - dtype.type(lr) * grad_w.astype(dtype, copy=False)
            b -= lr * grad_b
            self.n_iter_ += 1
        self.coef_, self.intercept_ = w, float(b)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """``[P(Y=classes_[0] | x), P(Y=classes_[1] | x)]``, shape (N, 2)."""
        p1 = sigmoid(self.decision_function(X))
        return np.stack([1 - p1, p1], axis=1)


def check_gd_params(model) -> None:
    """Validate the gradient-descent hyper-parameters shared by the logistic models."""
    if not float(model.lr) > 0:
        raise ValueError(f"lr must be > 0, got {model.lr}")
    if int(model.max_iter) < 0:
        raise ValueError(f"max_iter must be >= 0, got {model.max_iter}")
    if float(model.alpha) < 0:
        raise ValueError(f"alpha must be >= 0, got {model.alpha}")
    if model.reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {model.reduction!r}")
    if model.init not in ("zeros", "normal"):
        raise ValueError(f"init must be 'zeros' or 'normal', got {model.init!r}")
