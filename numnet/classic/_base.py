"""The shared shape of the linear classifiers: ``f(x) = σ(w·x + b)``, and one-vs-rest.

Seed 002 (3.1, 3.2) writes every binary linear model the same way: a score
``s = w·x + b`` followed by a threshold (perceptron, hinge SVM) or a sigmoid (LDA,
logistic regression). :class:`LinearClassifier` holds what they share: input
validation, the score, the decision ``classes_[1] if s ≥ 0 else classes_[0]``, the
accuracy, and the multiclass extension by one-vs-rest (one binary model per class,
"class k" against "the others", predicting the class of the largest score).
"""

from __future__ import annotations

import numpy as np

from numnet.classic._estimator import BaseEstimator, ClassifierMixin
from numnet.classic._validation import check_classes, validate_data

__all__ = ["LinearBinaryClassifier", "LinearClassifier", "accuracy", "sigmoid", "log_sigmoid"]


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


def accuracy(y_true, y_pred, sample_weight=None) -> float:
    """The (weighted) fraction of ``y_pred`` equal to ``y_true``."""
    correct = np.asarray(y_pred) == np.asarray(y_true)
    if sample_weight is None:
        return float(np.mean(correct))
    return float(np.average(correct, weights=np.asarray(sample_weight, dtype=np.float64)))


class ClassifierBase(ClassifierMixin, BaseEstimator):
    """``score`` (accuracy) and scikit-learn tags shared by the classic classifiers."""

    def score(self, X, y, sample_weight=None) -> float:
        """The accuracy, i.e. the fraction of ``y`` predicted right (1 - error rate)."""
        X = validate_data(self, X, reset=False)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return accuracy(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):
        return super().__sklearn_tags__()

    def _more_tags(self):  # scikit-learn < 1.6
        return {}


class LinearClassifier(ClassifierBase):
    """Binary linear models ``s = w·x + b``, made multiclass by one-vs-rest.

    Subclasses implement ``_fit_binary(X, y_pm, generator) -> dict`` returning at least
    ``coef_`` (D,) and ``intercept_`` (float) for labels ``y_pm ∈ {-1, +1}`` in ``X``'s
    dtype. With two classes those are the fitted attributes (``classes_[1]`` is the
    positive class); with K > 2, model k is fitted on "class k" (+1) against the rest
    (-1), ``coef_`` is ``(K, D)``, ``intercept_`` ``(K,)``, and every other attribute
    returned holds the K per-class values (an array of numbers, else a list).
    """

    def _check_params(self) -> None:  # hyper-parameter checks, before the data's
        pass

    def _generator(self):
        """The ``random_state`` as a Generator, for models that draw (``None`` otherwise)."""
        return None

    def _fit_ovr(self, X, y, **kwargs):
        self._check_params()
        X, y = validate_data(self, X, y, reset=True)
        self.classes_, y_index = check_classes(y)
        generator = self._generator()
        dtype = X.dtype
        if self.classes_.shape[0] == 2:
            y_pm = np.where(y_index == 1, 1.0, -1.0).astype(dtype)
            fitted = self._fit_binary(X, y_pm, generator, **kwargs)
            fitted["intercept_"] = float(fitted["intercept_"])
        else:
            results = []
            for k in range(self.classes_.shape[0]):
                y_pm = np.where(y_index == k, 1.0, -1.0).astype(dtype)
                results.append(self._fit_binary(X, y_pm, generator, class_index=k, **kwargs))
            fitted = {}
            for key in results[0]:
                values = [r[key] for r in results]
                if key == "coef_":
                    fitted[key] = np.stack(values)
                elif all(np.isscalar(v) for v in values):
                    fitted[key] = np.array(values)
                else:
                    fitted[key] = values
        for key, value in fitted.items():
            setattr(self, key, value)
        return self

    def decision_function(self, X) -> np.ndarray:
        """The scores ``s = X w + b``: shape (N,) with two classes (positive class
        ``classes_[1]``), (N, K) with K > 2 (one column per class).

        In the dtype of ``X`` when ``X`` is float32 or float64.
        """
        X = validate_data(self, X, reset=False)
        coef = self.coef_.astype(X.dtype, copy=False)
        if coef.ndim == 1:
            return X @ coef + X.dtype.type(self.intercept_)
        return X @ coef.T + np.asarray(self.intercept_).astype(X.dtype)

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where ``w·x + b ≥ 0``, else ``classes_[0]`` (two classes); the
        class of the largest score (K > 2). Shape (N,)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _ovr_proba(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities from sigmoid scores: ``[1 - p, p]`` (binary); the per-class
        ``σ(sₖ)`` normalized to sum to 1 (one-vs-rest, as scikit-learn's)."""
        if scores.ndim == 1:
            p1 = sigmoid(scores)
            return np.stack([1 - p1, p1], axis=1)
        p = sigmoid(scores)
        total = p.sum(axis=1, keepdims=True)
        return np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total > 0)


# the name of the binary mixin before one-vs-rest (kept for imports)
LinearBinaryClassifier = LinearClassifier
