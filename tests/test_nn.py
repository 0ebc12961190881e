"""Modules: parameter discovery and names, modes, state dicts, initialisers."""

import math

import numpy as np
import pytest

import numnet
from numnet import nn


class TwoLayer(nn.Module):
    def __init__(self):
        self.layers = [nn.Linear(3, 4, generator=0), nn.Linear(4, 2, generator=1)]
        self.heads = {"a": nn.Linear(2, 1, generator=2)}
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self._cache = nn.Linear(2, 2)  # private: not a child

    def forward(self, x):
        for layer in self.layers:
            x = numnet.relu(layer(x))
        return self.heads["a"](x) * self.scale


def test_parameter_names_are_deterministic():
    names = [n for n, _ in TwoLayer().named_parameters()]
    assert names == [
        "scale",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "heads.a.weight",
        "heads.a.bias",
    ]
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 1))
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert seq.num_parameters() == 2 * 3 + 3 + 3 + 1


def test_shared_parameters_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2


def test_linear_shapes_init_and_values():
    lin = nn.Linear(400, 30, generator=0)
    assert lin.weight.shape == (30, 400) and lin.bias.shape == (30,)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight.data).max() <= bound
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.002  # U(-a,a): std a/√3
    x = np.random.default_rng(0).standard_normal((5, 400)).astype(np.float32)
    np.testing.assert_allclose(
        lin(numnet.Tensor(x)).data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-5
    )
    with pytest.raises(ValueError, match="positive"):
        nn.Linear(0, 3)


def test_same_seed_same_model():
    a = nn.Sequential(nn.Linear(3, 4, generator=5), nn.Linear(4, 1, generator=6))
    b = nn.Sequential(nn.Linear(3, 4, generator=5), nn.Linear(4, 1, generator=6))
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_train_eval_switches_dropout():
    seq = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5, generator=0))
    seq.eval()
    assert not seq[1].training
    x = numnet.ones(2, 4)
    np.testing.assert_array_equal(seq(x).data, seq[0](x).data)
    seq.train()
    assert seq[1].training and seq.training


def test_state_dict_round_trip_and_copy_semantics():
    a, b = TwoLayer(), TwoLayer()
    for p in b.parameters():
        p.data += 1
    state = a.state_dict()
    b.load_state_dict(state)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    state["scale"][...] = 99  # a copy: the model is unchanged
    assert a.scale.data[0] == 1


def test_load_state_dict_errors():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = m.state_dict()
    bad = dict(state)
    del bad["1.bias"]
    bad["2.weight"] = np.zeros((1, 3))
    with pytest.raises(
        KeyError, match=r"missing keys: \['1.bias'\].*unexpected keys: \['2.weight'\]"
    ):
        m.load_state_dict(bad)
    bad = dict(state)
    bad["0.weight"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"'0.weight'.*\(3, 2\).*\(4, 2\)"):
        m.load_state_dict(bad)
    before = m[0].bias.data.copy()
    partial = {"0.bias": np.full(3, 7.0)}
    m.load_state_dict(partial, strict=False)
    assert np.all(m[0].bias.data == 7) and not np.all(before == 7)


def test_zero_grad_and_double():
    m = nn.Linear(3, 2)
    m(numnet.ones(1, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad()
    assert m.weight.grad is None
    m.double()
    assert m.weight.dtype == np.float64


def test_repr():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2)))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text
    assert "(1): LeakyReLU(negative_slope=0.2)" in text


@pytest.mark.parametrize(
    "fn,expected_std",
    [
        (lambda w: nn.init.xavier_uniform_(w, generator=0), math.sqrt(2 / (300 + 200))),
        (lambda w: nn.init.xavier_normal_(w, generator=0), math.sqrt(2 / (300 + 200))),
        (
            lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=0),
            math.sqrt(2 / 300),
        ),
        (
            lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=0),
            math.sqrt(2 / 300),
        ),
        (lambda w: nn.init.uniform_fan_in_(w, generator=0), 1 / 300 / math.sqrt(3)),
        (lambda w: nn.init.normal_(w, 0, 0.05, generator=0), 0.05),
    ],
)
def test_initialiser_statistics(fn, expected_std):
    w = nn.Parameter(np.empty((200, 300), dtype=np.float32))
    fn(w)
    assert w.dtype == np.float32
    assert abs(w.data.std() - expected_std) < 0.03 * expected_std
    assert abs(w.data.mean()) < 0.05 * expected_std + 1e-4


def test_initialisers_seeded_and_constant():
    a = nn.init.xavier_uniform_(nn.Parameter(np.empty((3, 4))), generator=3).data.copy()
    b = nn.init.xavier_uniform_(nn.Parameter(np.empty((3, 4))), generator=3).data
    np.testing.assert_array_equal(a, b)
    w = nn.Parameter(np.empty((2, 2)))
    assert np.all(nn.init.constant_(w, 0.5).data == 0.5)
    assert np.all(nn.init.zeros_(w).data == 0)
    assert nn.init.calculate_fans(nn.Parameter(np.empty((8, 3, 5, 5)))) == (75, 200)
    with pytest.raises(ValueError, match="at least 2"):
        nn.init.xavier_uniform_(nn.Parameter(np.empty(3)))
