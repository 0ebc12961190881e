"""k-NN: scikit-learn's KNeighborsClassifier, with a bounded distance matrix."""

import numpy as np
import pytest

from numnet.classic import KNeighborsClassifier
from numnet.classic.knn import pairwise_sq_distances

neighbors = pytest.importorskip("sklearn.neighbors")


@pytest.mark.parametrize("k", [1, 5, 11])
def test_matches_sklearn(k):
    rng = np.random.default_rng(k)
    X = rng.normal(size=(400, 6))
    y = np.array(["u", "v", "w"])[rng.integers(0, 3, 400)]
    X_test = rng.normal(size=(250, 6))
    ref = neighbors.KNeighborsClassifier(n_neighbors=k).fit(X, y)
    # a tiny memory budget forces many chunks
    ours = KNeighborsClassifier(k, max_memory=16 * 400 * 7).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test))
    dist, idx = ours.kneighbors(X_test)
    ref_dist, ref_idx = ref.kneighbors(X_test)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, atol=1e-10)
    assert ours.score(X_test, ref.predict(X_test)) == 1.0


def test_distances_by_hand_and_float32():
    A = np.array([[0.0, 0.0], [1.0, 1.0]])
    B = np.array([[3.0, 4.0], [1.0, 1.0]])
    # ‖(0,0) - (3,4)‖² = 25, ‖(0,0) - (1,1)‖² = 2, ‖(1,1) - (3,4)‖² = 13, itself 0
    np.testing.assert_allclose(pairwise_sq_distances(A, B), [[25, 2], [13, 0]])
    X = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    model = KNeighborsClassifier(3).fit(X, np.arange(50) % 2)
    assert model.kneighbors(X)[0].dtype == np.float32
    np.testing.assert_array_equal(model.kneighbors(X)[1][:, 0], np.arange(50))  # itself first


def test_errors():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="n_neighbors"):
        KNeighborsClassifier(6).fit(X, [0, 1, 0, 1, 0])
    model = KNeighborsClassifier(3).fit(X, [0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="not fitted"):
        KNeighborsClassifier().predict(X)
