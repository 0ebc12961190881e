"""Cross-check optimizers and schedulers against ``torch.optim`` (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import numnet.optim as nopt
from numnet.nn.parameter import Parameter

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 5)).astype(dtype)
    Y = rng.standard_normal((16, 3)).astype(dtype)
    W = rng.standard_normal((5, 3)).astype(dtype)
    c = rng.standard_normal(3).astype(dtype)

    def grads(W, c):  # least squares ½‖XW + c − Y‖² / n
        r = (X @ W + c - Y) / len(X)
        return X.T @ r, r.sum(axis=0)

    return W, c, grads


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_matches_torch_for_5_steps(name, kwargs, dtype, tol):
    W, c, grads = _problem(dtype)
    ours = [Parameter(W.copy(), dtype=dtype), Parameter(c.copy(), dtype=dtype)]
    theirs = [
        torch.tensor(W.copy(), requires_grad=True),
        torch.tensor(c.copy(), requires_grad=True),
    ]
    opt = getattr(nopt, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(5):
        for p, g in zip(ours, grads(ours[0].data, ours[1].data)):
            p.grad = g
        for p, g in zip(theirs, grads(theirs[0].detach().numpy(), theirs[1].detach().numpy())):
            p.grad = torch.from_numpy(np.ascontiguousarray(g))
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            assert p.data.dtype == dtype
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=tol, atol=tol)


def test_sgd_momentum_with_changing_lr_matches_torch():
    # PyTorch's convention: the current lr multiplies the whole velocity
    W, c, grads = _problem(np.float64)
    ours = [Parameter(W.copy(), dtype=np.float64), Parameter(c.copy(), dtype=np.float64)]
    theirs = [
        torch.tensor(W.copy(), requires_grad=True),
        torch.tensor(c.copy(), requires_grad=True),
    ]
    opt = nopt.SGD(ours, lr=0.2, momentum=0.9)
    topt = torch.optim.SGD(theirs, lr=0.2, momentum=0.9)
    sched = nopt.StepLR(opt, step_size=2, gamma=0.3)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.3)
    for _ in range(6):
        for p, g in zip(ours, grads(ours[0].data, ours[1].data)):
            p.grad = g
        for p, g in zip(theirs, grads(theirs[0].detach().numpy(), theirs[1].detach().numpy())):
            p.grad = torch.from_numpy(g)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("ExponentialLR", dict(gamma=0.9)),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
        ("ConstantLR", dict(factor=0.25, total_iters=4)),
        ("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (1.0 + t))),
    ],
)
def test_schedulers_match_torch(name, kwargs):
    opt = nopt.SGD([Parameter(np.zeros(2))], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    sched = getattr(nopt, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(8):  # stay within T_max: past it PyTorch's recursive form drifts
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
        topt.step()
        sched.step()
        tsched.step()


def test_lbfgs_reaches_torch_minimum():
    # different line searches, same minimizer of a strictly convex problem
    W, c, _ = _problem(np.float64)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 5))
    Y = rng.standard_normal((30, 3))
    ours = Parameter(W.copy(), dtype=np.float64)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    theirs = torch.tensor(W.copy(), requires_grad=True)

    import numnet

    Xn, Yn = numnet.tensor(X, dtype=numnet.float64), numnet.tensor(Y, dtype=numnet.float64)
    opt = nopt.LBFGS([ours], max_iter=200, tolerance_grad=1e-10, tolerance_change=0.0)

    def closure():
        opt.zero_grad()
        loss = (((Xn @ ours - Yn) ** 2).sum()) * 0.5
        loss.backward()
        return loss

    topt = torch.optim.LBFGS(
        [theirs],
        max_iter=200,
        tolerance_grad=1e-10,
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )

    def tclosure():
        topt.zero_grad()
        loss = 0.5 * ((Xt @ theirs - Yt) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    topt.step(tclosure)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-8)
    np.testing.assert_allclose(ours.data, np.linalg.lstsq(X, Y, rcond=None)[0], atol=1e-8)
