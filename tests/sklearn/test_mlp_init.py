"""numnet.sklearn's MLPs start from scikit-learn's initialisation (Glorot-uniform weights
and biases, ``b = √(factor / (fan_in + fan_out))``, factor 2 for 'logistic', else 6);
``init='pytorch'`` and ConvNetClassifier keep numnet.nn.Linear's PyTorch default."""

import math
import warnings

import numpy as np
import pytest

from numnet.sklearn import ConvNetClassifier, MLPClassifier, MLPRegressor, clone

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


def initial(est, X, y):
    """The estimator after one full-batch Adam step of 1e-12: its weights are the
    initial ones up to ~1e-12 (below a float32 ulp of all but the tiniest weights)."""
    est.set_params(max_iter=1, learning_rate_init=1e-12, alpha=0.0, batch_size=len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        return est.fit(X, y)


def glorot(fan_in, fan_out, factor=6.0):
    return math.sqrt(factor / (fan_in + fan_out))


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("tanh", 6.0), ("logistic", 2.0)])
def test_glorot_uniform_bounds_and_spread(digits, activation, factor):
    X, y = digits
    est = initial(MLPClassifier((512, 256), activation, random_state=0), X, y)
    sizes = [(64, 512), (512, 256), (256, 10)]
    assert [w.shape for w in est.coefs_] == sizes
    for (fan_in, fan_out), w, b in zip(sizes, est.coefs_, est.intercepts_):
        # the hidden activation's factor for every layer, the output layer included
        bound = glorot(fan_in, fan_out, factor)
        assert w.dtype == np.float32 and b.dtype == np.float32
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(b).max() <= bound * (1 + 1e-6)
        # U(-b, b): the extremes come close to b, std b/√3, mean 0 (n >= 2560 draws;
        # the tolerances are >= 6 standard errors of the estimates)
        n = w.size
        assert np.abs(w).max() >= bound * (1 - 10 / n)
        assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 6 * math.sqrt(0.8 / (4 * n))
        assert abs(w.mean()) < 6 * bound / math.sqrt(3 * n)
        if fan_out >= 256:  # the biases come from the same U(-b, b)
            assert np.abs(b).max() >= 0.9 * bound


def test_same_random_state_same_bits_and_the_draw_order(digits):
    X, y = digits
    a = initial(MLPClassifier((32, 16), random_state=5), X, y)
    b = initial(MLPClassifier((32, 16), random_state=np.random.default_rng(5)), X, y)
    c = initial(MLPClassifier((32, 16), random_state=6), X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert np.array_equal(wa, wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    # the rule, drawn in float32 from default_rng(seed): layer by layer, weight (out, in)
    # then bias, (2u - 1)·b with u ~ U[0, 1)
    rng = np.random.default_rng(5)
    for w, bias in zip(a.coefs_, a.intercepts_):
        bound = np.float32(glorot(*w.shape))
        for got in (w.T, bias):
            want = (rng.random(got.shape, dtype=np.float32) * 2 - 1) * bound
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # a full fit repeats to the bit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        f1 = MLPClassifier((16,), max_iter=3, random_state=2).fit(X, y)
        f2 = clone(f1).fit(X, y)
    assert all(np.array_equal(p, q) for p, q in zip(f1.coefs_, f2.coefs_))


def test_regressor_uses_the_same_rule():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 40)).astype(np.float32)
    est = initial(MLPRegressor((300,), random_state=0), X, X[:, :3])
    for w in est.coefs_:
        bound = glorot(*w.shape)
        assert bound * (1 - 10 / w.size) <= np.abs(w).max() <= bound * (1 + 1e-6)


def test_pytorch_init_parameter_and_convnet_default(digits):
    X, y = digits
    est = MLPClassifier((512,), random_state=0, init="pytorch")
    assert clone(est).get_params()["init"] == "pytorch"
    assert MLPClassifier().get_params()["init"] == "glorot_uniform"
    initial(est, X, y)
    for w, b in zip(est.coefs_, est.intercepts_):
        bound = 1 / math.sqrt(w.shape[0])  # U(±1/√fan_in), weights and biases
        assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(b).max() <= bound * (1 + 1e-6)
    assert np.abs(est.coefs_[0]).max() >= 0.99 / math.sqrt(64)  # not Glorot's 0.105
    with pytest.raises(ValueError, match="init"):
        MLPClassifier(init="he").fit(X, y)
    # ConvNetClassifier: no scikit-learn counterpart, PyTorch's default everywhere; its
    # 64 -> 32 hidden layer would reach Glorot's 0.25, PyTorch's bound is 1/8
    conv = initial(ConvNetClassifier((4,), 3, hidden_layer_sizes=(32,), random_state=0), X, y)
    assert conv.coefs_[0].shape == (64, 32)
    assert np.abs(conv.coefs_[0]).max() <= 0.125 * (1 + 1e-6)
