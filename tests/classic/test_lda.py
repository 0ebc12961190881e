"""LDA: the seed's closed form, worked by hand, and scikit-learn's LinearDiscriminantAnalysis."""

import numpy as np
import pytest

from numnet.classic import LDA


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_hand_worked_closed_form():
    # class 0: (0, 0), (2, 0), (0, 2), (2, 2) -> μ₀ = (1, 1)
    # class 1: (3, 1), (5, 1), (3, 3), (5, 3) -> μ₁ = (4, 2)
    # every centred point is (±1, ±1): pooled Σ = (1/8) Σ (±1, ±1)(±1, ±1)ᵀ = I
    # w = Σ⁻¹(μ₁ - μ₀) = (3, 1)
    # b = ½(μ₀ᵀμ₀ - μ₁ᵀμ₁) + log(4/4) = ½(2 - 20) = -9
    X = np.array([[0, 0], [2, 0], [0, 2], [2, 2], [3, 1], [5, 1], [3, 3], [5, 3]], float)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    lda = LDA().fit(X, y)
    np.testing.assert_allclose(lda.means_, [[1, 1], [4, 2]])
    np.testing.assert_allclose(lda.covariance_, np.eye(2), atol=1e-15)
    np.testing.assert_allclose(lda.coef_, [3, 1], atol=1e-12)
    assert lda.intercept_ == pytest.approx(-9.0)
    # with priors 1/4, 3/4 the bias moves by log 3
    lda_p = LDA(priors=(1, 3)).fit(X, y)
    assert lda_p.intercept_ == pytest.approx(-9.0 + np.log(3.0))
    # P(Y=1 | x) = σ(w·x + b); at x = (2.5, 1.5): 7.5 + 1.5 - 9 = 0 -> 1/2
    np.testing.assert_allclose(lda.predict_proba([[2.5, 1.5]]), [[0.5, 0.5]])


def test_closed_form_on_random_data(rng):
    X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    y = (rng.random(300) < 0.3).astype(int)
    X[y == 1] += [1.0, -0.5, 0.2, 0.0]
    lda = LDA().fit(X, y)
    mu0, mu1 = X[y == 0].mean(0), X[y == 1].mean(0)
    centred = np.where((y == 1)[:, None], X - mu1, X - mu0)
    sigma = centred.T @ centred / len(X)
    w = np.linalg.solve(sigma, mu1 - mu0)
    b = 0.5 * (mu0 @ np.linalg.solve(sigma, mu0) - mu1 @ np.linalg.solve(sigma, mu1))
    b += np.log(np.mean(y == 1) / np.mean(y == 0))
    np.testing.assert_allclose(lda.coef_, w, rtol=1e-10)
    assert lda.intercept_ == pytest.approx(b, rel=1e-10)


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)])
def test_matches_sklearn_lsqr(rng, labels):
    da = pytest.importorskip("sklearn.discriminant_analysis")
    X = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5))
    y01 = (rng.random(500) < 0.4).astype(int)
    X[y01 == 1] += rng.normal(size=5)
    y = np.where(y01 == 1, labels[1], labels[0])
    ours = LDA().fit(X, y)
    ref = da.LinearDiscriminantAnalysis(solver="lsqr", shrinkage=None).fit(X, y)
    # up to scale: same direction
    cos = ours.coef_ @ ref.coef_[0] / np.linalg.norm(ours.coef_) / np.linalg.norm(ref.coef_[0])
    assert cos == pytest.approx(1.0, abs=1e-12)
    # and with the maximum-likelihood Σ, equal
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], rtol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], rel=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.score(X, y) == pytest.approx(ref.score(X, y))


def test_float32_and_singular_covariance(rng):
    X = rng.random((200, 5)).astype(np.float32)
    X[:, 0] = 0  # a constant pixel: Σ is singular
    y = (X[:, 1] + X[:, 2] > 1).astype(int)
    lda = LDA().fit(X, y)
    assert np.isfinite(lda.coef_).all()
    assert lda.decision_function(X).dtype == np.float32
    assert lda.score(X, y) > 0.9
    assert np.isfinite(LDA(shrinkage=0.1).fit(X, y).coef_).all()


def test_any_labels_and_multiclass(rng):
    X = rng.normal(size=(6, 2))
    # any two labels: the larger is the positive class, same model as {0, 1}
    a, b = LDA().fit(X, [1, 2, 1, 2, 1, 2]), LDA().fit(X, [0, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.classes_, [1, 2])
    with pytest.raises(ValueError, match="shrinkage"):
        LDA(shrinkage=2).fit(X, [0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="priors"):
        LDA(priors=(1, 2)).fit(X, [0, 1, 2, 0, 1, 2])


def test_multiclass_matches_sklearn(rng):
    da = pytest.importorskip("sklearn.discriminant_analysis")
    y = rng.integers(0, 4, 400)
    X = rng.normal(size=(400, 3)) + 2.0 * rng.normal(size=(4, 3))[y]
    labels = np.array(["a", "b", "c", "d"])[y]
    ours = LDA().fit(X, labels)
    ref = da.LinearDiscriminantAnalysis(solver="lsqr").fit(X, labels)
    assert ours.coef_.shape == (4, 3) and ours.intercept_.shape == (4,)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
