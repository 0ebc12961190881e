"""numnet.sklearn's MLP and ConvNet estimators in scikit-learn's tools, and on their own."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import numnet
from numnet.sklearn import ConvNetClassifier, MLPClassifier, MLPRegressor, NotFittedError, clone

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


def quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
    return ctx


def test_pipeline_grid_search_cross_val_and_clone(digits):
    X, y = digits
    fast = dict(max_iter=15, batch_size=32, learning_rate_init=0.01, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**fast))
    grid = GridSearchCV(
        pipe,
        {"mlpclassifier__alpha": [1e-4, 1e-2], "mlpclassifier__hidden_layer_sizes": [(32,), (64,)]},
        cv=2,
    )
    ctx = quiet()
    try:
        grid.fit(X, y)
        scores = cross_val_score(MLPClassifier(**fast), X, y, cv=3)
    finally:
        ctx.__exit__(None, None, None)
    assert grid.best_score_ > 0.8 and len(grid.cv_results_["params"]) == 4
    assert scores.mean() > 0.85
    est = MLPClassifier(hidden_layer_sizes=(7, 5), dropout=0.1, alpha=0.5)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    assert twin.set_params(alpha=0.1).alpha == 0.1 and est.alpha == 0.5


def test_float32_reproducible_and_attributes(digits):
    X, y = digits
    ctx = quiet()
    try:
        a = MLPClassifier((32,), max_iter=5, random_state=3).fit(X, y)
        b = MLPClassifier((32,), max_iter=5, random_state=3).fit(X.astype(np.float64), y)
    finally:
        ctx.__exit__(None, None, None)
    assert all(p.dtype == np.float32 for p in a.model_.parameters())
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.predict_proba(X).dtype == np.float32
    assert a.n_iter_ == 5 == len(a.loss_curve_) and a.t_ == 5 * len(X)
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    assert [c.shape for c in a.coefs_] == [(64, 32), (32, 10)]
    assert a.validation_scores_ is None
    # random_state=None draws from numnet's default generator, which manual_seed seeds
    numnet.manual_seed(5)
    c = MLPClassifier((8,), max_iter=1, tol=np.inf).fit(X, y)
    numnet.manual_seed(5)
    d = MLPClassifier((8,), max_iter=1, tol=np.inf).fit(X, y)
    np.testing.assert_array_equal(c.coefs_[0], d.coefs_[0])
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)


def test_early_stopping_partial_fit_warm_start(digits):
    X, y = digits
    est = MLPClassifier(
        (32,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=2,
        max_iter=200,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert est.n_iter_ < 200  # stopped early
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the best epoch's weights are put back
    assert est.best_validation_score_ > 0.85

    inc = MLPClassifier((32,), random_state=0)
    for _ in range(3):
        inc.partial_fit(X, y, classes=np.arange(10))
    assert inc.n_iter_ == 3 and len(inc.loss_curve_) == 3
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        inc.partial_fit(X[:, :5], y)

    ctx = quiet()
    try:
        warm = MLPClassifier((32,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
        first = warm.coefs_[0].copy()
        warm.fit(X, y)
    finally:
        ctx.__exit__(None, None, None)
    assert warm.n_iter_ == 4 and len(warm.loss_curve_) == 4
    assert not np.array_equal(first, warm.coefs_[0])


def test_save_and_load_without_pickle(digits, tmp_path):
    X, y = digits
    ctx = quiet()
    try:
        est = MLPClassifier((16,), max_iter=3, random_state=0).fit(X, y.astype(str))
    finally:
        ctx.__exit__(None, None, None)
    # the network alone, with numnet.save
    numnet.save(est.model_, tmp_path / "net.safetensors")
    net = numnet.load(tmp_path / "net.safetensors")
    np.testing.assert_allclose(numnet.train.predict(net, X), numnet.train.predict(est.model_, X))
    # the whole estimator
    est.save(tmp_path / "est.safetensors")
    back = MLPClassifier.load(tmp_path / "est.safetensors")
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert back.get_params() == est.get_params()
    assert back.loss_curve_ == est.loss_curve_ and back.classes_.tolist() == est.classes_.tolist()
    back.partial_fit(X, y.astype(str))  # it keeps training
    with pytest.raises(ValueError, match="MLPClassifier"):
        MLPRegressor.load(tmp_path / "est.safetensors")


def test_regressor_multioutput_and_r2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    Y = np.stack([X @ [1.0, -1, 0.5, 0], np.sin(X[:, 0])], axis=1)
    ctx = quiet()
    try:
        est = MLPRegressor((32,), max_iter=300, learning_rate_init=0.01, random_state=0).fit(X, Y)
        one = MLPRegressor((32,), max_iter=50, random_state=0).fit(X, Y[:, 0])
    finally:
        ctx.__exit__(None, None, None)
    assert est.predict(X).shape == (300, 2) and one.predict(X).shape == (300,)
    assert est.score(X, Y) > 0.9
    from sklearn.metrics import r2_score

    assert est.score(X, Y) == pytest.approx(r2_score(Y, est.predict(X)), rel=1e-6)


def test_convnet_images_and_flat_rows(digits):
    X, y = digits
    ctx = quiet()
    try:
        params = dict(hidden_layer_sizes=(32,), max_iter=10, learning_rate_init=0.01)
        flat = ConvNetClassifier((4,), 3, random_state=0, **params)
        flat.fit(X, y)  # 64 features: 8x8 images
        imgs = ConvNetClassifier((4,), 3, random_state=0, **params)
        imgs.fit(X.reshape(-1, 1, 8, 8), y)
    finally:
        ctx.__exit__(None, None, None)
    assert flat.image_shape_ == (1, 8, 8) == imgs.image_shape_
    np.testing.assert_array_equal(flat.predict(X), imgs.predict(X.reshape(-1, 1, 8, 8)))
    assert flat.score(X, y) > 0.8
    with pytest.raises(ValueError, match="image_shape"):
        ConvNetClassifier(image_shape=(2, 5, 5)).fit(X, y)


def test_verbose_progress(digits, capsys):
    X, y = digits
    ctx = quiet()
    try:
        MLPClassifier((8,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    finally:
        ctx.__exit__(None, None, None)
    out = capsys.readouterr()
    assert "Iteration 2, loss = " in out.out
    assert "epoch 2/2" in out.err  # the tqdm bar


def test_bad_parameters(digits):
    X, y = digits
    for params, match in [
        ({"activation": "swish"}, "activation"),
        ({"solver": "lbfgs"}, "solver"),
        ({"dropout": 1.0}, "dropout"),
        ({"batch_size": 0}, "batch_size"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    ]:
        with pytest.raises(ValueError, match=match):
            MLPClassifier(**params).fit(X, y)


def test_works_without_scikit_learn():
    code = """
import sys, warnings
warnings.simplefilter("ignore")
sys.modules["sklearn"] = None  # import sklearn fails
import numpy as np
from numnet.classic import Perceptron, LDA
from numnet.sklearn import MLPClassifier, clone, HAVE_SKLEARN
assert not HAVE_SKLEARN
rng = np.random.default_rng(0)
X = rng.normal(size=(120, 3)); y = (X[:, 0] > 0).astype(int)
est = MLPClassifier((8,), max_iter=50, learning_rate_init=0.05, random_state=0, alpha=0.1)
twin = clone(est)
assert twin.get_params() == est.get_params() and twin is not est
assert twin.set_params(alpha=1.0).alpha == 1.0 and est.alpha == 0.1
assert est.fit(X, y).score(X, y) > 0.9
assert Perceptron().fit(X, np.where(y, 1, -1)).score(X, np.where(y, 1, -1)) > 0.9
assert "alpha=0.1" in repr(est)
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ok" in run.stdout
