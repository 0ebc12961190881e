"""The perceptron: the seed's algorithm, its 4R²/γ² bound, its log and its limits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet.classic import Perceptron, margin, max_margin, perceptron_bound, radius


def separable(seed: int, n: int = 60, d: int = 3, gap: float = 0.3, scale: float = 1.0):
    """Points kept only if their distance to a random hyperplane is at least ``gap``."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=d), rng.normal() * 0.5
    w /= np.linalg.norm(w)
    X = rng.normal(size=(4 * n, d))
    s = X @ w + b
    keep = np.flatnonzero(np.abs(s) >= gap)[:n]
    return scale * X[keep], np.where(s[keep] > 0, 1, -1), w, scale * b


def reference_perceptron(X, y, max_epochs):
    """Seed 002's code, sample by sample, with the bias as a constant feature 1."""
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    w, updates = np.zeros(Xa.shape[1]), 0
    for _ in range(max_epochs):
        nb_changes = 0
        for i in range(Xa.shape[0]):
            if Xa[i].dot(w) * y[i] <= 0:
                w = w + y[i] * Xa[i]
                nb_changes += 1
        updates += nb_changes
        if nb_changes == 0:
            break
    return w, updates


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    d=st.integers(1, 6),
    gap=st.floats(0.05, 1.0),
    scale=st.sampled_from([0.01, 1.0, 100.0]),
)
def test_updates_within_bound_on_random_separable_sets(seed, d, gap, scale):
    X, y, w_true, b_true = separable(seed, d=d, gap=gap, scale=scale)
    if len(np.unique(y)) < 2:
        return
    # the constant feature scales with the data, so the bound is scale-invariant (seed 002)
    c = scale
    p = Perceptron(max_epochs=10_000, intercept_scaling=c).fit(X, y)
    assert p.converged_
    assert p.score(X, y) == 1.0
    R = radius(X, intercept_scaling=c)
    # any separator gives a valid bound; the max-margin one gives the tightest
    gamma_true = margin(X, y, w_true, b_true, intercept_scaling=c)
    gamma_star = max_margin(X, y, intercept_scaling=c)[2]
    assert gamma_star >= gamma_true * (1 - 1e-9) > 0
    assert p.n_updates_ <= perceptron_bound(R, gamma_star) <= perceptron_bound(R, gamma_true)


def test_matches_the_seed_code_exactly():
    for seed in range(10):
        X, y, _, _ = separable(seed, n=80, d=4, gap=0.05)
        p = Perceptron(max_epochs=1000).fit(X, y)
        w_ref, updates_ref = reference_perceptron(X, y, 1000)
        np.testing.assert_allclose(p.coef_, w_ref[:-1], atol=1e-9)
        assert p.intercept_ == pytest.approx(w_ref[-1])
        assert p.n_updates_ == updates_ref


def test_non_separable_stops_at_max_epochs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.where(rng.random(200) < 0.5, 1, -1)  # labels independent of X
    p = Perceptron(max_epochs=7).fit(X, y)
    assert not p.converged_
    assert p.n_epochs_ == 7 and len(p.log_) == 7
    assert all(entry["nb_changes"] > 0 for entry in p.log_)
    w_ref, updates_ref = reference_perceptron(X, y, 7)
    assert p.n_updates_ == updates_ref
    np.testing.assert_allclose(np.r_[p.coef_, p.intercept_], w_ref, atol=1e-9)


def test_xor_is_not_separable():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([-1, 1, 1, -1])
    assert not Perceptron(max_epochs=50).fit(X, y).converged_
    with pytest.raises(ValueError, match="not linearly separable"):
        max_margin(X, y)


def test_log_in_the_seed_format():
    X, y, _, _ = separable(3, n=50, d=2, gap=0.1)
    p = Perceptron(max_epochs=100).fit(X[:40], y[:40], eval_set=(X[40:], y[40:]))
    lines = p.format_log().splitlines()
    assert len(lines) == p.n_epochs_
    assert lines[0].startswith("epoch 0 nb_changes ")
    assert " train_error " in lines[0] and lines[0].endswith("%")
    assert " test_error " in lines[0]
    assert lines[-1].startswith(f"epoch {p.n_epochs_ - 1} nb_changes 0 train_error 0.00%")
    assert sum(entry["nb_changes"] for entry in p.log_) == p.n_updates_


def test_float32_stays_float32_and_predicts_pm1():
    X, y, _, _ = separable(5, n=100, d=5)
    p = Perceptron().fit(X.astype(np.float32), y)
    assert p.coef_.dtype == np.float32
    assert set(np.unique(p.predict(X.astype(np.float32)))) <= {-1, 1}
    np.testing.assert_array_equal(p.classes_, [-1, 1])


def test_max_margin_is_the_hard_margin_svm():
    """The LDP solution against a hard-margin (large C) SVM through the origin of (x, 1)."""
    svm = pytest.importorskip("sklearn.svm")
    X, y, _, _ = separable(11, n=50, d=2, gap=0.2)
    w, b, gamma = max_margin(X, y)
    assert np.min(y * (X @ w + b)) == pytest.approx(1.0, abs=1e-8)
    # with a constant feature c, the homogeneous problem is an SVM with intercept_scaling c;
    # a large c makes the bias nearly unpenalized, so compare with SVC on (x, c)
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    ref = svm.LinearSVC(loss="hinge", C=1e6, fit_intercept=False, tol=1e-12, max_iter=10**6)
    ref.fit(Xa, y)
    np.testing.assert_allclose(ref.coef_[0], np.r_[w, b], rtol=1e-3, atol=1e-4)
    # and no feasible neighbour of the solution has a smaller norm
    rng = np.random.default_rng(0)
    w_tilde = np.r_[w, b]
    for _ in range(200):
        v = w_tilde + 0.01 * rng.normal(size=3)
        if np.min(y * (Xa @ v)) >= 1:
            assert np.linalg.norm(v) >= np.linalg.norm(w_tilde) - 1e-12
    assert gamma == pytest.approx(2 / np.linalg.norm(w_tilde))


def test_shuffle_uses_random_state():
    X, y, _, _ = separable(7, n=80, d=3, gap=0.1)
    a = Perceptron(shuffle=True, random_state=1).fit(X, y)
    b = Perceptron(shuffle=True, random_state=np.random.default_rng(1)).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.converged_


def test_bound_helpers():
    X = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert radius(X, fit_intercept=False) == 5.0
    assert radius(X) == pytest.approx(np.sqrt(26))  # (3, 4, 1)
    # w = (1, 0), b = 0: margins y·x₁ = 3 and 0 -> gamma = 2·0 / 1
    assert margin(X, [1, -1], [1.0, 0.0]) == 0.0
    assert perceptron_bound(2.0, 0.5) == 64.0
    assert perceptron_bound(2.0, -1.0) == float("inf")


def test_bad_labels_and_inputs():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="at least two classes"):
        Perceptron().fit(X, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="max_epochs"):
        Perceptron(max_epochs=0).fit(X, [1, -1, 1, -1])
    with pytest.raises(RuntimeError, match="not fitted"):
        Perceptron().predict(X)
    with pytest.raises(ValueError, match="eval_set labels"):
        Perceptron().fit(X, [1, -1, 1, -1], eval_set=(X, [0, 1, 0, 1]))
    with pytest.raises(ValueError, match="features"):
        Perceptron().fit(X, [1, -1, 1, -1], eval_set=(X[:, :1], [1, -1, 1, -1]))


def test_any_two_labels_is_the_pm1_perceptron_and_multiclass_is_one_vs_rest():
    X, y, _, _ = separable(4, n=80, d=3, gap=0.1)
    pm = Perceptron().fit(X, y)
    named = Perceptron().fit(X, np.where(y > 0, "yes", "no"))  # "yes" > "no": positive
    np.testing.assert_array_equal(named.coef_, pm.coef_)
    assert named.n_updates_ == pm.n_updates_
    np.testing.assert_array_equal(named.predict(X), np.where(pm.predict(X) > 0, "yes", "no"))
    # three classes: one perceptron per class against the rest
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 150)
    X3 = rng.normal(size=(150, 2)) + 4 * np.array([[0, 0], [1, 0], [0, 1]])[labels]
    ovr = Perceptron(max_epochs=20).fit(X3, labels, eval_set=(X3, labels))
    assert ovr.coef_.shape == (3, 2) and ovr.intercept_.shape == (3,)
    assert ovr.decision_function(X3).shape == (150, 3) and len(ovr.log_) == 3
    for k in range(3):  # each row is the binary perceptron of "class k vs the rest"
        one = Perceptron(max_epochs=20).fit(X3, np.where(labels == k, 1, -1))
        np.testing.assert_array_equal(ovr.coef_[k], one.coef_)
    assert ovr.score(X3, labels) > 0.9
    assert ovr.format_log().startswith("class 0:")
