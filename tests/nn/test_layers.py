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
    from numnet.nn.module import StateDictError

    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = m.state_dict()
    bad = dict(state)
    del bad["1.bias"]
    bad["2.weight"] = np.zeros((1, 3))
    # like torch: a RuntimeError listing missing and unexpected keys; also a KeyError
    # (what numnet raised before)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.bias"') as info:
        m.load_state_dict(bad)
    assert 'Unexpected key(s) in state_dict: "2.weight"' in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, StateDictError)
    bad = dict(state)
    bad["0.weight"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"size mismatch for '0.weight'.*\(4, 2\).*\(3, 2\)"):
        m.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="size mismatch"):  # also with strict=False
        m.load_state_dict(bad, strict=False)
    before = m[0].bias.data.copy()
    partial = {"0.bias": np.full(3, 7.0)}
    result = m.load_state_dict(partial, strict=False)
    assert np.all(m[0].bias.data == 7) and not np.all(before == 7)
    assert result == (["0.weight", "1.weight", "1.bias"], [])


def test_load_state_dict_returns_torch_incompatible_keys():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    state = {k: v for k, v in ours.state_dict().items() if k != "1.bias"}
    state["extra"] = np.zeros(1, np.float32)
    got = ours.load_state_dict(state, strict=False)
    want = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    assert got.missing_keys == want.missing_keys == ["1.bias"]
    assert got.unexpected_keys == want.unexpected_keys == ["extra"]
    assert tuple(got) == (want.missing_keys, want.unexpected_keys)
    full = ours.state_dict()
    assert ours.load_state_dict(full) == ([], [])
    assert repr(ours.load_state_dict(full)) == repr(
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in full.items()})
    )  # "<All keys matched successfully>"
    with pytest.raises(RuntimeError) as err:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    with pytest.raises(RuntimeError) as ours_err:
        ours.load_state_dict(state)
    for line in ("Missing key(s) in state_dict", "Unexpected key(s) in state_dict"):
        assert line in str(err.value) and line in str(ours_err.value)


def test_load_state_dict_loads_nan_and_inf_like_torch():
    torch = pytest.importorskip("torch")
    m = nn.Linear(2, 2)
    t = torch.nn.Linear(2, 2)
    state = m.state_dict()
    state["weight"][0, 0] = np.nan
    state["bias"][1] = np.inf
    version = m.weight._version
    m.load_state_dict(state)  # no error: values are not checked, as in torch
    t.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    np.testing.assert_array_equal(m.weight.data, t.weight.detach().numpy())
    np.testing.assert_array_equal(m.bias.data, t.bias.detach().numpy())
    assert np.isnan(m.weight.data[0, 0]) and m.bias.data[1] == np.inf
    assert m.weight._version > version  # the write is recorded


def test_load_state_dict_checks_everything_before_copying():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = [p.data.copy() for p in m.parameters()]
    state = {k: v + 1 for k, v in m.state_dict().items()}
    state["1.weight"] = np.zeros((2, 2))
    with pytest.raises(ValueError):
        m.load_state_dict(state)
    for p, b in zip(m.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_shared_parameter_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(2, 2, generator=0)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    tlin = torch.nn.Linear(2, 2)
    tseq = torch.nn.Sequential(tlin, torch.nn.Tanh(), tlin)
    tseq.load_state_dict({k: torch.from_numpy(v) for k, v in seq.state_dict().items()})
    sd = seq.state_dict()
    assert list(sd) == list(tseq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert sd["0.weight"] is sd["2.weight"]  # one copy per parameter, as torch's storage
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in tseq.named_parameters()]
    assert seq.shared_parameter_names() == {
        "0.weight": ["0.weight", "2.weight"],
        "0.bias": ["0.bias", "2.bias"],
    }
    # either name, or both, loads the shared parameter
    seq.load_state_dict({"0.weight": np.ones((2, 2)), "2.bias": np.full(2, 3.0)})
    assert np.all(lin.weight.data == 1) and np.all(lin.bias.data == 3)
    bad = seq.state_dict()
    bad["2.bias"] = bad["2.bias"] + 1
    with pytest.raises(ValueError, match="shared parameter"):
        seq.load_state_dict(bad)
    with pytest.raises(KeyError, match='Missing.*"0.bias", "2.bias"'):
        seq.load_state_dict({"0.weight": np.ones((2, 2))})


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
