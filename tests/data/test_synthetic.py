"""Toy data generators: seeded, right shapes and dtypes, and the geometry they promise."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import circles, gaussian_blobs, noisy_function, spirals, two_moons, xor

CLASSIFIERS = {
    "xor": lambda n, g: xor(n, 0.2, generator=g),
    "two_moons": lambda n, g: two_moons(n, 0.1, generator=g),
    "circles": lambda n, g: circles(n, 0.05, generator=g),
    "spirals": lambda n, g: spirals(n, 3, generator=g),
    "blobs": lambda n, g: gaussian_blobs(n, [[0, 0], [3, 0], [0, 3]], 0.5, generator=g),
}


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classification_sets_are_seeded_with_right_shapes(name):
    make = CLASSIFIERS[name]
    X, y = make(101, 7)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    k = y.max() + 1
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 101 and k in (2, 3, 4)
    X2, y2 = make(101, 7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(101, 8)
    assert not np.array_equal(X, X3)
    X4, y4 = make(101, np.random.default_rng(7))  # a Generator is accepted too
    assert X4.shape == X.shape and y4.shape == y.shape
    # labels are shuffled, not in blocks
    assert (np.diff(y) != 0).sum() > 10


def test_no_global_numpy_random_state_is_used():
    # reads NumPy's legacy global state on purpose, to prove we never draw from it
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    for make in CLASSIFIERS.values():
        make(50, None)
    noisy_function("sine", 20, generator=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_xor_labels_are_xor_of_signs():
    X, y = xor(400, noise=0.2, generator=0)
    expected = (X[:, 0] > 0) ^ (X[:, 1] > 0)
    assert (expected == y.astype(bool)).mean() > 0.99
    X, y = xor(4, noise=0.0, generator=0)
    table = {(float(a), float(b)): int(c) for (a, b), c in zip(X, y)}
    assert table == {(-1.0, -1.0): 0, (-1.0, 1.0): 1, (1.0, -1.0): 1, (1.0, 1.0): 0}


def test_two_moons_geometry_without_noise():
    X, y = two_moons(200, noise=0.0, generator=1)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_circles_radii_without_noise():
    X, y = circles(100, noise=0.0, factor=0.3, generator=2)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        circles(10, factor=1.5)


def test_spirals_arms_rotate_by_class():
    X, y = spirals(300, n_classes=3, noise=0.0, generator=3)
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 1.0 + 1e-6
    theta = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * (r + y / 3)  # one turn, arm k offset by 2πk/3
    np.testing.assert_allclose(np.cos(theta - expected), 1.0, atol=1e-4)


def test_gaussian_blobs_match_means_and_shared_covariance():
    means = np.array([[0.0, 0.0], [4.0, 1.0]])
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    X, y = gaussian_blobs([6000, 2000], means, cov, generator=4)
    assert np.bincount(y).tolist() == [6000, 2000]  # counts set the priors
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), means[k], atol=0.1)
    centered = X - means[y]
    np.testing.assert_allclose(np.cov(centered.T), cov, atol=0.1)


def test_gaussian_blobs_degenerate_and_invalid_covariances():
    X, _ = gaussian_blobs(50, [[0, 0], [1, 1]], [[1.0, 1.0], [1.0, 1.0]], generator=5)
    np.testing.assert_allclose(X[:, 0], X[:, 1], atol=1e-5)  # all mass on the diagonal
    with pytest.raises(ValueError, match="positive semi-definite"):
        gaussian_blobs(10, [[0, 0]], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        gaussian_blobs(10, [[0, 0]], [[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="per-class counts"):
        gaussian_blobs([5], [[0, 0], [1, 1]])


def test_noisy_function_sine_and_callable():
    X, t = noisy_function("sine", 50, noise=0.0, generator=6)
    assert X.shape == (50, 1) and t.shape == (50, 1)
    assert X.dtype == np.float32 and t.dtype == np.float32
    assert -np.pi <= X.min() and X.max() <= np.pi
    np.testing.assert_allclose(t, np.sin(X), atol=1e-6)
    X, t = noisy_function(lambda x: 3 * x, 2000, noise=0.5, interval=(0, 2), generator=7)
    residual = t - 3 * X
    assert abs(residual.mean()) < 0.05 and abs(residual.std() - 0.5) < 0.05
    with pytest.raises(ValueError, match="unknown function 'cosh'"):
        noisy_function("cosh")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: xor(0), "n must be an integer >= 1"),
        (lambda: two_moons(10, noise=-1.0), "noise must be"),
        (lambda: spirals(10, 1), "n_classes must be >= 2"),
        (lambda: xor(10, generator="seed"), "expected an int seed"),
    ],
)
def test_invalid_arguments(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
