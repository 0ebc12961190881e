"""The training loop's contracts: accuracy read by the loss, NaN monitors, divergence on
an epoch's last step, EarlyStopping's patience, finished runs resumed, empty data."""

import math
from functools import partial

import numpy as np
import pytest

import numnet.nn.functional as F
from numnet import io, models, nn, optim, train
from numnet.data import spirals
from tests._fitting import quiet_fit


# -- helpers ---------------------------------------------------------------------------
def _binary_data():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]], dtype=np.float32)
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype=np.float32)
    return X, y


def _linear(weight, bias, out=1, inp=1):
    lin = nn.Linear(inp, out, generator=0)
    lin.weight.data[:] = weight
    lin.bias.data[:] = bias
    return lin


def _fit(model, loss_fn, X, y, **kw):
    """Epochs with lr 0: the weights (and so the outputs) stay as set."""
    kw.setdefault("epochs", 1)
    return quiet_fit(model, (X, y), loss_fn=loss_fn, lr=0.0, batch_size=2, validation=(X, y), **kw)


class Script(train.Callback):
    """Logs a scripted metric ``key`` (NaN where the script says so) each epoch."""

    def __init__(self, values, key="score"):
        self.values, self.key = list(values), key

    def on_epoch_end(self, loop, epoch, logs):
        logs[self.key] = self.values[epoch - 1]


class Snap(train.Callback):
    def __init__(self):
        self.weights, self.batches = {}, 0

    def on_batch_end(self, loop, batch, logs):
        self.batches += 1

    def on_epoch_end(self, loop, epoch, logs):
        self.weights[epoch] = loop.model.state_dict()


def _small(seed=0):
    X, y = spirals(60, 3, generator=seed)
    model = models.mlp(2, [8], 3, activation="relu", generator=seed)
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), X, y


def _run_script(values, epochs=None, checkpoint=None, **es):
    model, opt, X, y = _small()
    stopper = train.EarlyStopping("score", **es)
    snap = Snap()
    hist = quiet_fit(
        model,
        (X, y),
        optimizer=opt,
        epochs=epochs or len(values),
        batch_size=20,
        generator=0,
        callbacks=[Script(values), stopper, snap],
        checkpoint=checkpoint,
    )
    return model, hist, stopper, snap


def _assert_weights_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# -- 4. accuracy of probability outputs --------------------------------------------------
@pytest.mark.parametrize(
    "loss_fn",
    [F.binary_cross_entropy, nn.BCELoss(), partial(F.binary_cross_entropy, reduction="mean")],
)
def test_sigmoid_probabilities_with_bce_use_threshold_one_half(loss_fn):
    X, y = _binary_data()
    # probabilities 0.12, 0.27, 0.73, 0.88: all on the right side of 0.5 (all > 0)
    model = nn.Sequential(_linear(1.0, 0.0), nn.Sigmoid())
    assert train.evaluate(model, loss_fn, (X, y))["accuracy"] == 1.0
    hist = _fit(model, loss_fn, X, y)
    assert hist["accuracy"] == [1.0] and hist["val_accuracy"] == [1.0]
    # shifted: p = σ(x - 1.5) -> 0.03, 0.08, 0.38, 0.62: only the last positive is > 0.5
    shifted = nn.Sequential(_linear(1.0, -1.5), nn.Sigmoid())
    assert train.evaluate(shifted, loss_fn, (X, y))["accuracy"] == 0.75
    assert train.accuracy_count(train.predict(shifted, X), y, loss_fn) == 3


@pytest.mark.parametrize("loss_fn", [F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss()])
def test_bce_with_logits_uses_threshold_zero(loss_fn):
    X, y = _binary_data()
    # logits -0.4, -0.2, 0.2, 0.4: right by sign, all below 0.5
    model = _linear(0.2, 0.0)
    assert train.evaluate(model, loss_fn, (X, y))["accuracy"] == 1.0
    hist = _fit(model, loss_fn, X, y)
    assert hist["accuracy"] == [1.0] and hist["val_accuracy"] == [1.0]
    assert train.accuracy_count(np.array([[0.2], [-0.2]]), np.array([0, 1]), loss_fn) == 0


def test_early_stopping_on_val_accuracy_of_a_sigmoid_model_sees_the_right_number():
    X, y = _binary_data()
    model = nn.Sequential(_linear(1.0, 0.0), nn.Sigmoid())
    stopper = train.EarlyStopping("val_accuracy", patience=1)
    hist = _fit(model, F.binary_cross_entropy, X, y, epochs=3, callbacks=[stopper])
    assert stopper.best == 1.0 and stopper.best_epoch == 1
    assert len(hist) == 2  # no improvement on 1.0 at epoch 2, patience 1


def test_softmax_cross_entropy_is_categorical_and_skips_ignored_labels():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], dtype=np.float32)
    y = np.array([0, 1, 1, 2])
    lin = nn.Linear(2, 3, generator=0)
    lin.weight.data[:] = [[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    lin.bias.data[:] = [0.0, 0.0, 0.5]
    # arg-max of the logits: 0, 1, 0 (ties: the first), 2: three of four right
    assert train.evaluate(lin, F.cross_entropy, (X, y))["accuracy"] == 0.75
    assert train.evaluate(lin, nn.CrossEntropyLoss(), (X, y))["accuracy"] == 0.75
    logsoft = nn.Sequential(lin, nn.LogSoftmax(dim=1))
    assert train.evaluate(logsoft, F.nll_loss, (X, y))["accuracy"] == 0.75
    # an ignored label is not counted: 2 right out of 3
    y_ign = np.array([0, -100, 1, 2])
    assert train.evaluate(lin, F.cross_entropy, (X, y_ign))["accuracy"] == 2 / 3
    loss = nn.CrossEntropyLoss(ignore_index=2)
    assert train.evaluate(lin, loss, (X, np.array([0, 1, 2, 0])))["accuracy"] == 2 / 3
    # probability targets: arg-max of the target
    probs = np.eye(3, dtype=np.float32)[y]
    assert train.evaluate(lin, F.cross_entropy, (X, probs))["accuracy"] == 0.75
    hist = _fit(lin, F.cross_entropy, X, y)
    assert hist["accuracy"] == [0.75] and hist["val_accuracy"] == [0.75]


def test_regression_reports_no_accuracy_and_refuses_a_required_one():
    rng = np.random.default_rng(0)
    X = rng.random((8, 2), dtype=np.float32)
    y = rng.random((8, 1), dtype=np.float32)
    model = nn.Linear(2, 1, generator=0)
    hist = _fit(model, F.mse_loss, X, y)
    assert "accuracy" not in hist.epochs[0] and "val_accuracy" not in hist.epochs[0]
    res = train.evaluate(model, nn.MSELoss(), (X, y))
    assert set(res) == {"loss"}
    assert math.isclose(
        res["loss"], float(np.mean((train.predict(model, X) - y) ** 2)), rel_tol=1e-6
    )
    for metrics in ("accuracy", ["accuracy"], train.Accuracy()):
        with pytest.raises(ValueError, match="regression"):
            train.evaluate(model, F.mse_loss, (X, y), metrics=metrics)
        before = model.state_dict()
        with pytest.raises(ValueError, match="regression"):
            _fit(model, F.mse_loss, X, y, metrics=metrics)
        _assert_weights_equal(model.state_dict(), before)
    # a classifier trained with MSE on 0/1 targets: binary accuracy when asked explicitly
    Xb, yb = _binary_data()
    acc = train.Accuracy(task="binary", threshold=0.5)
    res = train.evaluate(_linear(0.25, 0.5), F.mse_loss, (Xb, yb), metrics=acc)
    assert res["accuracy"] == 1.0  # outputs 0, 0.25, 0.75, 1


def test_unknown_loss_infers_only_what_is_unambiguous():
    Xb, yb = _binary_data()
    model = _linear(0.2, 0.0)  # logits
    custom = lambda out, t: F.binary_cross_entropy_with_logits(out, t)  # noqa: E731
    assert "accuracy" not in train.evaluate(model, custom, (Xb, yb))  # probs or logits?
    with pytest.raises(ValueError, match="threshold"):
        train.evaluate(model, custom, (Xb, yb), metrics="accuracy")
    res = train.evaluate(model, custom, (Xb, yb), metrics=train.Accuracy(threshold=0.0))
    assert res["accuracy"] == 1.0
    # C > 1 columns and integer labels: categorical, whatever the loss
    X, y = spirals(30, 3, generator=0)
    net = models.mlp(2, [4], 3, generator=0)
    ce = lambda out, t: F.cross_entropy(out, t)  # noqa: E731
    expected = float(np.mean(train.predict(net, X).argmax(1) == y))
    assert train.evaluate(net, ce, (X, y))["accuracy"] == expected
    assert "accuracy" not in train.evaluate(net, ce, (X, y), metrics=None)
    with pytest.raises(ValueError, match="unknown metric"):
        train.evaluate(net, ce, (X, y), metrics="f1")
    with pytest.raises(ValueError, match="task"):
        train.Accuracy(task="multilabel")


# -- 5. NaN in a monitored value -----------------------------------------------------------
def test_nan_first_value_never_becomes_early_stoppings_best():
    nan = float("nan")
    model, hist, stopper, snap = _run_script([nan, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9], patience=2)
    assert stopper.best == 0.5 and stopper.best_epoch == 3
    assert hist.stopped_epoch == 5 and len(hist) == 5
    _assert_weights_equal(model.state_dict(), snap.weights[3])
    # mode max, NaN in the middle too
    _, hist, stopper, _ = _run_script([nan, 0.5, nan, 0.9, 0.8, nan], patience=2, mode="max")
    assert stopper.best == 0.9 and stopper.best_epoch == 4 and hist.stopped_epoch == 6


def test_all_nan_monitor_stops_after_patience_and_keeps_the_final_weights():
    nan = float("nan")
    model, hist, stopper, snap = _run_script([nan] * 6, patience=2)
    assert stopper.best is None and stopper.best_epoch is None
    assert hist.stopped_epoch == 2
    _assert_weights_equal(model.state_dict(), snap.weights[2])


def test_model_checkpoint_saves_after_a_nan_first_value(tmp_path):
    nan = float("nan")
    for mode, values, best in (("min", [nan, 2.0, 1.0, 3.0], 3), ("max", [nan, 2.0, 1.0], 2)):
        model, opt, X, y = _small()
        path = tmp_path / f"best_{mode}.safetensors"
        snap = Snap()
        ckpt = train.ModelCheckpoint(path, monitor="score", mode=mode)
        quiet_fit(
            model,
            (X, y),
            optimizer=opt,
            epochs=len(values),
            batch_size=20,
            generator=0,
            callbacks=[Script(values), ckpt, snap],
        )
        assert io.load_metadata(path)["epoch"] == best
        _assert_weights_equal(io.load(path).state_dict(), snap.weights[best])


def test_history_best_ignores_nan():
    h = train.History([{"val_loss": float("nan")}, {"val_loss": 2.0}, {"val_loss": 1.0}])
    assert h.best()["val_loss"] == 1.0 and h.best(mode="max")["val_loss"] == 2.0
    with pytest.raises(KeyError):
        train.History([{"val_loss": float("nan")}]).best()


# -- 6. divergence on an epoch's last step -------------------------------------------------
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # lr·v with lr = inf
def test_divergence_in_the_last_step_of_an_epoch_restores_finite_weights(tmp_path):
    model, opt, X, y = _small()
    n_batches = 3  # 60 samples, batches of 20
    # the optimizer step of global batch g uses lr schedule(g): an infinite rate on the
    # last batch of epoch 2 makes the weights infinite while every loss stays finite
    sched = train.LearningRateScheduler(
        lambda g: math.inf if g == 2 * n_batches - 1 else 0.05, interval="batch"
    )
    snap = Snap()
    ckpt = tmp_path / "run.safetensors"
    with pytest.raises(train.TrainingDivergedError, match="epoch 2") as info:
        quiet_fit(
            model,
            (X, y),
            optimizer=opt,
            epochs=4,
            batch_size=20,
            validation=(X, y),
            generator=0,
            callbacks=[sched, snap],
            checkpoint=ckpt,
        )
    assert snap.batches == 2 * n_batches  # diverged in the last step of epoch 2
    assert len(info.value.history) == 1 and sorted(snap.weights) == [1]
    after = model.state_dict()
    assert all(np.all(np.isfinite(v)) for v in after.values())
    _assert_weights_equal(after, snap.weights[1])
    assert io.load_checkpoint(ckpt)["epoch"] == 1  # the bad epoch was never checkpointed


def test_weights_made_non_finite_by_a_callback_at_epoch_end_are_not_kept():
    model, opt, X, y = _small()

    class Poison(train.Callback):
        def on_epoch_end(self, loop, epoch, logs):
            if epoch == 2:
                loop.model[0].weight.data[0, 0] = np.inf

    snap = Snap()
    with pytest.raises(train.TrainingDivergedError, match="end of epoch 2") as info:
        quiet_fit(
            model,
            (X, y),
            optimizer=opt,
            epochs=3,
            batch_size=20,
            generator=0,
            callbacks=[snap, Poison()],
        )
    assert len(info.value.history) == 1
    _assert_weights_equal(model.state_dict(), snap.weights[1])


def test_non_finite_weights_before_training_are_refused():
    model, opt, X, y = _small()
    model[0].bias.data[1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        train.fit(model, F.cross_entropy, opt, (X, y), epochs=1, verbose=0)


# -- 7. EarlyStopping's patience (Keras/Lightning) ----------------------------------------
def test_patience_counts_non_improving_epochs_like_keras():
    _, hist, stopper, _ = _run_script([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], patience=2)
    assert stopper.best_epoch == 1 and hist.stopped_epoch == 3 and len(hist) == 3
    assert stopper.stopped_epoch == 3 and stopper.wait == 2
    _, hist, _, _ = _run_script([1.0, 2.0, 3.0], patience=0)
    assert hist.stopped_epoch == 2
    _, hist, _, _ = _run_script([3.0, 2.0, 2.5, 1.0, 1.5, 1.6, 1.7], patience=2)
    assert hist.stopped_epoch == 6  # improvements at 2 and 4 reset the count
    _, hist, _, _ = _run_script([1.0, 1.0, 1.0], patience=2)
    assert hist.stopped_epoch == 3  # equal is not an improvement
    _, hist, stopper, _ = _run_script([1.0, 2.0, 3.0], patience=5)
    assert hist.stopped_epoch is None and len(hist) == 3 and stopper.best_epoch == 1


def test_min_delta_mode_and_baseline():
    # improvements by 0.05 < min_delta 0.1 do not count
    _, hist, stopper, _ = _run_script([1.0, 0.95, 0.9, 0.85, 0.8], patience=2, min_delta=0.1)
    assert stopper.best_epoch == 1 and hist.stopped_epoch == 3
    _, hist, stopper, _ = _run_script([1.0, 0.8, 0.6, 0.55, 0.5], patience=2, min_delta=-0.1)
    assert stopper.min_delta == 0.1 and stopper.best_epoch == 3 and hist.stopped_epoch == 5
    # mode max
    _, hist, stopper, _ = _run_script([0.1, 0.5, 0.4, 0.3, 0.9], patience=2, mode="max")
    assert stopper.best_epoch == 2 and hist.stopped_epoch == 4
    # baseline never beaten: stop after `patience` epochs, the best of them restored
    model, hist, stopper, snap = _run_script([0.5, 0.4, 0.3, 0.2], patience=2, baseline=0.1)
    assert hist.stopped_epoch == 2 and stopper.best_epoch == 2
    _assert_weights_equal(model.state_dict(), snap.weights[2])
    # baseline beaten at epoch 2: then the usual patience
    _, hist, _, _ = _run_script([0.5, 0.05, 0.06, 0.07, 0.08], patience=2, baseline=0.1)
    assert hist.stopped_epoch == 4


def test_restore_best_weights_false_keeps_the_last_weights():
    model, hist, stopper, snap = _run_script(
        [1.0, 2.0, 3.0, 4.0], patience=2, restore_best_weights=False
    )
    assert hist.stopped_epoch == 3 and stopper.best_weights is None
    _assert_weights_equal(model.state_dict(), snap.weights[3])
    # not stopped: restore_best_weights still puts the best epoch back (Keras 3)
    model, hist, _, snap = _run_script([2.0, 1.0, 3.0], patience=5)
    assert hist.stopped_epoch is None
    _assert_weights_equal(model.state_dict(), snap.weights[2])


def test_early_stopping_reused_in_a_new_fit_starts_afresh():
    model, opt, X, y = _small()
    stopper = train.EarlyStopping("score", patience=2)
    fit = partial(quiet_fit, model, (X, y), optimizer=opt, epochs=6, batch_size=20, generator=0)
    hist = fit(callbacks=[Script([0.1, 2.0, 3.0, 4.0]), stopper])
    assert hist.stopped_epoch == 3 and stopper.best == 0.1
    hist = fit(callbacks=[Script([5.0, 4.0, 3.0, 2.0, 1.0, 0.5]), stopper])
    assert hist.stopped_epoch is None and len(hist) == 6
    assert stopper.best == 0.5 and stopper.best_epoch == 6 and stopper.stopped_epoch is None


# -- 8. resuming a finished run ------------------------------------------------------------
def test_resuming_an_early_stopped_run_does_nothing(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    values = [1.0, 2.0, 3.0, 0.5, 0.4, 0.3, 0.2, 0.1]  # would improve again from epoch 4
    first, hist1, _, _ = _run_script(values, epochs=8, checkpoint=ckpt, patience=2)
    assert hist1.stopped_epoch == 3 and hist1.initial_epoch == 0 and hist1.epochs_trained == 3
    final = first.state_dict()
    with pytest.warns(UserWarning, match="finished run.*stopped early at epoch 3"):
        again, hist2, stopper, snap = _run_script(values, epochs=8, checkpoint=ckpt, patience=2)
    assert snap.batches == 0 and snap.weights == {}
    assert len(hist2) == 3 and hist2.stopped_epoch == 3
    assert hist2.initial_epoch == 3 and hist2.epochs_trained == 0
    assert [r["loss"] for r in hist2.epochs] == [r["loss"] for r in hist1.epochs]
    assert stopper.best_epoch == 1
    _assert_weights_equal(again.state_dict(), final)
    # even with more epochs asked for, a stopped run stays stopped
    with pytest.warns(UserWarning, match="finished run"):
        again, hist3, _, snap = _run_script(values, epochs=20, checkpoint=ckpt, patience=2)
    assert snap.batches == 0 and len(hist3) == 3
    _assert_weights_equal(again.state_dict(), final)


def test_resuming_a_completed_run_does_nothing(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    values = [2.0, 1.0, 3.0]
    first, hist1, _, _ = _run_script(values, checkpoint=ckpt, patience=5)
    assert hist1.stopped_epoch is None and len(hist1) == 3
    with pytest.warns(UserWarning, match="3 epochs done"):
        again, hist2, _, snap = _run_script(values, checkpoint=ckpt, patience=5)
    assert snap.batches == 0 and hist2.epochs_trained == 0 and len(hist2) == 3
    _assert_weights_equal(again.state_dict(), first.state_dict())  # best epoch 2 restored


def test_resuming_an_interrupted_early_stopping_run_stops_where_the_full_run_stops(tmp_path):
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]
    ref, ref_hist, _, _ = _run_script(values, checkpoint=tmp_path / "a.safetensors", patience=2)
    assert ref_hist.stopped_epoch == 4
    ckpt = tmp_path / "b.safetensors"
    _run_script(values, epochs=2, checkpoint=ckpt, patience=2)  # "killed" after epoch 2
    resumed, hist, _, snap = _run_script(values, epochs=6, checkpoint=ckpt, patience=2)
    assert hist.initial_epoch == 2 and hist.stopped_epoch == 4 and sorted(snap.weights) == [3, 4]
    _assert_weights_equal(resumed.state_dict(), ref.state_dict())


# -- 3. empty inputs -----------------------------------------------------------------------
def test_predict_on_no_rows_has_the_output_shape():
    mlp = models.mlp(2, [4], 3, generator=0)
    out = train.predict(mlp, np.zeros((0, 2), dtype=np.float32))
    assert out.shape == (0, 3) and out.dtype == np.float32
    net = models.convnet(channels=(2, 3), hidden=8, generator=0)
    with pytest.warns(UserWarning, match="integer features"):
        out = train.predict(net, np.zeros((0, 1, 28, 28), dtype=np.uint8))
    assert out.shape == (0, 10) and out.dtype == np.float32
    assert train.predict(mlp, np.zeros((5, 2)), batch_size=2).shape == (5, 3)


def test_evaluate_on_no_rows_raises():
    mlp = models.mlp(2, [4], 3, generator=0)
    with pytest.raises(ValueError, match="empty"):
        train.evaluate(mlp, F.cross_entropy, (np.zeros((0, 2)), np.zeros(0, dtype=int)))
