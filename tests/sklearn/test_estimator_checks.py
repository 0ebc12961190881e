"""Every numnet estimator passes scikit-learn's common checks (``check_estimator``).

Checks that cannot apply are listed by :func:`numnet.sklearn.expected_failed_checks`,
each with its reason (scikit-learn >= 1.6), or by the ``_xfail_checks`` tag (older).
"""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from numnet.classic import (  # noqa: E402
    LDA,
    KNeighborsClassifier,
    LinearSVM,
    LogisticRegression,
    Perceptron,
    RandomPairProducts,
    SoftmaxRegression,
)
from numnet.sklearn import (  # noqa: E402
    ConvNetClassifier,
    MLPClassifier,
    MLPRegressor,
    expected_failed_checks,
)

ESTIMATORS = [
    Perceptron(),
    LDA(),
    LogisticRegression(),
    SoftmaxRegression(),
    LinearSVM(),
    KNeighborsClassifier(),
    RandomPairProducts(),
    MLPClassifier(random_state=0),
    MLPRegressor(random_state=0),
    # a smaller ConvNet than the default (32, 64) channels, to keep the checks fast
    ConvNetClassifier(channels=(4, 8), hidden_layer_sizes=(32,), random_state=0),
]

try:
    checks = parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
except TypeError:  # scikit-learn < 1.6: the _xfail_checks tag
    checks = parametrize_with_checks(ESTIMATORS)


@checks
def test_sklearn_common_checks(estimator, check):
    check(estimator)
