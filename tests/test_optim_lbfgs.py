"""L-BFGS through scipy: full-batch quadratic and Rosenbrock, dtype handling, errors."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.nn.parameter import Parameter
from numnet.optim import LBFGS

scipy_optimize = pytest.importorskip("scipy.optimize")

A = np.array([[3.0, 0.5, 0.2], [0.5, 2.0, -0.3], [0.2, -0.3, 1.0]])
b = np.array([1.0, -2.0, 0.5])


def _quadratic_closure(opt, w, dtype=np.float64):
    At, bt = numnet.tensor(A, dtype=dtype), numnet.tensor(b, dtype=dtype)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (w @ (At @ w)) - bt @ w  # ½ wᵀAw − bᵀw
        loss.backward()
        return loss

    return closure


def test_lbfgs_minimizes_a_quadratic():
    w = Parameter(np.zeros(3), dtype=np.float64)
    opt = LBFGS([w], max_iter=100, tolerance_grad=1e-8, tolerance_change=0.0)
    loss = opt.step(_quadratic_closure(opt, w))
    w_star = np.linalg.solve(A, b)
    np.testing.assert_allclose(w.data, w_star, rtol=1e-8, atol=1e-10)
    assert loss == pytest.approx(-0.5 * b @ w_star, rel=1e-12)  # f(w*) = −½ bᵀA⁻¹b
    r = opt.result
    assert r.converged and r.grad_norm_inf <= 1e-8
    assert 1 <= r.n_iter <= 20 and r.n_eval >= r.n_iter
    assert isinstance(r.message, str) and "PROJECTED GRADIENT" in r.message
    assert opt.state[w]["n_iter"] == r.n_iter


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _rosenbrock_grad(x):
    return np.array(
        [
            -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
            200 * (x[1] - x[0] ** 2),
        ]
    )


def test_lbfgs_rosenbrock_matches_scipy():
    x0 = np.array([-1.2, 1.0])
    # the model split over two parameters, to exercise flattening
    x, y = Parameter(x0[:1].copy(), dtype=np.float64), Parameter(x0[1:].copy(), dtype=np.float64)
    opt = LBFGS([x, y], max_iter=500, tolerance_grad=1e-9, tolerance_change=1e-14, history_size=10)

    def closure():
        opt.zero_grad()
        loss = ((1 - x) ** 2 + 100 * (y - x**2) ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    ref = scipy_optimize.minimize(
        lambda z: (_rosenbrock(z), _rosenbrock_grad(z)),
        x0,
        jac=True,
        method="L-BFGS-B",
        options=dict(maxiter=500, maxfun=625, gtol=1e-9, ftol=1e-14, maxcor=10),
    )
    got = np.concatenate([x.data, y.data])
    np.testing.assert_allclose(got, [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(got, ref.x, atol=1e-8)
    assert loss < 1e-12 and opt.result.converged
    assert opt.result.n_iter == ref.nit  # the same algorithm on the same numbers


def test_lbfgs_float32_parameters_stay_float32():
    w = Parameter(np.zeros(3, dtype=np.float32))
    data = w.data
    opt = LBFGS([w], max_iter=100, tolerance_grad=1e-5)
    opt.step(_quadratic_closure(opt, w, dtype=np.float32))
    assert w.data is data and w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, np.linalg.solve(A, b), atol=1e-4)


def test_lbfgs_max_iter_limits_the_run():
    x = Parameter(np.array([-1.2, 1.0]), dtype=np.float64)
    opt = LBFGS([x], max_iter=3)

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert opt.result.n_iter <= 3 and not opt.result.converged
    assert loss == pytest.approx(_rosenbrock(x.data), rel=1e-12) and loss < 24.2


def test_lbfgs_errors():
    w = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="closure"):
        LBFGS([w]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [w]}, {"params": [Parameter(np.zeros(2))]}])
    with pytest.raises(ValueError, match="max_iter"):
        LBFGS([w], max_iter=0)
    with pytest.raises(ValueError, match="history_size"):
        LBFGS([w], history_size=0)
    with pytest.raises(ValueError, match="tolerance_grad"):
        LBFGS([w], tolerance_grad=-1.0)
