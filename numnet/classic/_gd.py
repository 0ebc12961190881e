"""Full-batch gradient descent, shared by logistic and softmax regression (seed 002, 3.5).

The two models differ only in their objective ``ℒ`` and its gradient; this mixin holds
the rest: the hyper-parameters and their validation, the initial weights and the loop
``θ ← θ - η ∇ℒ(θ)``, stopped after ``max_iter`` steps or once every component of the
gradient is below ``tol``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet.classic._validation import RandomState, check_random_state

__all__ = ["GradientDescentMixin", "check_gd_params"]


class GradientDescentMixin:
    """Hyper-parameters and the descent loop of the gradient-descent classifiers.

    See :class:`~numnet.classic.LogisticRegression` for the parameters. ``fit`` sets
    ``loss_curve_`` (ℒ before each step and after the last one) and ``n_iter_``.
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

    def _initial_weights(self, shape, dtype, generator=None) -> np.ndarray:
        """``0``, or ``N(0, 1)`` draws from ``generator`` (default: ``random_state``) for
        ``init="normal"``."""
        if self.init == "normal":
            if generator is None:
                generator = check_random_state(self.random_state)
            return generator.standard_normal(shape).astype(dtype)
        return np.zeros(shape, dtype=dtype)

    def _descend(self, objective: Callable, params: Sequence) -> list:
        """Gradient descent on ``objective(*params) -> (ℒ, gradients)`` from ``params``.

        Returns the final parameters, in their types (a float stays a float, an array
        keeps its dtype).
        """
        lr = float(self.lr)
        params = list(params)
        self.loss_curve_, self.n_iter_ = [], 0
        for _ in range(int(self.max_iter) + 1):
            loss, grads = objective(*params)
            self.loss_curve_.append(loss)
            grad_max = max(np.abs(g).max() if isinstance(g, np.ndarray) else abs(g) for g in grads)
            if self.n_iter_ == self.max_iter or grad_max < self.tol:
                break
            params = [p - lr * g for p, g in zip(params, grads)]
            self.n_iter_ += 1
        return params


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
