"""L-BFGS: PyTorch's algorithm (history across step() calls, strong Wolfe), state, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.nn.parameter import Parameter
from numnet.optim import LBFGS
from numnet.optim.lbfgs import _two_loop, strong_wolfe

A = np.array([[3.0, 0.5, 0.2], [0.5, 2.0, -0.3], [0.2, -0.3, 1.0]])
b = np.array([1.0, -2.0, 0.5])
X0 = np.array([-1.2, 1.0, -1.2, 1.0])  # 4-D Rosenbrock start


def _quadratic_closure(opt, w, dtype=np.float64):
    At, bt = numnet.tensor(A, dtype=dtype), numnet.tensor(b, dtype=dtype)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (w @ (At @ w)) - bt @ w  # ½ wᵀAw − bᵀw
        loss.backward()
        return loss

    return closure


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _numnet_run(x0, steps, dtype=np.float64, **kw):
    w = Parameter(np.array(x0, dtype=dtype), dtype=dtype)
    opt = LBFGS([w], **kw)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(w)
        loss.backward()
        return loss

    returned = [float(opt.step(closure)) for _ in range(steps)]
    return w, opt, closure, returned


def _torch_run(torch, x0, steps, **kw):
    w = torch.tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    opt = torch.optim.LBFGS([w], **kw)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(w)
        loss.backward()
        return loss

    returned = [opt.step(closure).item() for _ in range(steps)]
    return w.detach().numpy(), opt, returned


def test_lbfgs_minimizes_a_quadratic():
    w = Parameter(np.zeros(3), dtype=np.float64)
    opt = LBFGS([w], max_iter=100, tolerance_grad=1e-10, tolerance_change=0.0,
                line_search_fn="strong_wolfe")  # fmt: skip
    first = opt.step(_quadratic_closure(opt, w))
    assert float(first) == 0.0  # like torch: the loss of the first evaluation
    w_star = np.linalg.solve(A, b)
    np.testing.assert_allclose(w.data, w_star, rtol=1e-7, atol=1e-8)
    r = opt.result
    assert r.loss == pytest.approx(-0.5 * b @ w_star, rel=1e-12)  # f(w*) = −½ bᵀA⁻¹b
    # at machine precision the line search stops making progress (as torch's does)
    assert r.converged and r.grad_norm_inf <= 1e-7
    assert 1 <= r.n_iter <= 20 and r.n_eval >= r.n_iter
    assert opt.state[w]["n_iter"] == r.n_iter and opt.state[w]["func_evals"] == r.n_eval


@pytest.mark.parametrize("line_search_fn", ["strong_wolfe", None])
def test_history_survives_step_calls_like_torch(line_search_fn):
    """The usual loop, 20 × step(max_iter=5), reaches the optimum as torch's does."""
    torch = pytest.importorskip("torch")
    w, opt, _, returned = _numnet_run(X0, 20, max_iter=5, line_search_fn=line_search_fn)
    tw, topt, treturned = _torch_run(torch, X0, 20, max_iter=5, line_search_fn=line_search_fn)
    loss = float(_rosenbrock(w.data))
    assert loss <= 1e-6  # restarting the history each call ended at 0.25
    assert loss <= 10 * float(_rosenbrock(tw)) + 1e-12
    np.testing.assert_allclose(w.data, tw, atol=1e-6)
    # the same iteration: the same losses returned by every call, the same counters.
    # Once converged (loss ~1e-9..1e-11) the losses are rounding noise, which depends on
    # the BLAS kernel (SkylakeX differs from Haswell by ~3e-12): an absolute tolerance
    # far below the starting loss (~1e2) but above that noise.
    np.testing.assert_allclose(returned, treturned, rtol=1e-4, atol=1e-9)
    state, tstate = opt.state[w], topt.state[topt.param_groups[0]["params"][0]]
    assert state["n_iter"] == tstate["n_iter"] and state["func_evals"] == tstate["func_evals"]
    assert len(state["old_dirs"]) == len(tstate["old_dirs"])


def test_first_steps_match_torch_exactly():
    torch = pytest.importorskip("torch")
    for ls in ("strong_wolfe", None):
        w, _, _, returned = _numnet_run(X0, 3, max_iter=4, history_size=3, line_search_fn=ls)
        tw, _, treturned = _torch_run(torch, X0, 3, max_iter=4, history_size=3, line_search_fn=ls)
        np.testing.assert_allclose(w.data, tw, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(returned, treturned, rtol=1e-12)


def test_state_dict_round_trip_continues_identically(tmp_path):
    w, opt, closure, _ = _numnet_run(X0, 3, max_iter=5, line_search_fn="strong_wolfe")
    saved_w = w.data.copy()
    sd = opt.state_dict()
    n_iter = opt.state[w]["n_iter"]
    assert sd["state"][0]["old_dirs"].shape == (len(opt.state[w]["old_dirs"]), 4)
    path = numnet.io.save_checkpoint({"opt": sd}, tmp_path / "c.safetensors")
    # continue the original
    for _ in range(4):
        opt.step(closure)
    # a fresh optimizer restored from the saved state continues identically
    w2 = Parameter(saved_w.copy(), dtype=np.float64)
    opt2 = LBFGS([w2], max_iter=5, line_search_fn="strong_wolfe")
    opt2.load_state_dict(numnet.io.load_checkpoint(path)["opt"])

    def closure2():
        opt2.zero_grad()
        loss = _rosenbrock(w2)
        loss.backward()
        return loss

    for _ in range(4):
        opt2.step(closure2)
    np.testing.assert_array_equal(w2.data, w.data)
    assert opt2.state[w2]["func_evals"] == opt.state[w]["func_evals"]
    # the saved state dict holds copies: stepping on did not change it
    assert sd["state"][0]["n_iter"] == n_iter < opt.state[w]["n_iter"]
    with pytest.raises(ValueError, match="entries"):
        LBFGS([Parameter(np.zeros(3), dtype=np.float64)]).load_state_dict(sd)


def test_float32_parameters_stay_float32():
    w = Parameter(np.zeros(3, dtype=np.float32))
    data, version = w.data, w._version
    opt = LBFGS([w], max_iter=100, tolerance_grad=1e-5, line_search_fn="strong_wolfe")
    opt.step(_quadratic_closure(opt, w, dtype=np.float32))
    assert w.data is data and w.data.dtype == np.float32
    assert w._version > version  # every write into the parameter is recorded
    np.testing.assert_allclose(w.data, np.linalg.solve(A, b), atol=1e-4)
    # the Rosenbrock loop in float32 also converges (to float32 accuracy)
    w32, _, _, _ = _numnet_run(X0, 20, dtype=np.float32, max_iter=5, line_search_fn="strong_wolfe")
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32.data, np.ones(4), atol=1e-2)


def test_max_iter_limits_the_run_and_fixed_step_diverges_without_line_search():
    w, opt, _, _ = _numnet_run(X0[:2], 1, max_iter=3, line_search_fn="strong_wolfe")
    assert opt.result.n_iter <= 3 and not opt.result.converged
    assert opt.result.message in ("max_iter reached", "max_eval reached")
    assert _rosenbrock(w.data) < 24.2
    # lr is the fixed step without a line search (PyTorch's behaviour)
    w, opt, _, _ = _numnet_run(X0[:2], 1, lr=0.5, max_iter=1)
    g = np.array([-215.6, -88.0])  # ∇f(-1.2, 1)
    np.testing.assert_allclose(w.data, X0[:2] - 0.5 * g / np.abs(g).sum(), rtol=1e-12)


def test_two_loop_is_the_bfgs_inverse_hessian_product():
    rng = np.random.default_rng(0)
    n = 5
    s_list = [rng.standard_normal(n) for _ in range(3)]
    M = rng.standard_normal((n, n))
    B = M @ M.T + n * np.eye(n)  # y = B s: positive curvature
    y_list = [B @ s for s in s_list]
    g = rng.standard_normal(n)
    gamma = float(s_list[-1] @ y_list[-1] / (y_list[-1] @ y_list[-1]))
    H = gamma * np.eye(n)  # the BFGS update applied pair by pair (N&W eq. 6.17)
    for s, y in zip(s_list, y_list):
        rho = 1.0 / (y @ s)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    d = _two_loop(g, y_list, s_list, [1.0 / (y @ s) for s, y in zip(s_list, y_list)], gamma)
    np.testing.assert_allclose(d, -H @ g, rtol=1e-10)


def test_strong_wolfe_conditions_hold():
    def f(x):
        return float(np.sum(x**4) + np.sum(x**2)), 4 * x**3 + 2 * x

    x = np.array([1.5, -2.0])
    f0, g0 = f(x)
    d = -g0
    loss, g, t, n = strong_wolfe(lambda s: f(x + s * d), d, 1.0, f0, g0, float(g0 @ d))
    assert loss <= f0 + 1e-4 * t * (g0 @ d)  # sufficient decrease
    assert abs(g @ d) <= 0.9 * abs(g0 @ d)  # curvature
    assert loss == f(x + t * d)[0] and 1 <= n <= 25


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
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="lr"):
        LBFGS([w], lr=-1.0)
