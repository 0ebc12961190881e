"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch, and numnet.summary."""

import math

import numpy as np
import pytest

import numnet
from numnet import models, nn
from numnet.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), (2, 2, 2), (1,)]


def _pair(scale=10.0, seed=0, none_at=None):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for k, s in enumerate(SHAPES):
        p = nn.Parameter(np.zeros(s, dtype=np.float32))
        t = torch.zeros(s, requires_grad=True)
        if k != none_at:
            g = (rng.standard_normal(s) * scale).astype(np.float32)
            p.grad, t.grad = g.copy(), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol=1e-6):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pair(none_at=1)
    tn = float(norm_type)
    versions = [p._version for p in ours]
    grads_before = [p.grad for p in ours]
    got = clip_grad_norm_(ours, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, tn)
    assert isinstance(got, numnet.Tensor) and got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
    _assert_grads_equal(ours, theirs)
    assert [p._version for p in ours] == versions  # .grad written, data untouched
    assert all(a is b for a, b in zip(grads_before, (p.grad for p in ours)))  # in place
    assert all((p.data == 0).all() for p in ours)


def test_clip_grad_norm_coefficient_details():
    # total norm exactly max_norm: the 1e-6 still scales by max_norm / (norm + 1e-6) < 1
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    t = torch.zeros(2, requires_grad=True)
    p.grad, t.grad = np.array([3.0, 4.0], np.float32), torch.tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 5.0).item() == 5.0  # a single tensor is accepted
    torch.nn.utils.clip_grad_norm_(t, 5.0)
    np.testing.assert_array_equal(p.grad, t.grad.numpy())
    assert p.grad[0] < 3.0
    # below max_norm: clamped coefficient 1, gradients unchanged
    p.grad = np.array([0.3, 0.4], np.float32)
    clip_grad_norm_([p], 5.0)
    np.testing.assert_array_equal(p.grad, np.array([0.3, 0.4], np.float32))


def test_clip_grad_norm_without_grads_and_nonfinite():
    p = nn.Parameter(np.zeros(2))
    total = clip_grad_norm_([p], 1.0)
    assert total.item() == 0.0 and total.dtype == np.float32 and p.grad is None
    assert torch.nn.utils.clip_grad_norm_([torch.zeros(2, requires_grad=True)], 1.0).item() == 0
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((q for q in []), 1.0)
    p.grad = np.array([np.inf, 1.0], np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    t = torch.zeros(2, requires_grad=True)
    t.grad = torch.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
    got = clip_grad_norm_([p], 1.0)  # no error: scaled by the non-finite factor, as torch
    want = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert math.isinf(got.item()) and math.isinf(want.item())
    np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_get_total_norm_matches_torch():
    ours, theirs = _pair(seed=3)
    for nt in (2.0, 1.0, math.inf):
        got = get_total_norm([p.grad for p in ours], nt)
        want = torch.nn.utils.get_total_norm([t.grad for t in theirs], nt)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)


@pytest.mark.parametrize("clip_value", [0.5, 3.0, 100.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _pair(seed=1, none_at=2)
    versions = [p._version for p in ours]
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads_equal(ours, theirs, rtol=0)
    assert [p._version for p in ours] == versions
    assert max(np.abs(p.grad).max() for p in ours if p.grad is not None) <= clip_value


def test_clip_grad_norm_on_a_model_matches_torch():
    model = models.mlp(6, [8, 8], 3, generator=0)
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    )
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    X = np.random.default_rng(0).standard_normal((16, 6)).astype(np.float32) * 50
    model(numnet.tensor(X)).pow(2).sum().backward()
    tmodel(torch.tensor(X)).pow(2).sum().backward()
    got = clip_grad_norm_(model.parameters(), 1.0)
    want = torch.nn.utils.clip_grad_norm_(tmodel.parameters(), 1.0)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)
    for (_, p), (_, t) in zip(model.named_parameters(), tmodel.named_parameters()):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_seed_000_exploding_gradients_clipped():
    """Seed 000: with L = 20 layers of slope 2 the gradient is amplified by 2^20 ≈ 10^6."""
    from numnet.experiments.vanishing_gradients import DEPTH_CHAIN, chain_gradients

    L = DEPTH_CHAIN
    assert L == 20 and chain_gradients(L)["slope 2"][-1] == 2.0**20
    # the same chain with trainable slopes: y = w_L ⋯ w_1 x, every w_k = 2 (φ' = 2)
    model = nn.Sequential(*[nn.Linear(1, 1, bias=False) for _ in range(L)])
    tmodel = torch.nn.Sequential(*[torch.nn.Linear(1, 1, bias=False) for _ in range(L)])
    with numnet.no_grad():
        for p in model.parameters():
            p.fill_(2.0)
    with torch.no_grad():
        for t in tmodel.parameters():
            t.fill_(2.0)
    x = numnet.ones(1, 1)
    y = model(x)
    assert y.item() == 2.0**20
    y.sum().backward()
    tmodel(torch.ones(1, 1)).sum().backward()
    grads = np.array([p.grad.item() for p in model.parameters()])
    np.testing.assert_array_equal(grads, 2.0**19)  # ∂y/∂w_k = Π_{j≠k} w_j = 2^19
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tmodel.parameters(), max_norm=1.0)
    assert total.item() == pytest.approx(math.sqrt(L) * 2.0**19, rel=1e-6)  # ≈ 2.3·10^6
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    clipped = np.array([p.grad.item() for p in model.parameters()])
    np.testing.assert_allclose(clipped, [t.grad.item() for t in tmodel.parameters()], rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(clipped), 1.0, rtol=1e-5)
    # an SGD step of lr 0.1 now moves each weight by 0.1/√20, not by 0.1 · 2^19 ≈ 52,000
    numnet.optim.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_allclose(
        [p.item() for p in model.parameters()], 2 - 0.1 / math.sqrt(L), rtol=1e-5
    )


# -- summary -----------------------------------------------------------------------------------
def _torch_shapes(tmodel, x):
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
             for m in tmodel.children()]
    tmodel(x)
    for h in hooks:
        h.remove()
    return shapes


def test_summary_mlp_exact_numbers():
    model = models.mlp(784, [128, 64], 10, generator=0)
    s = numnet.summary(model, (1, 784))
    assert s.total_params == 109_386 == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert s.trainable_params == 109_386 and s.non_trainable_params == 0
    assert s.param_bytes == 4 * 109_386
    assert [(l.name, l.class_name) for l in s.layers] == [
        ("0", "Linear"), ("1", "ReLU"), ("2", "Linear"), ("3", "ReLU"), ("4", "Linear"),
    ]
    assert [l.output_shape for l in s.layers] == [(1, 128), (1, 128), (1, 64), (1, 64), (1, 10)]
    assert [l.num_params for l in s.layers] == [100_480, 0, 8_256, 0, 650]
    assert s.output_shape == (1, 10) and all(l.depth == 1 for l in s.layers)
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    assert [l.output_shape for l in s.layers] == _torch_shapes(tmodel, torch.zeros(1, 784))
    text = str(s)
    assert text == repr(s)
    assert "Total params: 109,386" in text and "Trainable params: 109,386" in text
    assert "Non-trainable params: 0" in text
    line = next(r for r in text.splitlines() if r.startswith("0 (Linear)"))
    assert "(1, 128)" in line and line.endswith("100,480")


def test_summary_seed_convnet_exact_numbers():
    model = models.convnet(generator=0, dropout=0.5)
    s = numnet.summary(model, (2, 1, 28, 28))
    assert s.total_params == 3_274_634
    assert [l.num_params for l in s.layers] == [
        832, 0, 0, 51_264, 0, 0, 0, 3_212_288, 0, 0, 10_250,
    ]
    shapes = [
        (2, 32, 28, 28), (2, 32, 28, 28), (2, 32, 14, 14), (2, 64, 14, 14), (2, 64, 14, 14),
        (2, 64, 7, 7), (2, 3136), (2, 1024), (2, 1024), (2, 1024), (2, 10),
    ]
    assert [l.output_shape for l in s.layers] == shapes
    assert [l.class_name for l in s.layers] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear",
        "ReLU", "Dropout", "Linear",
    ]
    tmodel = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 1024), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(1024, 10),
    )
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    assert shapes == _torch_shapes(tmodel, torch.zeros(2, 1, 28, 28))
    assert "Total params: 3,274,634" in str(s)


def test_summary_leaves_the_model_as_it_was():
    model = models.mlp(5, [7], 3, dropout=0.5, generator=0)
    twin = models.mlp(5, [7], 3, dropout=0.5, generator=0)
    versions = [p._version for p in model.parameters()]
    numnet.summary(model, (4, 5))
    assert model.training and all(m.training for m in model.modules())
    assert all("forward" not in vars(m) for m in model.modules())
    assert [p._version for p in model.parameters()] == versions
    x = numnet.randn(4, 5, generator=1)
    # dropout drew no random numbers during the summary: the next masks are the twin's
    np.testing.assert_array_equal(model(x).data, twin(x).data)
    model.eval()
    numnet.summary(model, (4, 5))
    assert not any(m.training for m in model.modules())


def test_summary_nested_shared_frozen_and_errors():
    shared = nn.Linear(4, 4, generator=0)
    block = nn.Residual(nn.Sequential(nn.Linear(4, 4, generator=1), nn.ReLU()))
    model = nn.Sequential(shared, block, shared)
    model[0].bias.requires_grad_(False)
    model.double()
    s = numnet.summary(model, [(3, 4)], dtype=numnet.float64)
    assert [(l.name, l.depth) for l in s.layers] == [
        ("0", 1), ("1", 1), ("1.block", 2), ("1.block.0", 3), ("1.block.1", 3), ("0", 1),
    ]
    assert [l.repeated for l in s.layers] == [False] * 5 + [True]
    assert s.total_params == 40 and s.trainable_params == 36 and s.non_trainable_params == 4
    assert s.layers[1].num_params == 20 and s.layers[1].own_params == 0
    assert "(recursive)" in str(s) and "Non-trainable params: 4" in str(s)
    assert s.dtype == np.float64 and s.param_bytes == 40 * 8
    with pytest.raises(Exception):  # noqa: B017  (the model's own shape error)
        numnet.summary(model, (3, 5))
    assert all("forward" not in vars(m) for m in model.modules())
    with pytest.raises(TypeError):
        numnet.summary(model, "3x4")
