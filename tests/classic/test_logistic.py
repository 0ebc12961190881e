"""Logistic and softmax regression by gradient descent against scikit-learn's optimum."""

import numpy as np
import pytest

from numnet.classic import LogisticRegression, SoftmaxRegression, sigmoid

sk_linear = pytest.importorskip("sklearn.linear_model")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    logits = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    y = (rng.random(300) < sigmoid(logits)).astype(int)  # noisy: the optimum is finite
    return X, y


def unpenalized(**kwargs):
    """scikit-learn's LogisticRegression without penalty, across its API versions."""
    try:
        return sk_linear.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000, **kwargs)
    except TypeError:  # pragma: no cover
        return sk_linear.LogisticRegression(penalty=None, tol=1e-12, max_iter=10_000, **kwargs)


def test_seed_gradient_by_hand():
    # one sample x = (1, 2), y = +1, at w = 0, b = 0: s = 0, u = y σ(-y s) = 1/2
    # ∂ℒ/∂b = -u = -1/2, ∂ℒ/∂w = -x u = (-1/2, -1); one step with η = 1:
    # w = (1/2, 1), b = 1/2
    model = LogisticRegression(lr=1.0, max_iter=1, reduction="sum")
    model.fit(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([1, -1]))
    # the second sample (0, 0), y = -1 adds u = -1/2 to ∂ℒ/∂b only: ∂ℒ/∂b = -1/2 + 1/2 = 0
    np.testing.assert_allclose(model.coef_, [0.5, 1.0])
    assert model.intercept_ == pytest.approx(0.0)
    assert model.loss_curve_[0] == pytest.approx(2 * np.log(2))  # -2 log σ(0)


def test_gradient_matches_finite_differences(data):
    X, y = data
    model = LogisticRegression(lr=1e-3, max_iter=1, alpha=0.1, init="normal", random_state=1)
    model.fit(X, y)
    # re-derive: the first step moved (w₀, b₀) by -η ∇ℒ; compare with a numerical gradient
    w0 = np.random.default_rng(1).standard_normal(3)
    y_pm = 2 * y - 1

    def loss(w, b):
        return -np.mean(np.log(sigmoid(y_pm * (X @ w + b)))) + 0.1 * w @ w

    eps = 1e-6
    num_w = [(loss(w0 + eps * e, 0) - loss(w0 - eps * e, 0)) / (2 * eps) for e in np.eye(3)]
    num_b = (loss(w0, eps) - loss(w0, -eps)) / (2 * eps)
    np.testing.assert_allclose((w0 - model.coef_) / 1e-3, num_w, rtol=1e-6)
    assert -model.intercept_ / 1e-3 == pytest.approx(num_b, rel=1e-6)


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)])
def test_matches_sklearn_unpenalized(data, labels):
    X, y01 = data
    y = np.where(y01 == 1, labels[1], labels[0])
    ref = unpenalized().fit(X, y)
    ours = LogisticRegression(lr=1.0, max_iter=20_000, tol=1e-10).fit(X, y)
    assert ours.n_iter_ < 20_000  # converged on the gradient tolerance
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], rtol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], rel=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_array_equal(ours.classes_, labels)


def test_l2_matches_sklearn(data):
    X, y = data
    C = 0.05  # sklearn: ½‖w‖² + C Σ ℓ  ⇔  (1/N) Σ ℓ + λ‖w‖² with λ = 1/(2CN)
    ref = sk_linear.LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    ours = LogisticRegression(lr=1.0, max_iter=20_000, tol=1e-10, alpha=1 / (2 * C * len(X)))
    ours.fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], rtol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_[0], rel=1e-6)


def test_sum_reduction_and_loss_decreases(data):
    X, y = data
    X, y = X[:100], y[:100]
    model = LogisticRegression(
        lr=0.01, max_iter=2000, reduction="sum", tol=0, init="normal", random_state=0
    )
    model.fit(X, y)
    curve = np.array(model.loss_curve_)
    assert len(curve) == 2001
    assert np.all(np.diff(curve) <= 1e-12)  # small steps on a convex loss: monotone
    ref = unpenalized().fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_[0], rtol=1e-4)


def test_float32(data):
    X, y = data
    model = LogisticRegression(lr=1.0, max_iter=2000).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert model.predict_proba(X.astype(np.float32)).dtype == np.float32
    ref = unpenalized().fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_[0], rtol=1e-3)


def test_softmax_matches_sklearn_multinomial():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 400)
    X = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    labels = np.array(["a", "b", "c"])[y]
    ref = unpenalized().fit(X, labels)
    ours = SoftmaxRegression(lr=1.0, max_iter=20_000, tol=1e-10).fit(X, labels)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)
    assert ours.score(X, labels) == pytest.approx(ref.score(X, labels))


def test_softmax_l2_and_binary_case(data):
    X, y = data
    C = 0.1
    ref = sk_linear.LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    ours = SoftmaxRegression(lr=1.0, max_iter=20_000, tol=1e-10, alpha=1 / (2 * C * len(X)))
    ours.fit(X, y)
    # two classes: softmax with w₀, w₁ is the sigmoid with w = w₁ - w₀; penalizing both
    # halves the effective λ, hence the factor 2 on C
    ref2 = sk_linear.LogisticRegression(C=2 * C, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_[1] - ours.coef_[0], ref2.coef_[0], rtol=1e-5)
    assert ref.coef_.shape == (1, 3)


def test_bad_inputs(data):
    X, y = data
    # any two labels (the larger is positive); K > 2 classes: one-vs-rest
    shifted = LogisticRegression(max_iter=50).fit(X, y + 1)
    np.testing.assert_array_equal(shifted.coef_, LogisticRegression(max_iter=50).fit(X, y).coef_)
    ovr = LogisticRegression(max_iter=50).fit(X, np.arange(len(y)) % 3)
    assert ovr.coef_.shape == (3, 3) and ovr.n_iter_.shape == (3,)
    np.testing.assert_allclose(ovr.predict_proba(X).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, y + 0.5)
    with pytest.raises(ValueError, match="lr"):
        LogisticRegression(lr=0).fit(X, y)
    with pytest.raises(ValueError, match="reduction"):
        SoftmaxRegression(reduction="max").fit(X, y)
    with pytest.raises(ValueError, match="at least two classes"):
        SoftmaxRegression().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="features"):
        LogisticRegression(max_iter=5).fit(X, y).predict(X[:, :2])
