"""Input checks shared by the classic estimators, with errors that say what to fix.

Every estimator validates its inputs the same way (scikit-learn's conventions):

- ``X`` is a 2-D array ``(N, D)`` of finite real numbers. ``float32`` and ``float64``
  arrays are kept as they are (no copy, no upcast: MNIST stays ``float32``); booleans
  and integers become ``float64``.
- ``y`` is 1-D with one label per row of ``X``.
- the label set is the one the model needs (``{-1, +1}`` for the perceptron and the
  hinge SVM, ``{-1, +1}`` or ``{0, 1}`` for the binary logistic models), with at least
  two classes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = [
    "check_X",
    "check_X_y",
    "check_binary_labels",
    "check_classes",
    "check_fitted",
    "check_random_state",
]

RandomState = int | np.random.Generator | None


def check_X(X, *, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Return ``X`` as a 2-D finite float array of shape ``(N, D)``.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, is empty, holds NaN/inf, or has the wrong number of columns.
    TypeError
        If ``X`` is not numeric (strings, objects, complex numbers).
    """
    X = np.asarray(X)
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    elif X.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    elif X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.ndim != 2:
        hint = " (reshape a single feature with X.reshape(-1, 1))" if X.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}{hint}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sample and one feature, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but the estimator was fitted with {n_features}"
        )
    return X


def check_X_y(X, y, *, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` (see :func:`check_X`) and a 1-D label vector ``y`` of matching length."""
    X = check_X(X, name=name)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} and y have different lengths: {X.shape[0]} samples vs {y.shape[0]} labels"
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity")
    return X, y


def check_classes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, y_index)``: the sorted distinct labels and each label's index.

    Raises
    ------
    ValueError
        If ``y`` holds fewer than two classes.
    """
    classes, y_index = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y must hold at least two classes, got only {classes.tolist()} "
            "(a classifier cannot learn from one class)"
        )
    return classes, y_index


def check_binary_labels(
    y: np.ndarray, *, allowed: Iterable[tuple[int, int]] = ((-1, 1),)
) -> tuple[np.ndarray, np.ndarray]:
    """Check a two-class label vector against the label sets a model accepts.

    Parameters
    ----------
    y : ndarray, shape (N,)
        The labels.
    allowed : iterable of (negative, positive) pairs
        The accepted label sets, e.g. ``((-1, 1), (0, 1))``.

    Returns
    -------
    classes : ndarray, shape (2,)
        ``[negative, positive]``, in the dtype of ``y``.
    y_pm : ndarray, shape (N,)
        The labels mapped to ``-1.0`` / ``+1.0`` (float64; cast it to ``X``'s dtype).
    """
    allowed = tuple(tuple(pair) for pair in allowed)
    classes, y_index = check_classes(y)
    values = classes.tolist()
    sets = " or ".join("{" + f"{a}, {b}" + "}" for a, b in allowed)
    if len(values) != 2:
        raise ValueError(f"this model is binary and needs labels in {sets}; got classes {values}")
    if not any(values[0] == a and values[1] == b for a, b in allowed):
        raise ValueError(f"labels must be {sets}; got classes {values}")
    y_pm = np.where(y_index == 1, 1.0, -1.0)
    return classes, y_pm


def check_fitted(estimator, attribute: str = "coef_") -> None:
    """Raise a clear error if ``estimator`` has not been fitted yet."""
    if not hasattr(estimator, attribute):
        raise RuntimeError(
            f"this {type(estimator).__name__} is not fitted yet: call fit(X, y) first"
        )


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``None``, an int seed or a ``Generator`` into a ``numpy.random.Generator``.

    ``None`` gives fresh OS entropy; the global ``np.random`` state is never used.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be None, an int or a numpy.random.Generator, got {random_state!r}"
    )
