"""The training loop: shuffling, validation split, callbacks, guards, checkpoint/resume."""

import json
from functools import partial

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import models, nn, optim, train
from numnet.data import spirals
from numnet.optim.lr_scheduler import StepLR
from tests._fitting import Kill, quiet_fit


def data(n=300, seed=0):
    return spirals(n, 3, generator=seed)


def make(seed=0, dropout=0.0):
    model = models.mlp(2, [16, 16], 3, activation="relu", dropout=dropout, generator=seed)
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def test_fit_learns_and_records_history():
    X, y = data(600)
    model, opt = make()
    hist = quiet_fit(
        model, (X, y), optimizer=opt, epochs=25, batch_size=32, validation=0.1, generator=0
    )
    assert len(hist) == 25
    assert set(hist.epochs[0]) >= {
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "time",
    }
    assert hist["loss"][-1] < hist["loss"][0] / 2
    assert hist["val_accuracy"][-1] > 0.85
    res = train.evaluate(model, F.cross_entropy, (X, y))
    assert res["accuracy"] > 0.85
    out = train.predict(model, X[:7])
    assert out.shape == (7, 3) and out.dtype == np.float32


def test_same_seed_same_run_and_fresh_shuffles():
    X, y = data()
    runs = []
    for _ in range(2):
        model, opt = make(seed=3)
        quiet_fit(model, (X, y), optimizer=opt, epochs=3, batch_size=16, generator=5)
        runs.append(model.state_dict())
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
    model, opt = make(seed=3)
    quiet_fit(model, (X, y), optimizer=opt, epochs=3, batch_size=16, generator=6)
    assert not np.array_equal(model.state_dict()["0.weight"], runs[0]["0.weight"])


def test_seed_is_the_deprecated_name_of_generator():
    X, y = data()
    fit = partial(train.fit, loss_fn=F.cross_entropy, train_data=(X, y), epochs=2, verbose=0)
    model, opt = make(seed=3)
    fit(model, optimizer=opt, generator=5)
    old, opt = make(seed=3)
    with pytest.warns(DeprecationWarning, match="seed= is deprecated.*use generator="):
        fit(old, optimizer=opt, seed=5)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(old.state_dict()[k], v)
    with pytest.raises(TypeError, match="got both 'seed' and 'generator'"):
        fit(old, optimizer=opt, seed=5, generator=5)


def test_each_epoch_sees_every_sample_once_and_drop_last():
    X = np.arange(10, dtype=np.float32)[:, None]
    y = np.zeros(10, dtype=np.int64)
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(1, 2, generator=0)

        def forward(self, x):
            seen.append(x.data[:, 0].copy())
            return self.lin(x)

    model = Spy()
    quiet_fit(model, (X, y), lr=0.0, epochs=2, batch_size=4, generator=0)
    first = np.concatenate(seen[:3])
    second = np.concatenate(seen[3:6])
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert not np.array_equal(first, second)  # a fresh permutation each epoch
    seen.clear()
    quiet_fit(model, (X, y), lr=0.0, epochs=1, batch_size=4, generator=0, drop_last=True)
    assert [len(s) for s in seen] == [4, 4]


def test_early_stopping_restores_best_weights():
    X, y = data(300)
    model, opt = make()
    snapshots = {}

    class Snap(train.Callback):
        def on_epoch_end(self, loop, epoch, logs):
            snapshots[epoch] = loop.model.state_dict()

    stopper = train.EarlyStopping("val_loss", patience=2)
    # an absurd learning rate after epoch 3 makes the validation loss rise
    sched = train.LearningRateScheduler(lambda k: 0.1 if k < 3 else 3.0)
    hist = quiet_fit(
        model,
        (X, y),
        optimizer=opt,
        epochs=30,
        batch_size=32,
        validation=0.2,
        generator=0,
        callbacks=[Snap(), stopper, sched],
    )
    assert hist.stopped_epoch is not None and len(hist) < 30
    best = int(np.argmin(hist["val_loss"])) + 1
    assert stopper.best_epoch == best
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, snapshots[best][k])


def test_nan_guard_names_epoch_and_batch_and_keeps_good_weights():
    X, y = data(200)
    model, opt = make()
    quiet_fit(model, (X, y), optimizer=opt, epochs=1, batch_size=50, generator=0)
    before = model.state_dict()

    class Poison(train.Callback):
        def on_batch_end(self, loop, batch, logs):
            if loop.epoch == 2 and batch == 1:
                loop.model[0].weight.data[0, 0] = np.nan

    with pytest.raises(train.TrainingDivergedError, match=r"epoch 2, batch 3/4") as info:
        quiet_fit(
            model, (X, y), optimizer=opt, epochs=3, batch_size=50, generator=0, callbacks=[Poison()]
        )
    assert len(info.value.history) == 1
    after = model.state_dict()
    assert all(np.all(np.isfinite(v)) for v in after.values())
    assert not np.array_equal(after["0.weight"], before["0.weight"])  # epoch 1 of run 2


def test_kill_and_resume_equals_uninterrupted(tmp_path):
    X, y = data(300)

    def run(ckpt, kill_at=None):
        model, opt = make(seed=1, dropout=0.3)
        callbacks = [
            train.EarlyStopping("val_loss", patience=50),
            train.LearningRateScheduler(StepLR(opt, step_size=2, gamma=0.5)),
        ]
        if kill_at is not None:
            callbacks.append(Kill(kill_at))
        fit = partial(
            quiet_fit,
            model,
            (X, y),
            optimizer=opt,
            epochs=5,
            batch_size=32,
            validation=0.1,
            generator=7,
            callbacks=callbacks,
            checkpoint=ckpt,
        )
        if kill_at is None:
            return model, fit()
        with pytest.raises(KeyboardInterrupt):
            fit()
        return model, None

    ref, ref_hist = run(tmp_path / "a.safetensors")
    run(tmp_path / "b.safetensors", kill_at=(3, 4))  # killed in the middle of epoch 3
    resumed, hist = run(tmp_path / "b.safetensors")  # restarted with the same arguments
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v, err_msg=k)
    assert [r["loss"] for r in hist.epochs] == [r["loss"] for r in ref_hist.epochs]
    assert [r["lr"] for r in hist.epochs] == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_loggers_and_model_checkpoint(tmp_path):
    from numnet import io

    X, y = data(200)
    model, opt = make()
    cbs = [
        train.CSVLogger(tmp_path / "h.csv"),
        train.JSONLogger(tmp_path / "h.json"),
        train.ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_accuracy"),
    ]
    hist = quiet_fit(
        model,
        (X, y),
        optimizer=opt,
        epochs=4,
        batch_size=32,
        validation=0.2,
        generator=0,
        callbacks=cbs,
    )
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,loss,accuracy,val_loss,val_accuracy,lr,time")
    assert len(lines) == 5
    rows = json.loads((tmp_path / "h.json").read_text())["epochs"]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    best = io.load(tmp_path / "best.safetensors")
    meta = io.load_metadata(tmp_path / "best.safetensors")
    assert meta["val_accuracy"] == max(hist["val_accuracy"])
    assert train.evaluate(best, F.cross_entropy, (X, y))["accuracy"] > 0.3


def test_bad_inputs():
    model, opt = make()
    X, y = data(50)
    with pytest.raises(ValueError, match="same number of samples"):
        train.fit(model, F.cross_entropy, opt, (X, y[:10]), epochs=1)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train.fit(model, F.cross_entropy, opt, (bad, y), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, F.cross_entropy, opt, (X, y), epochs=0)
    with pytest.raises(KeyError, match="val_loss"):
        train.fit(
            model,
            F.cross_entropy,
            opt,
            (X, y),
            epochs=1,
            verbose=0,
            callbacks=[train.EarlyStopping("val_loss")],
        )


def test_progress_bar_forced(capsys):
    X, y = data(100)
    model, opt = make()
    train.fit(
        model,
        F.cross_entropy,
        opt,
        (X, y),
        epochs=2,
        batch_size=25,
        verbose=0,
        callbacks=[train.ProgressBar(force=True)],
    )
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "4/4" in err


def test_verbose_1_without_a_terminal_prints_one_line_per_epoch(capsys):
    """Output redirected (a log file, a pipe): no bar, one line per epoch on stderr."""
    X, y = data(100)
    model, opt = make()
    train.fit(model, F.cross_entropy, opt, (X, y), epochs=2, batch_size=25, verbose=1)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert [ln.split("  ")[0] for ln in lines] == ["epoch 1/2", "epoch 2/2"], err
    assert "\r" not in err and "loss " in lines[0]


def test_no_float64_on_the_training_hot_path(monkeypatch):
    """Every node recorded during float32 training steps (MLP and ConvNet) is float32."""
    from numnet.tensor import Tensor

    seen = []
    original = Tensor._node.__func__

    def spy(cls, array, parents, vjp, op):
        seen.append((op, array.dtype))
        return original(cls, array, parents, vjp, op)

    monkeypatch.setattr(Tensor, "_node", classmethod(spy))
    X, y = data(64)
    model, opt = make(dropout=0.2)
    quiet_fit(model, (X, y), optimizer=opt, epochs=1, batch_size=16)
    net = models.convnet(channels=(2, 3), hidden=8, dropout=0.5, generator=0)
    imgs = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    labels = np.arange(8) % 10
    quiet_fit(net, (imgs, labels), lr=0.01, epochs=1, batch_size=4)
    assert seen and all(dt == np.float32 for _, dt in seen), {
        op for op, dt in seen if dt != np.float32
    }
    for p in model.parameters():
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32


def test_resume_restores_the_default_generator_used_by_functional_dropout(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            self.a = nn.Linear(2, 16, generator=0)
            self.b = nn.Linear(16, 3, generator=1)

        def forward(self, x):
            return self.b(F.dropout(numnet.relu(self.a(x)), 0.5, self.training))

    X, y = data(120)

    def run(epochs, ckpt):
        numnet.manual_seed(11)
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        quiet_fit(
            model, (X, y), optimizer=opt, epochs=epochs, batch_size=20, generator=3, checkpoint=ckpt
        )
        return model

    ref = run(3, tmp_path / "a.safetensors")
    run(1, tmp_path / "b.safetensors")  # stopped after epoch 1; resumed below from a fresh
    # default generator, whose state must come from the checkpoint
    resumed = run(3, tmp_path / "b.safetensors")
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v)


def test_integer_features_are_cast_to_the_model_dtype():
    X = (np.random.default_rng(0).random((40, 4)) * 255).astype(np.uint8)
    y = np.arange(40) % 2
    model = nn.Sequential(nn.Linear(4, 2, generator=0))
    with pytest.warns(UserWarning, match=r"integer features \(uint8\) .* divide by 255"):
        quiet_fit(model, (X, y), lr=1e-3, epochs=1, batch_size=8)
    assert model[0].weight.dtype == np.float32
    with pytest.warns(UserWarning, match="without scaling"):
        assert train.predict(model, X).dtype == np.float32
