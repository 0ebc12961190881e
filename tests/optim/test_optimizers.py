"""Optimizers: golden trajectories on a quadratic, state dicts, dtypes, validation.

The reference trajectories are written from the published formulas in plain NumPy,
out of place, one line per formula -- never by calling numnet's update functions.
The quadratic is f(w) = ½ wᵀAw − bᵀw with A symmetric positive definite, so
∇f(w) = Aw − b.
"""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from numnet.nn.parameter import Parameter
from numnet.optim import (
    SGD,
    Adam,
    AdamW,
    RMSprop,
    StepLR,
    adam_update,
    rmsprop_update,
    sgd_update,
)
from numnet.optim.lr_scheduler import SeedAnnealingLR
from numnet.tensor import Tensor

A = np.array([[3.0, 0.5, 0.2], [0.5, 2.0, -0.3], [0.2, -0.3, 1.0]])
b = np.array([1.0, -2.0, 0.5])
W0 = np.array([0.7, -0.4, 1.3])
STEPS = 8
RTOL = 1e-12


def grad_f(w):
    return A @ w - b


def run(make_opt, steps=STEPS, w0=W0, sched=None):
    """Iterates w_1..w_steps of an optimizer on the quadratic, gradients set by hand."""
    p = Parameter(w0.copy(), dtype=np.float64)
    opt = make_opt([p])
    scheduler = sched(opt) if sched is not None else None
    out = []
    for _ in range(steps):
        p.grad = grad_f(p.data)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.append(p.data.copy())
    return np.array(out)


# -- reference implementations, literally from the formulas -------------------------------
def ref_sgd(lr, steps=STEPS, weight_decay=0.0, lrs=None):
    """w ← w − η (∇f + λw)"""
    w, out = W0.copy(), []
    for t in range(1, steps + 1):
        eta = lrs[t - 1] if lrs is not None else lr
        g = grad_f(w) + weight_decay * w
        w = w - eta * g
        out.append(w)
    return np.array(out)


def ref_sgd_momentum_pytorch(
    lr, mu, steps=STEPS, weight_decay=0.0, dampening=0.0, nesterov=False, lrs=None
):
    """v₁ = g₁, v_t = μ v_{t−1} + (1−τ) g_t;  w ← w − η v  (nesterov: w ← w − η(g + μv))"""
    w, v, out = W0.copy(), None, []
    for t in range(1, steps + 1):
        eta = lrs[t - 1] if lrs is not None else lr
        g = grad_f(w) + weight_decay * w
        v = g if t == 1 else mu * v + (1 - dampening) * g
        w = w - eta * (g + mu * v) if nesterov else w - eta * v
        out.append(w)
    return np.array(out)


def ref_sgd_momentum_seed(lr, eta_mom, steps=STEPS, lrs=None):
    """Seed 001: Δ^t = η Δ^{t−1} − α_t ∇L,  W^t = W^{t−1} + Δ^t  (Δ⁰ = 0)"""
    w, delta, out = W0.copy(), np.zeros(3), []
    for t in range(1, steps + 1):
        alpha = lrs[t - 1] if lrs is not None else lr
        delta = eta_mom * delta - alpha * grad_f(w)
        w = w + delta
        out.append(w)
    return np.array(out)


def ref_rmsprop(lr, alpha, eps, mu=0.0, centered=False, weight_decay=0.0, steps=STEPS):
    """v ← αv + (1−α)g²; [ḡ ← αḡ + (1−α)g]; w ← w − η g/(√(v − ḡ²) + ε) (with momentum b)"""
    w, v, gbar, buf, out = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for _ in range(steps):
        g = grad_f(w) + weight_decay * w
        v = alpha * v + (1 - alpha) * g**2
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            denom = np.sqrt(v - gbar**2) + eps
        else:
            denom = np.sqrt(v) + eps
        if mu > 0:
            buf = mu * buf + g / denom
            w = w - lr * buf
        else:
            w = w - lr * g / denom
        out.append(w)
    return np.array(out)


def ref_adam(lr, b1, b2, eps, weight_decay=0.0, amsgrad=False, decoupled=False, steps=STEPS):
    """m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), w ← w − η m̂/(√v̂ + ε); AMSGrad uses max_s v_s;
    AdamW first shrinks w ← w(1 − ηλ)."""
    w, m, v, vmax, out = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for t in range(1, steps + 1):
        g = grad_f(w)
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return np.array(out)


# -- golden trajectories -------------------------------------------------------------------
def test_sgd_momentum_worked_example_by_hand():
    # f(w) = ½·2w², ∇f = 2w, w₀ = 1, lr = 0.1, μ = 0.5 (PyTorch convention)
    # t=1: g = 2     v = 2                 w = 1 − 0.1·2       = 0.8
    # t=2: g = 1.6   v = 0.5·2 + 1.6 = 2.6  w = 0.8 − 0.1·2.6   = 0.54
    # t=3: g = 1.08  v = 1.3 + 1.08 = 2.38  w = 0.54 − 0.1·2.38 = 0.302
    p = Parameter(np.array([1.0]), dtype=np.float64)
    opt = SGD([p], lr=0.1, momentum=0.5)
    got = []
    for _ in range(3):
        p.grad = 2 * p.data
        opt.step()
        got.append(p.data[0])
    np.testing.assert_allclose(got, [0.8, 0.54, 0.302], rtol=1e-14)


def test_sgd_plain():
    got = run(lambda ps: SGD(ps, lr=0.1))
    np.testing.assert_allclose(got, ref_sgd(0.1), rtol=RTOL)
    # the first step by hand: w₁ = w₀ − 0.1 (Aw₀ − b)
    np.testing.assert_allclose(got[0], W0 - 0.1 * (A @ W0 - b), rtol=1e-15)


def test_sgd_weight_decay_is_gradient_of_half_l2():
    lam = 0.3
    got = run(lambda ps: SGD(ps, lr=0.1, weight_decay=lam))
    np.testing.assert_allclose(got, ref_sgd(0.1, weight_decay=lam), rtol=RTOL)
    # same as plain SGD on f(w) + λ/2‖w‖², i.e. A → A + λI
    w, ref = W0.copy(), []
    for _ in range(STEPS):
        w = w - 0.1 * ((A + lam * np.eye(3)) @ w - b)
        ref.append(w)
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_sgd_momentum_pytorch_convention():
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9))
    np.testing.assert_allclose(got, ref_sgd_momentum_pytorch(0.1, 0.9), rtol=RTOL)


def test_sgd_momentum_dampening_and_weight_decay():
    got = run(lambda ps: SGD(ps, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1))
    ref = ref_sgd_momentum_pytorch(0.05, 0.8, dampening=0.3, weight_decay=0.1)
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_sgd_momentum_seed_convention():
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, convention="seed"))
    np.testing.assert_allclose(got, ref_sgd_momentum_seed(0.1, 0.9), rtol=RTOL)


@pytest.mark.parametrize("convention", ["pytorch", "seed"])
def test_sgd_nesterov(convention):
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, convention=convention))
    ref = ref_sgd_momentum_pytorch(0.1, 0.9, nesterov=True)
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_sgd_nesterov_with_weight_decay():
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.2))
    ref = ref_sgd_momentum_pytorch(0.1, 0.9, nesterov=True, weight_decay=0.2)
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_momentum_conventions_coincide_for_constant_lr():
    torch_style = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9))
    seed_style = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, convention="seed"))
    # Δ_t = −lr·v_t: equal up to rounding
    np.testing.assert_allclose(torch_style, seed_style, rtol=1e-13, atol=1e-15)


def test_momentum_conventions_differ_when_lr_changes():
    # lr 0.1 for 3 steps, then 0.01 (StepLR); the two conventions now disagree
    lrs = [0.1 * 0.1 ** (t // 3) for t in range(STEPS)]
    sched = lambda opt: StepLR(opt, step_size=3, gamma=0.1)  # noqa: E731
    torch_style = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9), sched=sched)
    seed_style = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, convention="seed"), sched=sched)
    np.testing.assert_allclose(torch_style, ref_sgd_momentum_pytorch(0.1, 0.9, lrs=lrs), rtol=RTOL)
    np.testing.assert_allclose(seed_style, ref_sgd_momentum_seed(0.1, 0.9, lrs=lrs), rtol=RTOL)
    np.testing.assert_allclose(torch_style[:3], seed_style[:3], rtol=1e-13)
    # step 4: PyTorch scales the whole velocity by the new lr, the seed keeps old steps
    assert np.max(np.abs(torch_style[3] - seed_style[3])) > 1e-2


def test_sgd_with_seed_annealing_schedule():
    # seed 000: θ_k = θ_{k−1} − η_k ∇L(θ_{k−1}), η_k = η₀ (k ≤ k₀), η₀ k₀/k after
    k0, eta0 = 3, 0.2
    lrs = [eta0 if k <= k0 else eta0 * k0 / k for k in range(1, STEPS + 1)]
    got = run(lambda ps: SGD(ps, lr=eta0), sched=lambda opt: SeedAnnealingLR(opt, k0=k0))
    np.testing.assert_allclose(got, ref_sgd(None, lrs=lrs), rtol=RTOL)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.05, alpha=0.9, eps=1e-8),
        dict(lr=0.05, alpha=0.9, eps=1e-2, centered=True),
        dict(lr=0.02, alpha=0.95, eps=1e-3, momentum=0.8),
        dict(lr=0.02, alpha=0.95, eps=1e-3, momentum=0.8, centered=True, weight_decay=0.1),
    ],
    ids=["plain", "centered", "momentum", "centered-momentum-wd"],
)
def test_rmsprop(kwargs):
    got = run(lambda ps: RMSprop(ps, **kwargs))
    ref = ref_rmsprop(
        kwargs["lr"],
        kwargs["alpha"],
        kwargs["eps"],
        mu=kwargs.get("momentum", 0.0),
        centered=kwargs.get("centered", False),
        weight_decay=kwargs.get("weight_decay", 0.0),
    )
    np.testing.assert_allclose(got, ref, rtol=RTOL)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8),
        dict(lr=0.1, betas=(0.8, 0.99), eps=0.1),  # a large ε checks where ε goes
        dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5),
    ],
    ids=["default", "large-eps", "l2"],
)
def test_adam(kwargs):
    got = run(lambda ps: Adam(ps, **kwargs))
    b1, b2 = kwargs["betas"]
    ref = ref_adam(kwargs["lr"], b1, b2, kwargs["eps"], kwargs.get("weight_decay", 0.0))
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_adam_first_step_is_lr_times_sign():
    # m̂₁ = g, v̂₁ = g², so w₁ = w₀ − lr·g/(|g| + ε) ≈ w₀ − lr·sign(g)
    got = run(lambda ps: Adam(ps, lr=0.01), steps=1)
    np.testing.assert_allclose(got[0], W0 - 0.01 * np.sign(grad_f(W0)), rtol=1e-8)


def test_amsgrad():
    # a step gradient makes v shrink, so AMSGrad's max(v) differs from v
    got = run(lambda ps: Adam(ps, lr=0.3, betas=(0.5, 0.6), eps=1e-8, amsgrad=True), steps=12)
    ref = ref_adam(0.3, 0.5, 0.6, 1e-8, amsgrad=True, steps=12)
    np.testing.assert_allclose(got, ref, rtol=RTOL)
    plain = ref_adam(0.3, 0.5, 0.6, 1e-8, amsgrad=False, steps=12)
    assert np.max(np.abs(plain - ref)) > 1e-3


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw(amsgrad):
    got = run(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.5, amsgrad=amsgrad))
    ref = ref_adam(0.1, 0.9, 0.999, 1e-8, weight_decay=0.5, amsgrad=amsgrad, decoupled=True)
    np.testing.assert_allclose(got, ref, rtol=RTOL)
    coupled = ref_adam(0.1, 0.9, 0.999, 1e-8, weight_decay=0.5, amsgrad=amsgrad)
    assert np.max(np.abs(coupled - ref)) > 1e-3


def test_adamw_default_weight_decay():
    assert AdamW([Parameter(np.zeros(2))]).defaults["weight_decay"] == 1e-2
    assert Adam([Parameter(np.zeros(2))]).defaults["weight_decay"] == 0.0


def test_update_functions_match_classes_without_an_optimizer():
    # the pure functions on bare arrays reproduce the class trajectories
    for fn, kwargs, cls_kwargs, cls in [
        (sgd_update, dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9), SGD),
        (rmsprop_update, dict(lr=0.01, centered=True), dict(lr=0.01, centered=True), RMSprop),
        (adam_update, dict(lr=0.1, beta1=0.8), dict(lr=0.1, betas=(0.8, 0.999)), Adam),
    ]:
        w, state, out = W0.copy(), {}, []
        for _ in range(STEPS):
            fn(w, grad_f(w), state, **kwargs)
            out.append(w.copy())
        np.testing.assert_array_equal(out, run(lambda ps, c=cls, k=cls_kwargs: c(ps, **k)))


# -- optimizer mechanics -------------------------------------------------------------------
def test_param_groups_have_their_own_options():
    p1, p2 = Parameter(np.ones(2), dtype=np.float64), Parameter(np.ones(2), dtype=np.float64)
    opt = SGD([{"params": [p1]}, {"params": [p2], "lr": 0.5}], lr=0.1)
    p1.grad = np.ones(2)
    p2.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(p1.data, [0.9, 0.9])
    np.testing.assert_allclose(p2.data, [0.5, 0.5])
    p3 = Parameter(np.ones(2), dtype=np.float64)
    opt.add_param_group({"params": p3, "momentum": 0.5})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.5


def test_parameters_without_grad_are_skipped():
    p1, p2 = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = Adam([p1, p2], lr=0.1)
    p1.grad = np.ones(2, dtype=np.float32)
    opt.step()
    np.testing.assert_array_equal(p2.data, [1.0, 1.0])
    assert p2 not in opt.state and opt.state[p1]["step"] == 1


def test_zero_grad():
    p = Parameter(np.ones(3))
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and not p.grad.any()
    opt.zero_grad()
    assert p.grad is None


def test_step_calls_closure_and_returns_its_loss():
    p = Parameter(np.array([2.0]), dtype=np.float64)
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()  # ∇ = 2p
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 4.0
    np.testing.assert_allclose(p.data, [1.0])  # 2 − 0.25·4


ALL_OPTIMIZERS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.2)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9, convention="seed")),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, convention="seed", weight_decay=0.1)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.1)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01, amsgrad=True)),
]
IDS = [f"{c.__name__}-{i}" for i, (c, _) in enumerate(ALL_OPTIMIZERS)]


def _matrix_problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 4)).astype(dtype)
    Y = rng.standard_normal((20, 3)).astype(dtype)
    params = [
        Parameter(rng.standard_normal((4, 3)).astype(dtype), dtype=dtype),
        Parameter(rng.standard_normal(3).astype(dtype), dtype=dtype),
    ]

    def set_grads(ps):  # least squares ½‖XW + c − Y‖² / n
        r = (X @ ps[0].data + ps[1].data - Y) / len(X)
        ps[0].grad = X.T @ r
        ps[1].grad = r.sum(axis=0)

    return params, set_grads


@pytest.mark.parametrize(("cls", "kwargs"), ALL_OPTIMIZERS, ids=IDS)
def test_state_dict_round_trip_is_bit_exact(cls, kwargs):
    params, set_grads = _matrix_problem(np.float32)
    opt = cls(params, **kwargs)
    for _ in range(3):
        set_grads(params)
        opt.step()
    saved = opt.state_dict()
    snapshot = json.dumps(_to_json(saved))
    weights = [p.data.copy() for p in params]
    for _ in range(3):
        set_grads(params)
        opt.step()
    # a fresh optimizer resumed from the saved state, through JSON and back
    fresh = [Parameter(w.copy(), dtype=w.dtype) for w in weights]
    opt2 = cls(fresh, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(_from_json(snapshot))
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    for _ in range(3):
        set_grads(fresh)
        opt2.step()
    for p, q in zip(params, fresh):
        np.testing.assert_array_equal(p.data, q.data)
        assert q.data.dtype == np.float32
    # the saved dict holds copies: training on did not change it
    assert json.dumps(_to_json(saved)) == snapshot
    # and loading copies too: a resumed optimizer does not write into the dict
    opt3 = cls(fresh, **kwargs)
    opt3.load_state_dict(saved)
    assert all(
        v is not opt3.state[fresh[i]][n]
        for i, s in saved["state"].items()
        for n, v in s.items()
        if isinstance(v, np.ndarray)
    )


def test_state_dict_layout_is_plain_data():
    p1, p2 = Parameter(np.ones(2)), Parameter(np.ones((2, 2)))
    opt = Adam([{"params": [p1]}, {"params": [p2], "lr": 0.1}])
    p1.grad = np.ones(2, dtype=np.float32)
    p2.grad = np.ones((2, 2), dtype=np.float32)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.1
    assert set(sd["state"]) == {0, 1}
    assert sd["state"][1]["step"] == 1 and isinstance(sd["state"][1]["step"], int)
    assert sd["state"][1]["exp_avg"].shape == (2, 2)


def test_load_state_dict_mismatch_errors():
    p = Parameter(np.ones(2))
    opt = Adam([p])
    p.grad = np.ones(2, dtype=np.float32)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        Adam(
            [{"params": [Parameter(np.ones(2))]}, {"params": [Parameter(np.ones(2))]}]
        ).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        Adam([Parameter(np.ones(2)), Parameter(np.ones(2))]).load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        Adam([Parameter(np.ones(3))]).load_state_dict(sd)


def _to_json(sd):
    def enc(v):
        if isinstance(v, np.ndarray):
            return {"__ndarray__": v.tolist(), "dtype": str(v.dtype)}
        return v

    return {
        "state": {k: {n: enc(v) for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }


def _from_json(text):
    def dec(v):
        if isinstance(v, dict) and "__ndarray__" in v:
            return np.array(v["__ndarray__"], dtype=v["dtype"])
        return v

    raw = json.loads(text)
    return {
        "state": {k: {n: dec(v) for n, v in s.items()} for k, s in raw["state"].items()},
        "param_groups": raw["param_groups"],
    }


@pytest.mark.parametrize(("cls", "kwargs"), ALL_OPTIMIZERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_updates_in_place(cls, kwargs, dtype):
    params, set_grads = _matrix_problem(dtype)
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    opt = cls(params, **kwargs)
    for _ in range(3):
        set_grads(params)
        grads = [p.grad.copy() for p in params]
        opt.step()
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad, g)  # gradients are not modified
    for p, a, a0 in zip(params, arrays, before):
        assert p.data is a and p.data.dtype == dtype
        assert not np.array_equal(a, a0)
        for v in opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.dtype == dtype


@pytest.mark.parametrize(("cls", "kwargs"), ALL_OPTIMIZERS, ids=IDS)
def test_step_does_not_allocate_parameter_sized_temporaries(cls, kwargs):
    n = 250_000  # 1 MB of float32
    p = Parameter(np.ones(n, dtype=np.float32))
    p.grad = np.full(n, 0.5, dtype=np.float32)
    opt = cls([p], **kwargs)
    opt.step()  # allocates the state and the scratch space once
    opt.step()  # (the first momentum step after v₁ = g may load a compiled kernel)
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * 4 // 10, f"step allocated {peak} bytes"


# -- validation ------------------------------------------------------------------------------
def _p():
    return Parameter(np.zeros(2))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD([_p()], lr=-0.1), "lr"),
        (lambda: SGD([_p()], lr=float("nan")), "lr"),
        (lambda: SGD([_p()]), "lr"),
        (lambda: SGD([_p()], lr=0.1, momentum=1.0), "momentum"),
        (lambda: SGD([_p()], lr=0.1, momentum=-0.5), "momentum"),
        (lambda: SGD([_p()], lr=0.1, nesterov=True), "nesterov"),
        (lambda: SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda: SGD([_p()], lr=0.1, dampening=2.0), "dampening"),
        (lambda: SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, convention="seed"), "dampening"),
        (lambda: SGD([_p()], lr=0.1, weight_decay=-1e-4), "weight_decay"),
        (lambda: SGD([_p()], lr=0.1, convention="keras"), "convention"),
        (lambda: SGD([{"params": [_p()], "lr": -1.0}], lr=0.1), "lr"),
        (lambda: RMSprop([_p()], alpha=1.5), "alpha"),
        (lambda: RMSprop([_p()], eps=-1.0), "eps"),
        (lambda: RMSprop([_p()], momentum=1.0), "momentum"),
        (lambda: Adam([_p()], betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: Adam([_p()], betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: Adam([_p()], betas=(0.9,)), "betas"),
        (lambda: Adam([_p()], eps=-1e-8), "eps"),
        (lambda: AdamW([_p()], weight_decay=-0.01), "weight_decay"),
        (lambda: Adam([_p()], amsgrad="yes"), "amsgrad"),
        (lambda: Adam([]), "empty parameter list"),
        (lambda: Adam([{"params": []}]), "empty parameter list"),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_parameters():
    p = _p()
    with pytest.raises(ValueError, match="duplicate"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        SGD([Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(p, lr=0.1)
    nonleaf = Parameter(np.ones(2)) * 2.0
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([nonleaf], lr=0.1)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
        lambda ps: Adam(ps, lr=1e-2),
    ],
)
def test_threaded_step_equals_serial_step(make, monkeypatch):
    """Large steps are split over threads (numnet.parallel); the numbers do not change."""
    import numnet.optim.optimizer as optimizer_mod
    from numnet.parallel import get_num_threads, set_num_threads

    shapes = [(300, 200), (200,), (200, 100), (7, 3)]
    runs = []
    for threads, min_size in ((1, 1 << 40), (3, 1)):
        monkeypatch.setattr(optimizer_mod, "_PARALLEL_MIN_SIZE", min_size)
        previous = get_num_threads()
        set_num_threads(threads)
        try:
            rng = np.random.default_rng(0)  # same data for both runs
            params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]
            opt = make(params)
            for _ in range(3):
                for p in params:
                    p.grad = np.sin(p.data * 3).astype(np.float32)
                opt.step()
            runs.append([p.data.copy() for p in params])
        finally:
            set_num_threads(previous)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: Adam(ps, lr=0.1),
        lambda ps: RMSprop(ps, lr=0.1),
    ],
)
def test_zero_dim_parameters(make):
    p = Parameter(np.float32(2.0))
    p.grad = np.asarray(np.float32(1.0))
    opt = make([p])
    opt.step()
    assert p.data.shape == () and p.data < 2.0
    opt.zero_grad(set_to_none=False)
    assert p.grad == 0.0
