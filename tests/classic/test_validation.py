"""Bad inputs raise clear errors, the same way for every estimator."""

import numpy as np
import pytest

from numnet.classic import (
    LDA,
    KNeighborsClassifier,
    LinearSVM,
    LogisticRegression,
    Perceptron,
    SoftmaxRegression,
)
from numnet.classic._validation import check_random_state, check_X

ESTIMATORS = [
    Perceptron,
    LDA,
    LogisticRegression,
    SoftmaxRegression,
    LinearSVM,
    KNeighborsClassifier,
]
X = np.random.default_rng(0).normal(size=(20, 2))
Y = np.where(np.arange(20) % 2 == 0, 1, -1)


@pytest.mark.parametrize("make", ESTIMATORS)
def test_bad_X_and_y(make):
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make().fit(bad, Y)
    with pytest.raises(ValueError, match="2-D"):
        make().fit(X[:, 0], Y)
    with pytest.raises(ValueError, match="different lengths"):
        make().fit(X, Y[:-1])
    with pytest.raises(ValueError, match="at least two classes"):
        make().fit(X, np.ones(20, int))
    with pytest.raises(TypeError, match="real numbers"):
        make().fit(X.astype(str), Y)
    with pytest.raises(ValueError, match="infinity"):
        make().fit(np.where(X > 1, np.inf, X), Y)
    with pytest.raises(RuntimeError, match="not fitted"):
        make().predict(X)


def test_integer_X_becomes_float64_and_float32_is_kept():
    assert check_X(np.ones((2, 2), int)).dtype == np.float64
    X32 = np.ones((2, 2), np.float32)
    assert check_X(X32) is X32  # no copy


def test_random_state():
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    assert check_random_state(3).integers(100) == np.random.default_rng(3).integers(100)
    with pytest.raises(TypeError, match="random_state"):
        check_random_state("seed")
