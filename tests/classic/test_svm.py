"""The hinge SVM by subgradient descent against scikit-learn's exact solvers."""

import warnings

import numpy as np
import pytest

from numnet.classic import LinearSVM, hinge_loss, hinge_subgradient

svm = pytest.importorskip("sklearn.svm")


def noisy_linear(seed, n=200, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X @ np.linspace(1, -0.5, d) + 0.3 * rng.normal(size=n) + 0.2 > 0, 1, -1)
    return X, y


def objective(X, y, lam, w, b):
    return lam * w @ w + np.mean(np.maximum(0, 1 - y * (X @ w + b)))


@pytest.mark.parametrize("lam", [0.1, 0.01])
def test_matches_svc_objective_and_decision(lam):
    X, y = noisy_linear(1)
    N = len(X)
    # λ‖w‖² + (1/N) Σ hinge  ⇔  ½‖w‖² + C Σ hinge with C = 1/(2λN); SVC leaves b unpenalized
    ref = svm.SVC(kernel="linear", C=1 / (2 * lam * N), tol=1e-10).fit(X, y)
    ours = LinearSVM(alpha=lam, max_iter=5000).fit(X, y)
    f_ref = objective(X, y, lam, ref.coef_[0], ref.intercept_[0])
    assert objective(X, y, lam, ours.coef_, ours.intercept_) == pytest.approx(f_ref, rel=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=0.02)
    np.testing.assert_array_equal(np.sort(ours.support_), np.sort(ref.support_))
    np.testing.assert_array_equal(ours.support_vectors_, X[ours.support_])


def test_close_to_linear_svc():
    X, y = noisy_linear(2)
    lam = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear may warn about its iteration count
        ref = svm.LinearSVC(
            loss="hinge", C=1 / (2 * lam * len(X)), intercept_scaling=10, tol=1e-10, max_iter=10**5
        ).fit(X, y)
    ours = LinearSVM(alpha=lam).fit(X, y)
    scale = np.abs(ref.decision_function(X)).max()
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), atol=0.02 * scale
    )
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.98


def test_hinge_family_thresholds():
    # margins m = (-1, 0, 0.5, 1, 2): t = 0 -> max(0, -m) = (1, 0, 0, 0, 0), mean 0.2
    m = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert hinge_loss(m, 0.0) == pytest.approx(0.2)
    # t = 1 -> (2, 1, 0.5, 0, 0), mean 0.7
    assert hinge_loss(m, 1.0) == pytest.approx(0.7)
    X = np.arange(10.0).reshape(5, 2)
    y = np.array([1.0, -1, 1, -1, 1])
    # t = 0: samples 0, 1 violate (m ≤ 0): -(1/5)(x₀ - x₁) = -(1/5)(-2, -2)
    gw, gb = hinge_subgradient(X, y, m, 0.0)
    np.testing.assert_allclose(gw, [0.4, 0.4])
    assert gb == pytest.approx(0.0)
    # t = 1: samples 0..3 violate: -(1/5)(x₀ - x₁ + x₂ - x₃) = (0.8, 0.8), b: -(1/5)(0) = 0
    gw, gb = hinge_subgradient(X, y, m, 1.0)
    np.testing.assert_allclose(gw, [0.8, 0.8])


def test_float32_and_errors():
    X, y = noisy_linear(3)
    model = LinearSVM(max_iter=200).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert model.score(X.astype(np.float32), y) > 0.85
    # {0, 1} labels: the same model as {-1, 1}
    np.testing.assert_allclose(
        LinearSVM(max_iter=200).fit(X, (y + 1) // 2).coef_, LinearSVM(max_iter=200).fit(X, y).coef_
    )
    with pytest.raises(ValueError, match="alpha"):
        LinearSVM(alpha=0).fit(X, y)
