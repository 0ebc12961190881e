"""scikit-learn estimators built from numnet modules: ``MLPClassifier``, ``MLPRegressor``,
``ConvNetClassifier``.

They follow scikit-learn's conventions (``fit``/``predict``/``predict_proba``/``score``,
``get_params``/``set_params``, fitted attributes ending in ``_``, ``random_state``) and
pass ``sklearn.utils.estimator_checks.check_estimator``, so they work in ``Pipeline``,
``GridSearchCV``, ``cross_val_score`` and ``clone``. Training is :func:`numnet.train.fit`
(minibatch Adam or SGD, float32 by default); the fitted network is ``model_``, a
:class:`numnet.nn.Sequential` that :func:`numnet.save` writes (and ``est.save(path)`` /
``MLPClassifier.load(path)`` save and restore the whole estimator, never with pickle).

scikit-learn itself is optional: without it the estimators still work (with numnet's
own ``get_params``/``set_params`` and :func:`clone`). The classic models of
:mod:`numnet.classic` are scikit-learn estimators too, and are re-exported here.

See ``docs/sklearn.md``.
"""

from numnet.classic import (
    LDA,
    KNeighborsClassifier,
    LinearSVM,
    LogisticRegression,
    Perceptron,
    RandomPairProducts,
    SoftmaxRegression,
)
from numnet.classic._estimator import HAVE_SKLEARN, NotFittedError, clone
from numnet.sklearn._mlp import (
    ConvNetClassifier,
    MLPClassifier,
    MLPRegressor,
    expected_failed_checks,
)

__all__ = [
    "HAVE_SKLEARN",
    "LDA",
    "ConvNetClassifier",
    "KNeighborsClassifier",
    "LinearSVM",
    "LogisticRegression",
    "MLPClassifier",
    "MLPRegressor",
    "NotFittedError",
    "Perceptron",
    "RandomPairProducts",
    "SoftmaxRegression",
    "clone",
    "expected_failed_checks",
]
