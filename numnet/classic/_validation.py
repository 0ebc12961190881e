"""Input checks shared by the classic estimators, with errors that say what to fix.

Every estimator validates its inputs the same way (scikit-learn's conventions, and
its error messages where scikit-learn's common checks look for them):

- ``X`` is a 2-D array ``(N, D)`` of finite real numbers. ``float32`` and ``float64``
  arrays are kept as they are (no copy, no upcast: MNIST stays ``float32``); booleans,
  integers and numeric object arrays become ``float64``. Sparse matrices, complex and
  string data are refused. ``fit`` records ``n_features_in_`` (and, for a DataFrame with
  string column names, ``feature_names_in_``); ``predict`` and friends check them.
- ``y`` is 1-D with one label per row of ``X`` (a column vector is raveled with a
  ``DataConversionWarning``), finite, and for a classifier made of class labels
  (``"Unknown label type"`` for continuous targets), with at least two classes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from numnet.classic._estimator import DataConversionWarning, NotFittedError
from numnet.random import check_random_state

__all__ = [
    "check_X",
    "check_X_y",
    "check_binary_labels",
    "check_classes",
    "check_classification_targets",
    "check_fitted",
    "check_random_state",
    "validate_data",
]

#: What a ``random_state=`` may be (see :func:`numnet.random.check_random_state`).
RandomState = int | np.random.Generator | np.random.SeedSequence | None


def _is_sparse(X) -> bool:
    return hasattr(X, "tocsr") or hasattr(X, "toarray") and hasattr(X, "nnz")


def check_X(
    X,
    *,
    name: str = "X",
    n_features: int | None = None,
    estimator=None,
    allow_nd: bool = False,
    dtype=None,
) -> np.ndarray:
    """Return ``X`` as a finite float array of shape ``(N, D)`` (``(N, ...)`` with ``allow_nd``).

    Parameters
    ----------
    n_features : int, optional
        The number of features the estimator was fitted with (checked).
    estimator : object, optional
        Named in the error messages.
    dtype : numpy dtype, optional
        Convert to it (otherwise float32/float64 are kept and the rest becomes float64).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, is empty, holds NaN/inf or complex numbers, or has the wrong
        number of features.
    TypeError
        If ``X`` is sparse or not numeric (strings).
    """
    if _is_sparse(X):
        raise TypeError(
            f"{name} is a sparse matrix, and sparse input is not supported: pass a dense "
            f"array ({name}.toarray())"
        )
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}")
    if X.dtype.kind == "O":
        X = X.astype(np.float64)  # numbers in an object array; TypeError for the rest
        if np.iscomplexobj(X):  # pragma: no cover - astype(float) refuses complex
            raise ValueError("Complex data not supported")
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    elif X.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    elif X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if dtype is not None:
        X = X.astype(dtype, copy=False)
    if X.ndim != 2 and not (allow_nd and X.ndim > 2):
        hint = (
            ". Reshape your data: X.reshape(-1, 1) if it holds a single feature, "
            "X.reshape(1, -1) if it holds a single sample"
            if X.ndim == 1
            else ""
        )
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}{hint}")
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
            f"required: {name} must have at least one sample"
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
            f"required: {name} must have at least one feature"
        )
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if n_features is not None:
        got = int(np.prod(X.shape[1:]))
        if got != n_features:
            who = type(estimator).__name__ if estimator is not None else "the estimator"
            raise ValueError(
                f"X has {got} features, but {who} is expecting {n_features} features as "
                "input (the number of features it was fitted with)"
            )
    return X


def check_X_y(
    X, y, *, name: str = "X", estimator=None, multi_output: bool = False, allow_nd: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` (see :func:`check_X`) and a label vector ``y`` of matching length.

    ``multi_output`` allows a 2-D ``y`` (regression targets); otherwise an ``(N, 1)``
    ``y`` is raveled with a ``DataConversionWarning``, as in scikit-learn.
    """
    if y is None:
        who = type(estimator).__name__ if estimator is not None else "this estimator"
        raise ValueError(f"{who} requires y to be passed, but the target y is None")
    X = check_X(X, name=name, estimator=estimator, allow_nd=allow_nd)
    if _is_sparse(y):
        raise TypeError("y is a sparse matrix, and sparse input is not supported")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim != 1 and not (multi_output and y.ndim == 2):
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} and y have different lengths: {X.shape[0]} samples vs {y.shape[0]} labels"
        )
    if y.dtype.kind == "O":
        try:
            y_num = y.astype(np.float64)
        except (TypeError, ValueError):
            y_num = None
        if y_num is not None and not np.isfinite(y_num).all():
            raise ValueError("Input y contains NaN or infinity")
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or infinity")
    return X, y


def check_classification_targets(y: np.ndarray) -> None:
    """Refuse targets that are not class labels (scikit-learn's "Unknown label type")."""
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError(
            "Unknown label type: continuous. A classifier needs class labels (integers, "
            "strings...), not real-valued targets: use a regressor, or bin y"
        )
    if y.dtype.kind == "O":
        kinds = {type(v) for v in y.tolist()}
        if len(kinds) > 1 and not all(issubclass(k, (int, np.integer)) for k in kinds):
            raise ValueError(
                f"Unknown label type: mixed types {sorted(k.__name__ for k in kinds)} in y"
            )


def check_classes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, y_index)``: the sorted distinct labels and each label's index.

    Raises
    ------
    ValueError
        If ``y`` holds continuous values or fewer than two classes.
    """
    check_classification_targets(y)
    classes, y_index = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y must hold at least two classes, got only one class: {classes.tolist()} "
            "(a classifier cannot learn from one class)"
        )
    return classes, y_index.reshape(-1)


def check_binary_labels(
    y: np.ndarray, *, allowed: Iterable[tuple[int, int]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Check a two-class label vector, optionally against the label sets a model accepts.

    Parameters
    ----------
    y : ndarray, shape (N,)
        The labels.
    allowed : iterable of (negative, positive) pairs, optional
        The accepted label sets, e.g. ``((-1, 1), (0, 1))``; None accepts any two labels
        (the larger one, ``classes[1]``, is the positive class).

    Returns
    -------
    classes : ndarray, shape (2,)
        ``[negative, positive]``, in the dtype of ``y``.
    y_pm : ndarray, shape (N,)
        The labels mapped to ``-1.0`` / ``+1.0`` (float64; cast it to ``X``'s dtype).
    """
    classes, y_index = check_classes(y)
    values = classes.tolist()
    if len(values) != 2:
        raise ValueError(f"Only binary classification is supported here; got classes {values}")
    if allowed is not None:
        allowed = tuple(tuple(pair) for pair in allowed)
        sets = " or ".join("{" + f"{a}, {b}" + "}" for a, b in allowed)
        if not any(values[0] == a and values[1] == b for a, b in allowed):
            raise ValueError(f"labels must be {sets}; got classes {values}")
    y_pm = np.where(y_index == 1, 1.0, -1.0)
    return classes, y_pm


def check_fitted(estimator, attribute: str = "coef_") -> None:
    """Raise :class:`NotFittedError` if ``estimator`` has not been fitted yet."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet: call fit(X, y) first"
        )


# -- n_features_in_ and feature_names_in_ (scikit-learn's validate_data) ------------------
def _feature_names(X) -> np.ndarray | None:
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) == 0 or not all(isinstance(n, str) for n in names):
        return None
    return names


def _check_feature_names(estimator, X, *, reset: bool) -> None:
    names = _feature_names(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    who = type(estimator).__name__
    if fitted is None and names is None:
        return
    if fitted is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {who} was fitted with feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if fitted is None:
        warnings.warn(
            f"X has feature names, but {who} was fitted without feature names",
            UserWarning,
            stacklevel=4,
        )
        return
    if len(fitted) != len(names) or np.any(fitted != names):
        unseen = sorted(set(names) - set(fitted))
        missing = sorted(set(fitted) - set(names))
        message = "The feature names should match those that were passed during fit.\n"
        if unseen:
            message += "Feature names unseen at fit time:\n" + "".join(f"- {n}\n" for n in unseen)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + "".join(
                f"- {n}\n" for n in missing
            )
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)


def validate_data(estimator, X, y=None, *, reset: bool, multi_output=False, allow_nd=False):
    """Validate ``X`` (and ``y``) for ``estimator``: on ``reset`` (``fit``) record
    ``n_features_in_`` and ``feature_names_in_``; otherwise check them.

    Returns ``X`` or ``(X, y)``.
    """
    _check_feature_names(estimator, X, reset=reset)
    if reset:
        if y is None and getattr(estimator, "_requires_y", True):
            check_X_y(X, None, estimator=estimator)  # raises the "requires y" error
        if y is None:
            X = check_X(X, estimator=estimator, allow_nd=allow_nd)
        else:
            X, y = check_X_y(
                X, y, estimator=estimator, multi_output=multi_output, allow_nd=allow_nd
            )
        estimator.n_features_in_ = int(np.prod(X.shape[1:]))
        return X if y is None else (X, y)
    check_fitted(estimator, "n_features_in_")
    X = check_X(X, n_features=estimator.n_features_in_, estimator=estimator, allow_nd=allow_nd)
    if y is None:
        return X
    _, y = check_X_y(X, y, estimator=estimator, multi_output=multi_output, allow_nd=allow_nd)
    return X, y
