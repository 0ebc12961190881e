"""Binary logistic regression by gradient descent (seed 002, 3.2 and 3.5)."""

from __future__ import annotations

import numpy as np

from numnet.classic._base import LinearClassifier, log_sigmoid, sigmoid
from numnet.classic._gd import GradientDescentMixin, check_gd_params
from numnet.random import check_random_state

__all__ = ["LogisticRegression", "check_gd_params"]


class LogisticRegression(GradientDescentMixin, LinearClassifier):
    """``P(Y=y | X=x) = σ(y (w·x + b))`` fitted by plain gradient descent.

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
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        The source of the ``init="normal"`` draws (see
        :func:`numnet.random.check_random_state`); ``None`` is numnet's default
        generator, re-seeded by :func:`numnet.manual_seed`.

    Attributes
    ----------
    coef_ : ndarray, shape (D,), or (K, D) one-vs-rest
        ``w``, in the dtype of ``X``.
    intercept_ : float, or ndarray of shape (K,)
        ``b``.
    classes_ : ndarray, shape (K,)
        The sorted labels, e.g. ``[0, 1]`` or ``[-1, 1]``; ``classes_[1]`` is the
        positive class of a binary model.
    n_features_in_ : int
    loss_curve_ : list of float (a list per class with K > 2)
        ``ℒ`` before each step (and after the last one).
    n_iter_ : int, or ndarray of shape (K,)
        Steps taken.

    References
    ----------
    Seed 002, "3.2. Probabilistic view of a linear classifier" and "3.5. Gradient
    descent"; seed 004, "Logistic regression".
    """

    def fit(self, X, y) -> LogisticRegression:
        """Minimize ``ℒ(w, b)`` by gradient descent from the chosen initialization.

        Parameters
        ----------
        X : array-like, shape (N, D)
        y : array-like, shape (N,)
            Labels in ``{-1, +1}`` or ``{0, 1}`` (any two labels: the larger one is the
            positive class), or K > 2 labels (one-vs-rest).
        """
        return self._fit_ovr(X, y)

    def _check_params(self) -> None:
        check_gd_params(self)

    def _generator(self):
        return check_random_state(self.random_state) if self.init == "normal" else None

    def _fit_binary(self, X, y_pm, generator, class_index=None) -> dict:
        dtype = X.dtype
        scale = 1.0 / X.shape[0] if self.reduction == "mean" else 1.0
        lam = float(self.alpha)

        def objective(w, b):
            s = X @ w + dtype.type(b)
            loss = -scale * float(np.sum(log_sigmoid(y_pm * s), dtype=np.float64))
            u = y_pm * sigmoid(-y_pm * s)  # uₙ = yₙ σ(-yₙ(w·xₙ + b))
            grad_w = -scale * (X.T @ u) + 2 * lam * w  # ∂ℒ/∂w = -Σ xₙ uₙ + 2λw
            grad_b = -scale * float(np.sum(u, dtype=np.float64))  # ∂ℒ/∂b = -Σ uₙ
            return loss + lam * float(w @ w), (grad_w, grad_b)

        w, b = self._descend(objective, [self._initial_weights(X.shape[1], dtype, generator), 0.0])
        return {
            "coef_": w,
            "intercept_": float(b),
            "loss_curve_": self.loss_curve_,
            "n_iter_": self.n_iter_,
        }

    def predict_proba(self, X) -> np.ndarray:
        """``[P(Y=classes_[0] | x), P(Y=classes_[1] | x)]``, shape (N, 2); with K > 2
        classes the one-vs-rest ``σ(sₖ)`` normalized to sum to 1, shape (N, K)."""
        return self._ovr_proba(self.decision_function(X))
