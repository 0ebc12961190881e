"""fit / evaluate / predict on a DataLoader or any re-iterable of (x, y) batches."""

import struct
from functools import partial

import numpy as np
import pytest

import numnet.nn.functional as F
from numnet import models, nn, optim, train
from numnet.data import spirals, write_idx
from numnet.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset
from tests._fitting import Kill, quiet_fit


def data(n=200, seed=0):
    return spirals(n, 3, generator=seed)


def make(seed=0, dropout=0.0, n_in=2, n_out=3):
    model = models.mlp(n_in, [16], n_out, activation="relu", dropout=dropout, generator=seed)
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def rows(history):
    return [{k: v for k, v in r.items() if k != "time"} for r in history.epochs]


def assert_same_run(h1, m1, h2, m2):
    r1, r2 = rows(h1), rows(h2)
    assert [sorted(r) for r in r1] == [sorted(r) for r in r2]
    for a, b in zip(r1, r2):
        for k in a:
            np.testing.assert_allclose(b[k], a[k], rtol=1e-6, atol=1e-6, err_msg=k)
    for k, v in m1.state_dict().items():
        np.testing.assert_allclose(m2.state_dict()[k], v, rtol=1e-6, atol=1e-6, err_msg=k)


def test_loader_without_shuffle_equals_arrays_with_the_same_batches():
    X, y = data(230)
    Xv, yv = data(60, seed=1)
    m1, o1 = make()
    h1 = quiet_fit(
        m1, (X, y), optimizer=o1, epochs=3, batch_size=32, shuffle=False, validation=(Xv, yv)
    )
    m2, o2 = make()
    loader = DataLoader(TensorDataset(X, y), batch_size=32)
    val = DataLoader(TensorDataset(Xv, yv), batch_size=7)
    h2 = quiet_fit(m2, loader, optimizer=o2, epochs=3, validation=val)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(h2.epochs[0])
    assert_same_run(h1, m1, h2, m2)
    assert h2["loss"][-1] < h2["loss"][0]


def test_shuffled_loader_follows_the_same_orders_as_seeded_arrays():
    # DataLoader(generator=s) and fit(generator=s) both draw one permutation of N per epoch
    # from numpy.random.default_rng(s): the same batches, hence the same run
    X, y = data(150)
    m1, o1 = make(dropout=0.2)
    h1 = quiet_fit(m1, (X, y), optimizer=o1, epochs=3, batch_size=20, generator=5)
    m2, o2 = make(dropout=0.2)
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True, generator=5)
    h2 = quiet_fit(m2, loader, optimizer=o2, epochs=3, batch_size=20)
    assert_same_run(h1, m1, h2, m2)
    # a different loader seed gives a different run
    m3, o3 = make(dropout=0.2)
    other = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True, generator=6)
    h3 = quiet_fit(m3, other, optimizer=o3, epochs=3)
    assert h3["loss"][-1] != h2["loss"][-1]


class Batches:
    """A re-iterable of (x, y) batches: __iter__ returns a fresh generator each time."""

    def __init__(self, inputs, targets, size):
        self.inputs, self.targets, self.size = inputs, targets, size
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        for s in range(0, len(self.inputs), self.size):
            yield self.inputs[s : s + self.size], self.targets[s : s + self.size]


def test_list_of_batches_and_reiterable_object_equal_arrays():
    X, y = data(100)
    m1, o1 = make()
    h1 = quiet_fit(m1, (X, y), optimizer=o1, epochs=2, batch_size=25, shuffle=False)
    batches = [(X[s : s + 25], y[s : s + 25]) for s in range(0, 100, 25)]
    m2, o2 = make()
    h2 = quiet_fit(m2, batches, optimizer=o2, epochs=2)
    assert_same_run(h1, m1, h2, m2)
    stream = Batches(X.astype(np.float64), y, 25)  # float64 batches: cast to the model's dtype
    m3, o3 = make()
    h3 = quiet_fit(m3, stream, optimizer=o3, epochs=2)
    assert stream.passes == 2 and m3.state_dict()["0.weight"].dtype == np.float32
    assert_same_run(h1, m1, h3, m3)


def test_one_shot_iterables_are_refused():
    X, y = data(60)
    model, opt = make()
    gen = ((X[s : s + 20], y[s : s + 20]) for s in range(0, 60, 20))
    with pytest.raises(TypeError, match="re-iterable such as a numnet.utils.data.DataLoader"):
        train.fit(model, F.cross_entropy, opt, gen, epochs=2, verbose=0)
    with pytest.raises(TypeError, match="re-iterable"):
        train.fit(model, F.cross_entropy, opt, iter([(X, y)]), epochs=2, verbose=0)
    with pytest.raises(TypeError, match="re-iterable"):
        train.evaluate(model, F.cross_entropy, (b for b in [(X, y)]))
    with pytest.raises(TypeError, match="re-iterable"):
        train.predict(model, (x for x in [X]))

    class SameIterator:  # __iter__ hands out one iterator, exhausted after epoch 1
        def __init__(self):
            self.it = iter([(X[:30], y[:30]), (X[30:], y[30:])])

        def __iter__(self):
            return self.it

    with pytest.raises(TypeError, match="no batches on pass 2.*re-iterable"):
        train.fit(model, F.cross_entropy, opt, SameIterator(), epochs=2, verbose=0)
    # a Dataset yields samples, not batches
    with pytest.raises(TypeError, match="wrap it in numnet.utils.data.DataLoader"):
        train.fit(model, F.cross_entropy, opt, TensorDataset(X, y), epochs=1, verbose=0)


def test_bad_batches():
    X, y = data(60)
    model, opt = make()
    with pytest.raises(ValueError, match="yielded no batches"):
        train.fit(model, F.cross_entropy, opt, Batches(X[:0], y[:0], 10), epochs=1, verbose=0)
    x_only = DataLoader(TensorDataset(X), batch_size=10)  # batches (x,): no targets
    with pytest.raises(
        TypeError,
        match=r"batch 1: each batch must be an \(x, y\) pair, got a "
        "tuple of length 1",
    ):
        train.fit(model, F.cross_entropy, opt, x_only, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="must be an .X, y. pair of arrays, a numnet.utils.data"):
        train.fit(model, F.cross_entropy, opt, [(X,)], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="batch 2: x and y need the same number"):
        train.fit(model, F.cross_entropy, opt, [(X, y), (X, y[:5])], epochs=1, verbose=0)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="batch 1: x contains NaN"):
        train.fit(model, F.cross_entropy, opt, [(bad, y)], epochs=1, verbose=0)


def test_the_loader_decides_batch_size_shuffle_drop_last():
    X, y = data(60)
    model, opt = make()
    loader = DataLoader(TensorDataset(X, y), batch_size=16)
    fit = partial(train.fit, model, F.cross_entropy, opt, loader, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="batch_size=32 conflicts with the DataLoader's batch_"):
        fit(batch_size=32)
    with pytest.raises(ValueError, match="shuffle=True conflicts"):
        fit(shuffle=True)
    with pytest.raises(ValueError, match="drop_last=True conflicts"):
        fit(drop_last=True)
    with pytest.raises(ValueError, match="generator="):
        fit(generator=0)
    with pytest.raises(ValueError, match="cannot split a DataLoader"):
        fit(validation=0.1)
    fit(batch_size=16, shuffle=False, drop_last=False)  # agreeing values are fine
    with pytest.raises(ValueError, match="batch_size=8 cannot apply to ready-made batches"):
        train.fit(model, F.cross_entropy, opt, [(X, y)], epochs=1, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="conflicts"):
        train.evaluate(model, F.cross_entropy, loader, batch_size=4)
    with pytest.raises(ValueError, match="conflicts"):
        train.predict(model, loader, batch_size=4)


class LazyIDX(Dataset):
    """Images and labels read from IDX files on disk, one record per __getitem__."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        with open(images, "rb") as fh:
            head = fh.read(4)
            self.shape = struct.unpack(f">{head[3]}I", fh.read(4 * head[3]))
        self.offset, self.record = 4 + 4 * len(self.shape), int(np.prod(self.shape[1:]))
        self.reads = 0

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, i):
        self.reads += 1
        with open(self.images, "rb") as fh:
            fh.seek(self.offset + i * self.record)
            x = np.frombuffer(fh.read(self.record), dtype=np.uint8)
        with open(self.labels, "rb") as fh:
            fh.seek(8 + i)
            label = fh.read(1)[0]
        return x.reshape(self.shape[1:]).astype(np.float32) / 255, label


def test_streaming_from_idx_files_on_disk(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=90).astype(np.uint8)
    images = rng.integers(0, 100, size=(90, 3, 4), dtype=np.uint8)
    images[labels == 1] += 120  # a learnable difference
    ds = LazyIDX(
        write_idx(tmp_path / "images-idx3-ubyte", images),
        write_idx(tmp_path / "labels-idx1-ubyte", labels),
    )

    def model_():
        model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2, generator=0))
        return model, optim.SGD(model.parameters(), lr=0.5)

    m1, o1 = model_()
    loader = DataLoader(ds, batch_size=16, shuffle=True, generator=3)
    h1 = quiet_fit(m1, loader, optimizer=o1, epochs=4)
    assert ds.reads == 4 * 90  # every epoch read every record from disk, nothing cached
    assert h1["accuracy"][-1] > 0.9 and h1["loss"][-1] < h1["loss"][0]
    # the same run on the arrays in memory (same seed, same orders)
    m2, o2 = model_()
    X, y = images.astype(np.float32) / 255, labels.astype(np.int64)
    h2 = quiet_fit(m2, (X, y), optimizer=o2, epochs=4, batch_size=16, generator=3)
    assert_same_run(h2, m2, h1, m1)
    ev = train.evaluate(m1, F.cross_entropy, DataLoader(ds, batch_size=50))
    np.testing.assert_allclose(
        ev["loss"], train.evaluate(m1, F.cross_entropy, (X, y))["loss"], rtol=1e-6
    )


def test_validation_loader_evaluate_and_predict():
    X, y = data(120)
    Xv, yv = data(50, seed=2)
    model, opt = make()
    val = DataLoader(TensorDataset(Xv, yv), batch_size=8, shuffle=True, generator=0)
    loader = DataLoader(TensorDataset(X, y), batch_size=30)
    hist = quiet_fit(model, loader, optimizer=opt, epochs=2, validation=val)
    want = train.evaluate(model, F.cross_entropy, (Xv, yv))
    np.testing.assert_allclose(hist["val_loss"][-1], want["loss"], rtol=1e-6)
    assert hist["val_accuracy"][-1] == want["accuracy"]
    # a list of batches as validation
    got = train.evaluate(model, F.cross_entropy, [(Xv[:20], yv[:20]), (Xv[20:], yv[20:])])
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-6)
    assert got["accuracy"] == want["accuracy"]
    with pytest.raises(ValueError, match="yielded no batches"):
        train.evaluate(model, F.cross_entropy, Batches(Xv[:0], yv[:0], 4))
    # predict: batches x or (x, ...) in order; targets ignored
    out = train.predict(model, Xv)
    np.testing.assert_allclose(
        train.predict(model, DataLoader(TensorDataset(Xv), batch_size=9)), out, rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        train.predict(model, DataLoader(val.dataset, batch_size=9)), out, rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        train.predict(model, [(Xv[:10],), (Xv[10:],)]), out, rtol=1e-6, atol=1e-7
    )
    # a list of rows is still X, as before
    np.testing.assert_allclose(train.predict(model, [row for row in Xv]), out, rtol=1e-6, atol=1e-7)


def test_binary_accuracy_on_loader_batches_as_on_arrays():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2)).astype(np.float32)
    y = (X[:, :1] + X[:, 1:] > 0).astype(np.float32)
    runs = []
    for source in ((X, y), DataLoader(TensorDataset(X, y), batch_size=16)):
        model = nn.Sequential(nn.Linear(2, 1, generator=0))
        opt = optim.SGD(model.parameters(), lr=0.5)
        kw = {"batch_size": 16, "shuffle": False} if isinstance(source, tuple) else {}
        runs.append(
            (
                quiet_fit(
                    model,
                    source,
                    loss_fn=F.binary_cross_entropy_with_logits,
                    optimizer=opt,
                    epochs=3,
                    metrics="accuracy",
                    **kw,
                ),
                model,
            )
        )
    assert "accuracy" in runs[1][0].epochs[0]
    assert_same_run(runs[0][0], runs[0][1], runs[1][0], runs[1][1])


def test_kill_and_resume_with_a_shuffled_loader_equals_uninterrupted(tmp_path):
    X, y = data(150)
    Xv, yv = data(40, seed=3)

    def run(ckpt, kill_at=None):
        model, opt = make(seed=1, dropout=0.3)
        # loaders made afresh by the restarted process, seeded the same way
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=7)
        val = DataLoader(TensorDataset(Xv, yv), batch_size=16, shuffle=True, generator=8)
        callbacks = [train.EarlyStopping("val_loss", patience=50)]
        if kill_at is not None:
            callbacks.append(Kill(kill_at))
        fit = partial(
            quiet_fit,
            model,
            loader,
            optimizer=opt,
            epochs=4,
            validation=val,
            callbacks=callbacks,
            checkpoint=ckpt,
        )
        if kill_at is None:
            return model, fit()
        with pytest.raises(KeyboardInterrupt):
            fit()
        return model, None

    ref, ref_hist = run(tmp_path / "a.safetensors")
    run(tmp_path / "b.safetensors", kill_at=(3, 2))  # killed in the middle of epoch 3
    resumed, hist = run(tmp_path / "b.safetensors")  # resumes at the start of epoch 3
    assert hist.initial_epoch == 2
    for k, v in ref.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v, err_msg=k)
    assert [r["loss"] for r in hist.epochs] == [r["loss"] for r in ref_hist.epochs]
    assert [r["val_loss"] for r in hist.epochs] == [r["val_loss"] for r in ref_hist.epochs]


class Stream(IterableDataset):
    """Samples from a stream; with_len=False: no __len__, so no len(loader)."""

    def __init__(self, X, y, with_len):
        self.X, self.y, self.with_len = X, y, with_len

    def __iter__(self):
        return zip(self.X, self.y)

    def __len__(self):
        if not self.with_len:
            raise TypeError("a stream of unknown length")
        return len(self.X)


@pytest.mark.parametrize("with_len", [True, False])
def test_progress_bar_total_is_len_loader(capsys, with_len):
    X, y = data(100)
    model, opt = make()
    loader = DataLoader(Stream(X, y, with_len), batch_size=25)
    seen = []

    class Count(train.Callback):
        def on_epoch_begin(self, loop, epoch):
            seen.append(loop.batches_per_epoch)

    train.fit(
        model,
        F.cross_entropy,
        opt,
        loader,
        epochs=2,
        verbose=0,
        callbacks=[train.ProgressBar(force=True), Count()],
    )
    err = capsys.readouterr().err
    assert "epoch 2/2" in err
    if with_len:
        assert "4/4" in err
    else:  # no total: tqdm counts the batches
        assert "4batch" in err.replace(" ", "") and "4/4" not in err
    assert seen == ([4, 4] if with_len else [None, None])
