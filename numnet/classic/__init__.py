"""Classic models from the seeds, as small scikit-learn-style estimators in NumPy.

Threshold logic units and Boolean networks, Rosenblatt's perceptron and its
``4R²/γ²`` bound, LDA in closed form, logistic and softmax regression by gradient
descent, the hinge SVM (the perceptron and the SVM are the hinge family at thresholds
0 and 1), feature maps and k-nearest neighbours (seed 002; seeds 001, 003 and 004).

Every estimator has ``fit(X, y)``, ``predict``, ``score`` and, where it means
something, ``decision_function`` and ``predict_proba``; learned attributes end in
``_``; randomness comes from ``random_state`` (an int, a ``numpy.random.Generator``, a
``SeedSequence`` or None, which means numnet's default generator, re-seeded by
:func:`numnet.manual_seed`), never from the global ``np.random``. ``X`` is ``(N, D)``;
float32 stays float32.
"""

from numnet.classic._base import sigmoid
from numnet.classic.bound import margin, max_margin, perceptron_bound, radius
from numnet.classic.features import (
    RandomPairProducts,
    pairwise_products,
    polynomial_features,
    xor_features,
)
from numnet.classic.hinge import hinge_loss, hinge_subgradient
from numnet.classic.knn import KNeighborsClassifier
from numnet.classic.lda import LDA
from numnet.classic.logistic import LogisticRegression
from numnet.classic.perceptron import Perceptron
from numnet.classic.softmax import SoftmaxRegression
from numnet.classic.svm import LinearSVM
from numnet.classic.threshold import (
    ThresholdUnit,
    TLUNetwork,
    and_unit,
    not_unit,
    or_unit,
    truth_table,
    truth_table_network,
)

__all__ = [
    "LDA",
    "KNeighborsClassifier",
    "LinearSVM",
    "LogisticRegression",
    "Perceptron",
    "RandomPairProducts",
    "SoftmaxRegression",
    "TLUNetwork",
    "ThresholdUnit",
    "and_unit",
    "hinge_loss",
    "hinge_subgradient",
    "margin",
    "max_margin",
    "not_unit",
    "or_unit",
    "pairwise_products",
    "perceptron_bound",
    "polynomial_features",
    "radius",
    "sigmoid",
    "truth_table",
    "truth_table_network",
    "xor_features",
]
