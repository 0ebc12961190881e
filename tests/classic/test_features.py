"""Feature maps: shapes and values worked by hand."""

import numpy as np
import pytest

from numnet.classic import (
    Perceptron,
    RandomPairProducts,
    pairwise_products,
    polynomial_features,
    xor_features,
)


def test_polynomial_by_hand():
    # Φ(x) = (1, x, x², x³): x = 2 -> (1, 2, 4, 8); x = -1 -> (1, -1, 1, -1)
    np.testing.assert_array_equal(
        polynomial_features([2.0, -1.0], 3), [[1, 2, 4, 8], [1, -1, 1, -1]]
    )
    assert polynomial_features(np.zeros(5), 0).shape == (5, 1)
    # two columns: (1, x₁, x₂, x₁², x₂²)
    np.testing.assert_array_equal(polynomial_features([[2.0, 3.0]], 2), [[1, 2, 3, 4, 9]])
    # α·Φ(x) evaluates the polynomial Σ α_d x^d
    alpha = np.array([1.0, -2.0, 0.5])
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(polynomial_features(x, 2) @ alpha, 1 - 2 * x + 0.5 * x**2)
    with pytest.raises(ValueError, match="degree"):
        polynomial_features(x, -1)


def test_pairwise_products_by_hand():
    # x = (1, 2, 3): products (0,0)=1 (0,1)=2 (0,2)=3 (1,1)=4 (1,2)=6 (2,2)=9
    out = pairwise_products([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(out, [[1, 2, 3, 1, 2, 3, 4, 6, 9]])
    assert pairwise_products(np.ones((4, 5)), include_input=False).shape == (4, 15)


def test_xor_map_makes_xor_separable():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    # the seed's points: (1,1) -> (1,1,1), (0,0) -> (0,0,0), (1,0) -> (1,0,0)
    np.testing.assert_array_equal(xor_features(X), [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]])
    y = np.array([-1, 1, 1, -1])
    assert not Perceptron(max_epochs=100).fit(X, y).converged_
    p = Perceptron(max_epochs=100).fit(xor_features(X), y)
    assert p.converged_ and p.score(xor_features(X), y) == 1.0
    with pytest.raises(ValueError, match="two inputs"):
        xor_features(np.ones((2, 3)))


def test_random_pair_products():
    rng = np.random.default_rng(0)
    X = rng.random((20, 6)).astype(np.float32)
    maps = RandomPairProducts(300, random_state=3)
    out = maps.fit_transform(X)
    assert out.shape == (20, 306) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, :6], X)
    i_j = maps.pairs_
    i, j = i_j.T
    assert np.all(i != j) and i.min() >= 0 and j.max() < 6
    np.testing.assert_allclose(out[:, 6:], X[:, i] * X[:, j])
    # every pair of distinct features shows up: uniform over j ≠ i
    assert len({(a, b) for a, b in maps.pairs_.tolist()}) == 30
    # reproducible from the seed; a Generator works too
    again = RandomPairProducts(300, random_state=np.random.default_rng(3)).fit(X)
    np.testing.assert_array_equal(again.pairs_, maps.pairs_)
    # nested draws: a smaller draw is a prefix of a larger one
    np.testing.assert_array_equal(RandomPairProducts(7, random_state=3).fit(X).pairs_, i_j[:7])
    only = RandomPairProducts(4, include_input=False, random_state=0).fit(X)
    assert only.transform(X).shape == (20, 4)
    assert RandomPairProducts(0).fit_transform(X).shape == (20, 6)
    with pytest.raises(ValueError, match="features"):
        maps.transform(X[:, :5])
