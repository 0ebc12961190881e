"""numnet.utils.data (Dataset, TensorDataset, DataLoader...) against torch.utils.data."""

import struct
import warnings

import numpy as np
import pytest

import numnet
from numnet.data import write_idx
from numnet.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

torch = pytest.importorskip("torch")
tud = torch.utils.data


def _data(n=23):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)).astype(np.float32), np.arange(n)


@pytest.mark.parametrize("n", [1, 7, 23, 24])
@pytest.mark.parametrize("batch_size", [1, 4, 8, 30])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_counts_and_sequential_batches_match_torch(n, batch_size, drop_last):
    X, y = _data(n)
    ours = DataLoader(TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.tensor(X), torch.tensor(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want) == len(ours)
    for (xb, yb), (tx, ty) in zip(got, want):
        assert isinstance(xb, numnet.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.data, tx.numpy())
        np.testing.assert_array_equal(yb.data, ty.numpy())


def test_shuffle_covers_every_index_once_per_epoch_and_differs_between_epochs():
    X, y = _data(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, generator=0)
    orders = []
    for _ in range(3):  # re-iterable: one epoch per iteration
        batches = list(loader)
        for xb, yb in batches:  # the rows stay paired
            np.testing.assert_array_equal(xb.data, X[yb.data])
        order = np.concatenate([yb.data for _, yb in batches])
        assert sorted(order.tolist()) == list(range(50))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])
    # the same seed gives the same sequence of orders; torch has the same property
    again = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, generator=0)
    for want in orders:
        np.testing.assert_array_equal(np.concatenate([yb.data for _, yb in again]), want)
    other = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, generator=1)
    assert not np.array_equal(np.concatenate([yb.data for _, yb in other]), orders[0])
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    tds = tud.TensorDataset(torch.tensor(y))
    t1 = tud.DataLoader(tds, batch_size=8, shuffle=True, generator=g1)
    t2 = tud.DataLoader(tds, batch_size=8, shuffle=True, generator=g2)
    for _ in range(2):
        assert torch.equal(torch.cat([b for (b,) in t1]), torch.cat([b for (b,) in t2]))


def test_shuffle_with_numpy_generator_and_default_generator():
    X, y = _data(20)
    ds = TensorDataset(X, y)
    a = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    b = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(
        np.concatenate([t.data for _, t in a]), np.concatenate([t.data for _, t in b])
    )
    numnet.manual_seed(5)
    first = np.concatenate([t.data for _, t in DataLoader(ds, batch_size=5, shuffle=True)])
    numnet.manual_seed(5)
    second = np.concatenate([t.data for _, t in DataLoader(ds, batch_size=5, shuffle=True)])
    np.testing.assert_array_equal(first, second)
    assert sorted(first.tolist()) == list(range(20))


class PairsDataset(Dataset):
    """A plain map-style dataset: the slow, per-sample path."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_equals_per_sample_collate(shuffle):
    X, y = _data(23)
    fast = DataLoader(TensorDataset(X, y), batch_size=5, shuffle=shuffle, generator=7)
    slow = DataLoader(PairsDataset(X, y), batch_size=5, shuffle=shuffle, generator=7)
    custom = DataLoader(
        TensorDataset(X, y), batch_size=5, shuffle=shuffle, generator=7,
        collate_fn=lambda batch: default_collate(batch),
    )
    for _ in range(2):
        for (a, b), (c, d), (e, f) in zip(fast, slow, custom, strict=True):
            np.testing.assert_array_equal(a.data, c.data)
            np.testing.assert_array_equal(b.data, d.data)
            np.testing.assert_array_equal(a.data, e.data)
            np.testing.assert_array_equal(b.data, f.data)


def test_fast_path_indexes_each_tensor_once_per_batch(monkeypatch):
    X, y = _data(23)
    ds = TensorDataset(X, y)
    calls = []
    original = TensorDataset._batch

    def counting(self, index):
        calls.append(index)
        return original(self, index)

    monkeypatch.setattr(TensorDataset, "_batch", counting)
    monkeypatch.setattr(
        TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-sample fetch")
    )
    batches = list(DataLoader(ds, batch_size=5, shuffle=True, generator=0))
    assert len(calls) == len(batches) == 5
    assert all(isinstance(c, np.ndarray) for c in calls)


def test_batches_are_copies_not_views_of_the_dataset():
    X, y = _data(8)
    ds = TensorDataset(X.copy(), y)
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    xb.data[...] = 99
    np.testing.assert_array_equal(ds.tensors[0].data, X)


def test_tensor_dataset():
    X, y = _data(6)
    ds = TensorDataset(numnet.tensor(X, dtype=numnet.float64), y)
    assert len(ds) == 6
    x0, y0 = ds[2]
    assert x0.dtype == np.float64 and x0.shape == (3,) and int(y0) == 2
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(X, y[:5])
    with pytest.raises(ValueError):
        TensorDataset()
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.dtype == np.float64 and xb.shape == (4, 3)


def test_default_collate_structures():
    batch = default_collate([(np.zeros(2), 1, 0.5, True, "a"), (np.ones(2), 2, 1.5, False, "b")])
    assert isinstance(batch, tuple) and len(batch) == 5  # torch: a list
    x, i, f, b, s = batch
    assert x.shape == (2, 2) and x.dtype == np.float32
    assert i.dtype == np.int64 and i.data.tolist() == [1, 2]
    assert f.dtype == np.float32 and b.dtype == np.bool_ and s == ["a", "b"]
    d = default_collate([{"x": numnet.zeros(3), "y": 1}, {"x": numnet.ones(3), "y": 2}])
    assert d["x"].shape == (2, 3) and d["y"].data.tolist() == [1, 2]
    torch_d = tud.default_collate([{"x": torch.zeros(3), "y": 1}, {"x": torch.ones(3), "y": 2}])
    np.testing.assert_array_equal(d["x"].data, torch_d["x"].numpy())
    assert default_collate([[1, 2], [3, 4]])[0].data.tolist() == [1, 3]
    with pytest.raises(RuntimeError):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError):
        default_collate([object(), object()])
    w = numnet.zeros(2, requires_grad=True)
    assert default_collate([w, w]).requires_grad


def test_loader_errors_match_torch():
    ds = TensorDataset(np.zeros((4, 2)))
    cases = [
        dict(batch_size=0),
        dict(batch_size=-1),
        dict(sampler=[0, 1], shuffle=True),
        dict(batch_sampler=[[0, 1]], batch_size=2),
        dict(batch_size=None, drop_last=True),
        dict(num_workers=-1),
    ]
    tds = tud.TensorDataset(torch.zeros(4, 2))
    for kw in cases:
        with pytest.raises(ValueError) as ours:
            DataLoader(ds, **kw)
        with pytest.raises(ValueError) as theirs:
            tud.DataLoader(tds, **kw)
        assert str(ours.value) == str(theirs.value)


def test_samplers_and_batch_sampler():
    ds = TensorDataset(np.arange(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    r = RandomSampler(ds, generator=0)
    assert len(r) == 10 and sorted(r) == list(range(10))
    assert list(BatchSampler(range(10), 4, False)) == list(tud.BatchSampler(range(10), 4, False))
    assert list(BatchSampler(SequentialSampler(ds), 4, True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(BatchSampler(range(10), 4, True)) == 2
    rep = RandomSampler(ds, replacement=True, num_samples=25, generator=0)
    assert len(list(rep)) == 25 and set(rep) <= set(range(10))
    more = list(RandomSampler(ds, num_samples=25, generator=0))
    assert len(more) == 25 and sorted(more[:10]) == list(range(10))
    # a user sampler (a list) and a batch_sampler
    loader = DataLoader(ds, batch_size=2, sampler=[9, 8, 7])
    assert [b[0].data.tolist() for b in loader] == [[9, 8], [7]] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=[[1, 2, 3], [0]])
    assert [b[0].data.tolist() for b in loader] == [[1, 2, 3], [0]] and len(loader) == 2


def test_no_batching_with_batch_size_none():
    ds = PairsDataset(np.arange(6, dtype=np.float32).reshape(3, 2), np.arange(3))
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 3 == len(DataLoader(ds, batch_size=None))
    x, y = items[1]
    assert isinstance(x, numnet.Tensor) and x.shape == (2,) and y == 1


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(np.arange(self.n, dtype=np.float32))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return self.n


def test_iterable_dataset():
    for drop_last in (False, True):
        ours = DataLoader(Stream(10), batch_size=4, drop_last=drop_last)
        batches = [b.data.tolist() for b in ours]
        want = [[0, 1, 2, 3], [4, 5, 6, 7]] + ([] if drop_last else [[8, 9]])
        assert batches == want and len(ours) == len(want)
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, with_len=False), batch_size=2))
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="sampler"):
        DataLoader(Stream(3), sampler=[0])


def test_subset_and_random_split():
    X, y = _data(10)
    ds = TensorDataset(X, y)
    a, b = random_split(ds, [7, 3], generator=0)
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    c, d = random_split(ds, [0.55, 0.45], generator=0)
    assert (len(c), len(d)) == tuple(len(s) for s in tud.random_split(range(10), [0.55, 0.45]))
    with pytest.raises(ValueError):
        random_split(ds, [5, 4])
    got = np.concatenate([yb.data for _, yb in DataLoader(b, batch_size=2)])
    np.testing.assert_array_equal(got, np.asarray(b.indices))
    for xb, yb in DataLoader(a, batch_size=3, shuffle=True, generator=1):
        np.testing.assert_array_equal(xb.data, X[yb.data])


def test_num_workers_and_pin_memory_warn_and_still_load():
    ds = TensorDataset(np.arange(4))
    with pytest.warns(UserWarning, match="num_workers"):
        loader = DataLoader(ds, batch_size=2, num_workers=2)
    assert [b.data.tolist() for (b,) in loader] == [[0, 1], [2, 3]]
    with pytest.warns(UserWarning, match="pin_memory"):
        DataLoader(ds, pin_memory=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(ds)


class LazyIDX(Dataset):
    """Reads one record of an IDX file from disk per __getitem__ (nothing kept in memory)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as fh:
            head = fh.read(4)
            assert head[:2] == b"\0\0" and head[2] == 0x08  # uint8
            ndim = head[3]
            self.shape = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
        self.offset = 4 + 4 * ndim
        self.record = int(np.prod(self.shape[1:]))
        self.reads = 0

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(i)
        self.reads += 1
        with open(self.path, "rb") as fh:
            fh.seek(self.offset + i * self.record)
            raw = np.frombuffer(fh.read(self.record), dtype=np.uint8)
        return raw.reshape(self.shape[1:]).astype(np.float32) / 255, i


def test_lazy_idx_dataset_from_disk(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(13, 4, 5), dtype=np.uint8)
    path = write_idx(tmp_path / "images-idx3-ubyte", images)
    ds = LazyIDX(path)
    assert len(ds) == 13 and ds.reads == 0
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=0)
    assert len(loader) == 4
    seen = []
    for xb, ib in loader:
        assert xb.shape[1:] == (4, 5) and xb.dtype == np.float32
        np.testing.assert_allclose(xb.data, images[ib.data] / 255, rtol=1e-6)
        seen.extend(ib.data.tolist())
    assert sorted(seen) == list(range(13)) and ds.reads == 13
    # the same file and seed through torch: same batch count and coverage
    tl = tud.DataLoader(ds, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(tl) == len(loader)
    assert sorted(torch.cat([ib for _, ib in tl]).tolist()) == list(range(13))
