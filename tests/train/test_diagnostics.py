"""GradientDiagnostics: the right layers and shapes, the schedule, and no effect on training."""

import numpy as np
import pytest

import numnet.nn.functional as F
from numnet import models, nn, optim, train
from numnet.train import GradientDiagnostics, tensor_summary


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return X, y


def make_model(dropout=0.0):
    return models.mlp(4, (8, 6), 3, activation="tanh", dropout=dropout, generator=0)


def fit(model, data, callbacks, epochs=2):
    return train.fit(
        model,
        F.cross_entropy,
        optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        data,
        epochs=epochs,
        batch_size=16,
        generator=0,
        verbose=0,
        callbacks=callbacks,
    )


def test_records_the_right_layers_and_shapes(data):
    X, y = data
    diag = GradientDiagnostics(every=4, probe=(X[:10], y[:10]), loss_fn=F.cross_entropy, bins=7)
    fit(make_model(), data, [diag])
    assert diag.layer_names("grad") == ["0.weight", "2.weight", "4.weight"]
    assert diag.layer_names("weight") == ["0.weight", "2.weight", "4.weight"]
    assert diag.layer_names("activation") == ["1", "3"]  # the Tanh layers
    assert diag.layer_names("activation_grad") == ["1", "3"]
    rec = diag.records[0]
    assert rec["grad"]["0.weight"]["shape"] == [8, 4]
    assert rec["grad"]["4.weight"]["shape"] == [3, 6]
    assert rec["activation"]["1"]["shape"] == [10, 8]
    assert rec["activation_grad"]["3"]["shape"] == [10, 6]
    for kind in ("grad", "weight", "activation", "activation_grad"):
        for s in rec[kind].values():
            assert s["counts"].shape == (7,) and s["edges"].shape == (8,)
            assert s["counts"].sum() == np.prod(s["shape"])
    everything = GradientDiagnostics(every=4, params="all")
    fit(make_model(), data, [everything], epochs=1)
    assert everything.layer_names("grad") == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]


def test_schedule_initial_every_and_explicit_steps(data):
    diag = GradientDiagnostics(every=5, steps=[1, 7])
    fit(make_model(), data, [diag])  # 96/16 = 6 steps per epoch, 12 steps
    assert [r["step"] for r in diag.records] == [0, 1, 5, 7, 10]
    assert "grad" not in diag.records[0]  # no probe: nothing to say about gradients at step 0
    assert [r["epoch"] for r in diag.records] == [0, 1, 1, 2, 2]
    steps, norms = diag.norms("grad")
    assert list(steps) == [1, 5, 7, 10] and set(norms) == {"0.weight", "2.weight", "4.weight"}
    assert all(np.all(v > 0) for v in norms.values())
    assert diag.at(7)["step"] == 7
    with pytest.raises(KeyError):
        diag.at(3)


def test_gradients_are_those_of_the_training_step(data):
    X, y = data
    model = make_model()
    seen = {}

    class Grab(train.Callback):
        def on_batch_end(self, loop, batch, logs):
            if batch == 2:
                seen["g"] = np.linalg.norm(loop.model[0].weight.grad)

    diag = GradientDiagnostics(every=None, steps=[3], record_initial=False)
    fit(model, data, [Grab(), diag], epochs=1)
    assert diag.records[0]["grad"]["0.weight"]["norm"] == pytest.approx(seen["g"], rel=1e-6)


def test_probe_pass_does_not_change_training(data):
    X, y = data
    a, b = make_model(dropout=0.3), make_model(dropout=0.3)
    fit(a, data, [])
    diag = GradientDiagnostics(every=2, probe=(X[:20], y[:20]), loss_fn=F.cross_entropy)
    fit(b, data, [diag])
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data), name  # bit for bit: no RNG draw, no grad left
    assert all(m.training for m in b.modules())
    assert "forward" not in vars(b[0])  # the capturing wrappers are removed


def test_vanishing_gradient_is_visible_in_a_deep_sigmoid_net(data):
    X, y = data
    model = models.mlp(4, (16,) * 5, 3, activation="sigmoid", generator=0)
    diag = GradientDiagnostics(every=None, probe=(X, y), loss_fn=F.cross_entropy)
    diag.on_train_begin(train.loop.Loop(model, None, None, 1, 1), {})
    norms = [
        diag.records[0]["activation_grad"][n]["norm"] for n in diag.layer_names("activation_grad")
    ]
    assert len(norms) == 5 and all(a < b for a, b in zip(norms, norms[1:]))  # σ' ≤ 1/4


def test_state_dict_survives_a_checkpointed_fit(data, tmp_path):
    X, y = data
    diag = GradientDiagnostics(every=3, probe=(X[:8], y[:8]), loss_fn=F.cross_entropy)
    fit(make_model(), data, [diag], epochs=1)
    state = diag.state_dict()
    other = GradientDiagnostics(every=3)
    other.load_state_dict(state)
    assert other.records == diag.records and other._step == diag._step
    # a run killed after epoch 1 and resumed from its checkpoint records the same steps
    ck = tmp_path / "ck.safetensors"

    def run(epochs):
        model = make_model()
        d = GradientDiagnostics(every=4, probe=(X[:8], y[:8]), loss_fn=F.cross_entropy)
        train.fit(
            model,
            F.cross_entropy,
            optim.SGD(model.parameters(), lr=0.1),
            data,
            epochs=epochs,
            batch_size=16,
            generator=0,
            verbose=0,
            callbacks=[d],
            checkpoint=ck,
        )
        return d

    run(1)
    resumed = run(2)
    ck.unlink()
    straight = run(2)
    assert [r["step"] for r in resumed.records] == [r["step"] for r in straight.records]
    assert resumed.records[-1]["grad"]["0.weight"]["norm"] == pytest.approx(
        straight.records[-1]["grad"]["0.weight"]["norm"]
    )


def test_tensor_summary_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 20)).astype(np.float32)
    a[0, :5] = 0
    s = tensor_summary(a, bins=10)
    counts, edges = np.histogram(a, bins=10)
    assert np.array_equal(s["counts"], counts) and np.allclose(s["edges"], edges)
    assert s["norm"] == pytest.approx(np.linalg.norm(a.astype(np.float64)), rel=1e-6)
    assert s["mean"] == pytest.approx(a.mean(dtype=np.float64), rel=1e-6, abs=1e-9)
    assert s["std"] == pytest.approx(a.std(dtype=np.float64), rel=1e-5)
    assert s["zero_fraction"] == pytest.approx(5 / 600)
    big = rng.standard_normal(200_000).astype(np.float32)
    sb = tensor_summary(big, bins=20, max_hist_values=10_000)
    exact = np.histogram(big, bins=20)[0] / big.size
    assert abs(sb["counts"].sum() - big.size) <= 20
    assert np.abs(sb["counts"] / big.size - exact).max() < 0.01
    const = tensor_summary(np.full(7, 2.0), bins=3)
    assert const["counts"].tolist() == [7, 0, 0] and const["std"] == pytest.approx(0, abs=1e-7)
    nan = tensor_summary(np.array([1.0, np.nan, 3.0, np.inf]), bins=2)
    assert nan["nonfinite_fraction"] == 0.5 and nan["counts"].sum() == 2
    with pytest.raises(ValueError, match="empty"):
        tensor_summary(np.array([]))


def test_argument_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="loss_fn"):
        GradientDiagnostics(probe=(X, y))
    with pytest.raises(ValueError, match="params"):
        GradientDiagnostics(params="biases")
    with pytest.raises(ValueError, match="every"):
        GradientDiagnostics(every=0)
    with pytest.raises(ValueError, match="nothing to record"):
        GradientDiagnostics(every=None, record_initial=False)
    with pytest.raises(ValueError, match="kind"):
        GradientDiagnostics().norms("bias")
    diag = GradientDiagnostics(probe=(X[:4], y[:4]), loss_fn=F.cross_entropy, modules=["9"])
    with pytest.raises(KeyError, match="no module"):
        fit(make_model(), data, [diag], epochs=1)
    chosen = GradientDiagnostics(
        every=None, probe=(X[:4], y[:4]), loss_fn=F.cross_entropy, modules=["0", "4"]
    )
    fit(make_model(), data, [chosen], epochs=1)
    assert chosen.layer_names("activation") == ["0", "4"]  # Linear outputs on request
    assert isinstance(make_model()[1], nn.Tanh)
