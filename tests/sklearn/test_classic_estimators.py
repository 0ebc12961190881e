"""The classic estimators in scikit-learn's tools: clone, Pipeline, GridSearchCV, OvR."""

import numpy as np
import pytest

from numnet.classic import (
    LDA,
    KNeighborsClassifier,
    LinearSVM,
    LogisticRegression,
    Perceptron,
    RandomPairProducts,
    SoftmaxRegression,
)

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

CLASSIFIERS = [
    Perceptron(),
    LDA(),
    LogisticRegression(),
    SoftmaxRegression(),
    LinearSVM(),
    KNeighborsClassifier(),
]


@pytest.mark.parametrize("est", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_multiclass_pipeline_and_cross_validation(est):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    scores = cross_val_score(make_pipeline(StandardScaler(), clone(est)), X, names, cv=3)
    # versicolor is not linearly separable from the rest: the perceptron's last iterate
    # (no averaging, no pocket) is the weakest of the models there
    assert scores.mean() > (0.6 if isinstance(est, Perceptron) else 0.75), scores
    fitted = clone(est).fit(StandardScaler().fit_transform(X), names)
    assert fitted.classes_.tolist() == names[[0, 50, 100]].tolist()
    assert fitted.n_features_in_ == 4


def test_grid_search_and_params():
    X, y = load_iris(return_X_y=True)
    grid = GridSearchCV(
        make_pipeline(RandomPairProducts(random_state=0), StandardScaler(), LinearSVM()),
        {"randompairproducts__n_products": [0, 6], "linearsvm__alpha": [1e-3, 1e-2]},
        cv=3,
    ).fit(X, y)
    assert grid.best_score_ > 0.85
    p = Perceptron(max_epochs=7, shuffle=True, random_state=2)
    assert p.get_params() == {
        "fit_intercept": True,
        "intercept_scaling": 1.0,
        "max_epochs": 7,
        "random_state": 2,
        "shuffle": True,
        "verbose": False,
    }
    assert repr(p) == "Perceptron(max_epochs=7, random_state=2, shuffle=True)"


def test_one_vs_rest_probabilities_and_decision():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for est in (LogisticRegression(lr=1.0), LinearSVM(), Perceptron()):
        est.fit(X, y)
        assert est.coef_.shape == (3, 4) and est.intercept_.shape == (3,)
        scores = est.decision_function(X)
        np.testing.assert_array_equal(est.predict(X), np.argmax(scores, axis=1))
    proba = LogisticRegression(lr=1.0).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the binary decision function has one column, positive for classes_[1]
    binary = SoftmaxRegression().fit(X[:100], y[:100])
    assert binary.decision_function(X[:100]).shape == (100,)
    np.testing.assert_array_equal(
        binary.predict(X[:100]), np.where(binary.decision_function(X[:100]) > 0, 1, 0)
    )


def test_sklearn_error_types():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(sklearn.exceptions.NotFittedError):
        Perceptron().predict(X)
    with pytest.raises(ValueError, match="Unknown label type"):
        LDA().fit(X, np.linspace(0, 1, 10))
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse

        LDA().fit(scipy.sparse.csr_matrix(X), np.arange(10) % 2)
    with pytest.warns(sklearn.exceptions.DataConversionWarning):
        LDA().fit(X, (np.arange(10) % 2)[:, None])
