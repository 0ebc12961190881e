"""train_val_split, iterate_minibatches and ArrayDataset."""

from __future__ import annotations

import numpy as np
import pytest

from numnet.data import ArrayDataset, iterate_minibatches, train_val_split


def _imbalanced(counts=(50, 31, 14, 5)):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y), dtype=np.float64)[:, None] * [1.0, -1.0]  # row id in column 0
    return X, y


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.33, 0.5])
def test_stratified_split_preserves_class_proportions(fraction):
    X, y = _imbalanced()
    X_tr, y_tr, X_val, y_val = train_val_split(X, y, fraction, generator=0)
    n = len(y)
    assert len(y_val) == round(n * fraction) and len(y_tr) == n - len(y_val)
    counts = np.bincount(y)
    val_counts = np.bincount(y_val, minlength=len(counts))
    assert np.all(np.abs(val_counts - counts * fraction) <= 1)
    ids = np.concatenate([X_tr[:, 0], X_val[:, 0]]).astype(int)
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))  # a partition
    np.testing.assert_array_equal(y[X_tr[:, 0].astype(int)], y_tr)  # rows stay paired
    np.testing.assert_array_equal(X_val[:, 1], -X_val[:, 0])


def test_split_is_seeded():
    X, y = _imbalanced()
    a = train_val_split(X, y, 0.2, generator=3)
    b = train_val_split(X, y, 0.2, generator=3)
    c = train_val_split(X, y, 0.2, generator=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[2], c[2])


def test_unstratified_and_one_hot_splits():
    X, y = _imbalanced()
    _, _, X_val, _ = train_val_split(X, y, 0.25, stratify=False, generator=1)
    assert len(X_val) == 25
    one_hot = np.eye(4)[y]
    _, _, _, y_val = train_val_split(X, one_hot, 0.2, generator=1)
    assert y_val.shape == (20, 4)
    assert np.all(np.abs(y_val.sum(axis=0) - one_hot.sum(axis=0) * 0.2) <= 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((5, 2)), np.zeros(4)), "same length"),
        ((np.zeros((5, 2)), np.zeros(5), 0.0), r"val_fraction must lie in \(0, 1\)"),
        ((np.zeros((5, 2)), np.zeros(5), 0.05), "empty validation set"),
        ((np.zeros((5, 2)), np.zeros(5), 0.95), "empty training set"),
    ],
)
def test_split_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        train_val_split(*args)


def test_minibatches_cover_each_sample_once():
    X = np.arange(103)[:, None] * np.ones((1, 3))
    y = np.arange(103) * 10
    batches = list(iterate_minibatches(X, y, 10, generator=0))
    assert [len(b) for b, _ in batches] == [10] * 10 + [3]
    seen = np.concatenate([b[:, 0] for b, _ in batches]).astype(int)
    np.testing.assert_array_equal(np.sort(seen), np.arange(103))
    assert not np.array_equal(seen, np.arange(103))  # shuffled
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb[:, 0] * 10)


def test_minibatch_order_seeding():
    X = np.arange(50)

    def order(gen):
        return np.concatenate([b for b, _ in iterate_minibatches(X, None, 8, generator=gen)])

    np.testing.assert_array_equal(order(5), order(5))  # same seed, same order
    rng = np.random.default_rng(5)
    first, second = order(rng), order(rng)  # a Generator advances: a fresh order per epoch
    np.testing.assert_array_equal(first, order(5))
    assert not np.array_equal(first, second)


def test_minibatches_drop_last_and_no_shuffle():
    X = np.arange(23)
    kept = [b for b, _ in iterate_minibatches(X, X, 5, shuffle=False, drop_last=True)]
    assert [b.tolist() for b in kept] == [list(range(i, i + 5)) for i in range(0, 20, 5)]
    assert len(list(iterate_minibatches(X, X, 30, drop_last=True))) == 0
    assert len(list(iterate_minibatches(X, X, 30))) == 1


def test_minibatches_validate_eagerly():
    with pytest.raises(ValueError, match="equal length"):
        iterate_minibatches(np.zeros(3), np.zeros(4), 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        iterate_minibatches(np.zeros(3), None, 0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        iterate_minibatches(np.zeros(3), None, 2.5)


def test_array_dataset():
    X, y = _imbalanced()
    ds = ArrayDataset(X, y)
    assert len(ds) == 100
    xb, yb = ds[[0, 99]]
    assert xb[:, 0].tolist() == [0, 99] and yb.tolist() == [0, 3]
    assert sum(len(b) for b, _ in ds.batches(16, generator=0)) == 100
    train, val = ds.split(0.1, generator=0)
    assert (len(train), len(val)) == (90, 10)
    assert ArrayDataset(X)[3][1] is None


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        (np.zeros((3, 2)), np.zeros(2), ValueError, "same length"),
        (
            np.array([[0.0], [np.nan], [1.0]]),
            None,
            ValueError,
            r"non-finite values in samples \[1\]",
        ),
        (np.zeros(2), np.array([1.0, np.inf]), ValueError, "y has non-finite"),
        (np.array(["a", "b"]), None, TypeError, "must be numeric"),
        (np.float64(1.0), None, ValueError, "sample axis"),
        (np.zeros((0, 2)), None, ValueError, "at least one sample"),
    ],
)
def test_array_dataset_validation(X, y, error, message):
    with pytest.raises(error, match=message):
        ArrayDataset(X, y)
