"""The shared shape of the linear classifiers: ``f(x) = σ(w·x + b)``.

Seed 002 (3.1, 3.2) writes every binary linear model the same way: a score
``s = w·x + b`` followed by a threshold (perceptron, hinge SVM) or a sigmoid (LDA,
logistic regression). This mixin holds what they share: the score, the ±1 decision
``σ(s) = 1 if s ≥ 0 else -1`` and the accuracy.
"""

from __future__ import annotations

import numpy as np

from numnet.classic._validation import check_fitted, check_X, check_X_y

__all__ = ["LinearBinaryClassifier", "sigmoid", "log_sigmoid"]


def sigmoid(s: np.ndarray) -> np.ndarray:
    """The logistic function ``σ(s) = 1 / (1 + e^{-s})``, computed without overflow.

    Notes
    -----
    ``σ(s) = exp(-log(1 + e^{-s}))`` with ``np.logaddexp`` never overflows for either
    sign of ``s`` and keeps the dtype of ``s`` (float32 stays float32).
    """
    s = np.asarray(s)
    return np.exp(-np.logaddexp(np.zeros((), dtype=s.dtype), -s))


def log_sigmoid(s: np.ndarray) -> np.ndarray:
    """``log σ(s) = -log(1 + e^{-s})``, stable for large ``|s|``."""
    s = np.asarray(s)
    return -np.logaddexp(np.zeros((), dtype=s.dtype), -s)


class LinearBinaryClassifier:
    """Mixin for binary models with ``coef_`` ``(D,)``, ``intercept_`` (float), ``classes_``.

    ``classes_[1]`` is the positive class: it is predicted where ``w·x + b ≥ 0``.
    """

    def decision_function(self, X) -> np.ndarray:
        """The score ``s = X w + b``.

        Parameters
        ----------
        X : array-like, shape (N, D)

        Returns
        -------
        ndarray, shape (N,)
            In the dtype of ``X`` when ``X`` is float32 or float64.
        """
        check_fitted(self)
        X = check_X(X, n_features=self.coef_.shape[0])
        return X @ self.coef_.astype(X.dtype, copy=False) + X.dtype.type(self.intercept_)

    def predict(self, X) -> np.ndarray:
        """The label ``classes_[1]`` where ``w·x + b ≥ 0``, else ``classes_[0]``, shape (N,)."""
        positive = self.decision_function(X) >= 0
        return self.classes_[positive.astype(np.intp)]

    def score(self, X, y) -> float:
        """The accuracy, i.e. the fraction of ``y`` predicted right (1 - error rate)."""
        X, y = check_X_y(X, y)
        return float(np.mean(self.predict(X) == y))

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and k[0] != "_"
        )
        return f"{type(self).__name__}({params})"
