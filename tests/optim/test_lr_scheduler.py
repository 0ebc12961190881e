"""Learning-rate schedules: seed 000's annealing, step, exponential, cosine, constant, lambda."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numnet.nn.parameter import Parameter
from numnet.optim import SGD
from numnet.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    SeedAnnealingLR,
    StepLR,
    constant_lr,
    cosine_annealing_lr,
    exponential_lr,
    seed_annealing_lr,
    step_lr,
)


def _opt(lr=0.1, groups=1):
    return SGD(
        [{"params": [Parameter(np.zeros(2))], "lr": lr * (i + 1)} for i in range(groups)], lr=lr
    )


def _lrs(sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n - 1):
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_seed_annealing_values():
    # seed 000: η₀ for k ≤ k₀, then ∝ 1/k, continuous at k₀: η_k = η₀ k₀ / k
    eta0, k0 = 0.5, 4
    assert [seed_annealing_lr(k, eta0, k0) for k in (1, 2, 3, 4)] == [0.5] * 4
    assert seed_annealing_lr(5, eta0, k0) == pytest.approx(0.4)  # 0.5·4/5
    assert seed_annealing_lr(8, eta0, k0) == pytest.approx(0.25)  # 0.5·4/8
    assert seed_annealing_lr(100, eta0, k0) == pytest.approx(0.02)  # 0.5·4/100
    # 1/k decay: doubling k halves the rate once past k₀
    assert seed_annealing_lr(40, eta0, k0) == pytest.approx(2 * seed_annealing_lr(80, eta0, k0))
    with pytest.raises(ValueError, match="from 1"):
        seed_annealing_lr(0, eta0, k0)


def test_seed_annealing_scheduler_counts_updates_from_one():
    opt = _opt(lr=0.5)
    sched = SeedAnnealingLR(opt, k0=4)
    # lr used by update k = 1..8
    got = _lrs(sched, 8)
    np.testing.assert_allclose(
        got, [0.5, 0.5, 0.5, 0.5, 0.4, 0.5 * 4 / 6, 0.5 * 4 / 7, 0.25], rtol=1e-15
    )
    assert opt.param_groups[0]["lr"] == got[-1]
    assert opt.param_groups[0]["initial_lr"] == 0.5


def test_step_exponential_cosine_constant_values():
    assert [step_lr(t, 0.1, 3, 0.5) for t in (0, 2, 3, 5, 6)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025]
    )
    assert exponential_lr(0, 0.1, 0.9) == 0.1
    assert exponential_lr(2, 0.1, 0.9) == pytest.approx(0.081)
    assert cosine_annealing_lr(0, 0.1, 10, 0.01) == pytest.approx(0.1)
    assert cosine_annealing_lr(5, 0.1, 10, 0.01) == pytest.approx(0.055)  # midpoint
    assert cosine_annealing_lr(10, 0.1, 10, 0.01) == pytest.approx(0.01)
    # t = T_max/3: 0.01 + 0.09·(1 + cos(π/3))/2 = 0.01 + 0.09·0.75
    assert cosine_annealing_lr(2, 0.1, 6, 0.01) == pytest.approx(0.0775)
    assert [constant_lr(t, 0.3, 0.5, 2) for t in range(4)] == pytest.approx([0.15, 0.15, 0.3, 0.3])


def test_scheduler_classes_follow_their_functions():
    cases = [
        (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda t, b: step_lr(t, b, 3, 0.5)),
        (lambda o: ExponentialLR(o, gamma=0.9), lambda t, b: exponential_lr(t, b, 0.9)),
        (
            lambda o: CosineAnnealingLR(o, T_max=6, eta_min=0.001),
            lambda t, b: cosine_annealing_lr(t, b, 6, 0.001),
        ),
        (
            lambda o: ConstantLR(o, factor=0.5, total_iters=2),
            lambda t, b: constant_lr(t, b, 0.5, 2),
        ),
        (lambda o: ConstantLR(o, factor=1.0), lambda t, b: b),
        (lambda o: LambdaLR(o, lambda t: 1 / (1 + t)), lambda t, b: b / (1 + t)),
    ]
    for make, fn in cases:
        opt = _opt(lr=0.1, groups=2)
        sched = make(opt)
        for t in range(10):
            assert sched.last_epoch == t
            assert sched.get_last_lr() == pytest.approx([fn(t, 0.1), fn(t, 0.2)])
            assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
            sched.step()


def test_step_lr_drives_sgd():
    p = Parameter(np.array([1.0]), dtype=np.float64)
    opt = SGD([p], lr=0.1)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(4):
        p.grad = np.array([1.0])
        opt.step()
        sched.step()
    # steps with lr 0.1, 0.1, 0.01, 0.01
    np.testing.assert_allclose(p.data, [1.0 - 0.22], rtol=1e-14)


def test_scheduler_state_dict_round_trip():
    opt = _opt()
    sched = CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    sd = sched.state_dict()
    assert sd["last_epoch"] == 4 and "optimizer" not in sd
    opt2 = _opt()
    sched2 = CosineAnnealingLR(opt2, T_max=10)
    opt2.load_state_dict(opt.state_dict())  # the rates: schedulers chain from them
    sched2.load_state_dict(sd)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert sched2.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi / 2)))


def test_lambda_lr_state_dict_leaves_out_functions():
    sched = LambdaLR(_opt(), lambda t: 0.5**t)
    sched.step()
    sd = sched.state_dict()
    assert "lr_lambdas" not in sd and sd["last_epoch"] == 1


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda o: SeedAnnealingLR(o, k0=0), "k0"),
        (lambda o: StepLR(o, step_size=0), "step_size"),
        (lambda o: StepLR(o, step_size=2, gamma=0.0), "gamma"),
        (lambda o: ExponentialLR(o, gamma=-0.5), "gamma"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1.0), "eta_min"),
        (lambda o: ConstantLR(o, factor=1.5), "factor"),
        (lambda o: LambdaLR(o, [lambda t: 1.0, lambda t: 1.0]), "lr_lambdas"),
    ],
)
def test_bad_scheduler_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(_opt())


# -- composition (chainable schedulers), as in torch ------------------------------------
def _torch_lrs(torch, make, n, lr=0.1):
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=lr)
    step = make(torch.optim.lr_scheduler, opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n - 1):
        opt.step()
        step()
        out.append(opt.param_groups[0]["lr"])
    return out


def _our_lrs(make, n, lr=0.1):
    from numnet.optim import lr_scheduler

    opt = SGD([Parameter(np.zeros(2))], lr=lr)
    step = make(lr_scheduler, opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n - 1):
        step()
        out.append(opt.param_groups[0]["lr"])
    return out


def _both(m, o):
    a, b = m.StepLR(o, step_size=3, gamma=0.5), m.ExponentialLR(o, gamma=0.9)

    def step():
        a.step()
        b.step()

    return step


def _with_cosine(m, o):
    a, b = m.CosineAnnealingLR(o, T_max=6, eta_min=0.001), m.StepLR(o, step_size=4, gamma=0.3)

    def step():
        a.step()
        b.step()

    return step


def _chained(m, o):
    return m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=3),
                               m.ExponentialLR(o, gamma=0.8)]).step  # fmt: skip


def _sequential(m, o):
    warm = m.ConstantLR(o, factor=0.25, total_iters=2)
    return m.SequentialLR(o, [warm, m.StepLR(o, step_size=2, gamma=0.5)], milestones=[3]).step


def _sequential_cosine(m, o):
    first = m.ExponentialLR(o, gamma=0.7)
    return m.SequentialLR(o, [first, m.CosineAnnealingLR(o, T_max=5)], milestones=[4]).step


@pytest.mark.parametrize("make", [_both, _with_cosine, _chained, _sequential, _sequential_cosine])
def test_schedulers_compose_like_torch(make):
    torch = pytest.importorskip("torch")
    want = _torch_lrs(torch, make, 16)
    got = _our_lrs(make, 16)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_step_and_exponential_on_one_optimizer_multiply():
    got = _our_lrs(_both, 10)
    # η₀·0.5^⌊t/3⌋·0.9ᵗ: each scheduler scales the rate the other left
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (t // 3) * 0.9**t for t in range(10)], rtol=1e-13)


def test_chained_and_sequential_errors_and_state():
    from numnet.optim.lr_scheduler import ChainedScheduler, SequentialLR

    opt, other = _opt(), _opt()
    with pytest.raises(ValueError, match="different optimizer"):
        ChainedScheduler([StepLR(opt, 2), StepLR(other, 2)])
    with pytest.raises(ValueError, match="milestones"):
        SequentialLR(opt, [StepLR(opt, 2), StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="at least one"):
        ChainedScheduler([])
    opt = _opt()
    chain = ChainedScheduler([StepLR(opt, 2, gamma=0.5), ExponentialLR(opt, gamma=0.9)])
    for _ in range(3):
        chain.step()
    sd = chain.state_dict()
    assert [s["last_epoch"] for s in sd["_schedulers"]] == [3, 3]
    assert chain.get_last_lr() == [opt.param_groups[0]["lr"]]
