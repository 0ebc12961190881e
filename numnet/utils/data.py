"""Datasets and a DataLoader with PyTorch's names and semantics (``torch.utils.data``).

A *map-style* :class:`Dataset` has ``__len__`` and ``__getitem__(i)`` (one sample); an
:class:`IterableDataset` has ``__iter__``. :class:`DataLoader` draws the indices of
each batch from a sampler (in order, or a new random order every epoch), fetches the
samples and merges them with ``collate_fn`` (:func:`default_collate` stacks arrays,
Tensors and numbers into numnet Tensors, keeping the structure of tuples and dicts)::

    ds = TensorDataset(X, y)                     # (N, ...) arrays or Tensors
    loader = DataLoader(ds, batch_size=64, shuffle=True, generator=0)
    for xb, yb in loader:                        # a new order each epoch
        ...

For a :class:`TensorDataset` with the default ``collate_fn`` the loader indexes each
stored array once per batch with the whole batch of indices (the per-sample fetch and
collate give the same values, only slower); the order of the samples comes from
:func:`numnet.data.index_batches`, as for :func:`numnet.data.iterate_minibatches`.

Differences from PyTorch, on purpose:

* numnet loads in the main process: ``num_workers > 0`` gives a warning and is ignored
  (the batches are the same).
* :func:`default_collate` makes Python floats and floating NumPy arrays float32
  (numnet's default dtype; PyTorch keeps float64), and returns a tuple for tuple
  samples (PyTorch returns a list), so ``xb, yb = batch`` works either way.
* ``generator`` is a NumPy ``Generator`` or an int seed (numnet's randomness): an int
  seeds one generator when the loader (or sampler) is made, so each epoch still gets a
  new order and two loaders made with the same seed give the same sequence of orders;
  ``None`` draws from numnet's default generator (:func:`numnet.manual_seed`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from numnet.data.batching import index_batches
from numnet.random import as_generator, default_generator
from numnet.tensor import Tensor

__all__ = [
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]


# -- datasets ------------------------------------------------------------------------------
def _check_batch_size(batch_size) -> None:
    """PyTorch's check and message for ``batch_size`` (a positive int, not a bool)."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(
            f"batch_size should be a positive integer value, but got batch_size={batch_size}"
        )


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``__getitem__`` returns one sample (an array, a Tensor, a number, or a tuple or dict
    of them) for an int ``index`` in ``range(len(self))``.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not implement __getitem__")


class IterableDataset(Dataset):
    """A dataset that is a stream of samples: subclasses define ``__iter__``.

    :class:`DataLoader` groups consecutive samples into batches (it cannot shuffle
    them, as in PyTorch); ``len(loader)`` needs the dataset to define ``__len__``.
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} does not implement __iter__")


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class TensorDataset(Dataset):
    """Samples ``(t_1[i], t_2[i], ...)`` of Tensors sharing their first dimension.

    Parameters
    ----------
    *tensors : Tensor or array_like
        Each of shape ``(N, ...)``. Tensors are kept (their dtype too); arrays become
        Tensors by numnet's rules (floating → float32, integers → int64, booleans kept),
        without a copy where the dtype allows.

    Attributes
    ----------
    tensors : tuple of Tensor

    Raises
    ------
    ValueError
        If no tensor is given, one is 0-d, or the first dimensions differ (PyTorch
        raises ``AssertionError("Size mismatch between tensors")``).
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(_as_tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in tensors):
            raise ValueError("TensorDataset's tensors need a first (sample) dimension")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch(self, index) -> tuple[Tensor, ...]:
        """The collated batch at ``index`` (a slice or an int array): one index per tensor."""
        out = []
        for t in self.tensors:
            if t.requires_grad:
                out.append(t[index])
            else:
                a = t.data[index]
                out.append(Tensor._wrap(a.copy() if isinstance(index, slice) else a))
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (``torch.utils.data.Subset``).

    Parameters
    ----------
    dataset : Dataset
    indices : sequence of int
    """

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (``torch.utils.data.random_split``).

    Parameters
    ----------
    dataset : Dataset
    lengths : sequence of int or float
        Sizes summing to ``len(dataset)``, or fractions summing to 1 (the sizes are
        then ``floor(n * f)``, the remainder given out one by one from the first subset,
        as in PyTorch).
    generator : int, numpy.random.Generator or None
        Source of the permutation.

    Returns
    -------
    list of Subset

    Raises
    ------
    ValueError
        If the lengths do not add up to the dataset's length (or the fractions to 1).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError("fractions in lengths must lie in [0, 1]")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = as_generator(generator).permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start : start + length].tolist()))
        start += length
    return out


# -- samplers ------------------------------------------------------------------------------
class Sampler:
    """Base class of the iterables of dataset indices that a DataLoader draws from."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def _order(self):
        """The whole epoch's indices as an int array (``None``: ``range(n)``), or
        ``NotImplemented`` if this sampler can only be iterated."""
        return NotImplemented


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _order(self):
        return None


def _resolve_generator(generator):
    """An int seeds one Generator now (epochs then differ); None stays None (default)."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    return as_generator(generator)


class RandomSampler(Sampler):
    """Indices in a random order, a new one each time it is iterated.

    Parameters
    ----------
    data_source : Dataset
    replacement : bool
        Draw ``num_samples`` indices independently (with repeats) instead of permuting.
    num_samples : int, optional
        How many indices per epoch (default ``len(data_source)``); without replacement,
        more than that many concatenates several permutations, as in PyTorch.
    generator : int, numpy.random.Generator or None
        An int seeds one Generator here, so successive epochs differ; ``None`` uses
        numnet's default generator at each epoch.

    Raises
    ------
    ValueError
        If ``num_samples`` is not a positive int.
    """

    def __init__(
        self, data_source, replacement: bool = False, num_samples: int | None = None,
        generator=None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _resolve_generator(generator)
        if not isinstance(self.num_samples, (int, np.integer)) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _order(self) -> np.ndarray:
        rng = default_generator() if self.generator is None else self.generator
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=k)
        if k == n:
            return rng.permutation(n)
        return np.concatenate([rng.permutation(n) for _ in range(-(-k // n))])[:k]

    def __iter__(self) -> Iterator[int]:
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (``torch.utils.data.BatchSampler``).

    Parameters
    ----------
    sampler : Sampler or iterable of int
    batch_size : int
        At least 1.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Raises
    ------
    ValueError
        If ``batch_size`` is not a positive int or ``drop_last`` not a bool (as PyTorch).
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        _check_batch_size(batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def _index_arrays(self) -> Iterator[slice | np.ndarray]:
        """Each batch's indices as a slice or an int array (vectorized when possible)."""
        order = self.sampler._order() if isinstance(self.sampler, Sampler) else NotImplemented
        if order is not NotImplemented:
            n = len(self.sampler) if order is None else len(order)
            yield from index_batches(n, self.batch_size, order, self.drop_last)
            return
        for batch in self:
            yield np.asarray(batch, dtype=np.int64)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.sampler._order() if isinstance(self.sampler, Sampler) else NotImplemented
        if order is not NotImplemented:
            n = len(self.sampler) if order is None else len(order)
            for index in index_batches(n, self.batch_size, order, self.drop_last):
                if isinstance(index, slice):
                    yield list(range(index.start, index.stop))
                else:
                    yield index.tolist()
            return
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# -- collation -----------------------------------------------------------------------------
def _stack_arrays(arrays: list, what: str) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({np.shape(a) for a in arrays})
        raise RuntimeError(
            f"default_collate: stack expects each {what} to be equal size, got shapes {shapes}"
        ) from None


def _collate_error(elem) -> TypeError:
    return TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
        f"lists; found {type(elem).__name__}"
    )


def default_collate(batch: Sequence):
    """Merge a list of samples into a batch (``torch.utils.data.default_collate``).

    Parameters
    ----------
    batch : sequence
        Samples of one structure. Per element type:

        * Tensor → ``stack`` along a new first axis, keeping the dtype (recorded in the
          graph if one requires grad);
        * numeric ``numpy.ndarray`` or NumPy scalar → stacked into a Tensor by numnet's
          rules (floating → float32, integers → int64, booleans kept);
        * ``bool``, ``int``, ``float`` → a 1-D Tensor of bool, int64, float32;
        * ``str`` / ``bytes`` → left as a list;
        * mapping → a mapping of the same keys, each collated;
        * namedtuple → the same namedtuple type, each field collated;
        * tuple → a tuple (PyTorch: a list) and list → a list of the collated
          positions.

    Returns
    -------
    batch
        Tensors of shape ``(len(batch), ...)`` in the samples' structure.

    Raises
    ------
    RuntimeError
        If arrays or Tensors to be stacked differ in shape, or sequences in length.
    TypeError
        For an element of another type (e.g. an object array).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(isinstance(b, Tensor) and b.requires_grad for b in batch):
            from numnet import stack

            return stack(list(batch))
        return Tensor._wrap(_stack_arrays([_as_array(b) for b in batch], "tensor"))
    if isinstance(elem, (np.ndarray, np.generic)):
        if np.asarray(elem).dtype.kind not in "biuf":
            raise _collate_error(elem)
        return Tensor(_stack_arrays([np.asarray(b) for b in batch], "array"))
    if isinstance(elem, (bool, int, float)):
        return Tensor(np.array(batch))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*columns)
        return tuple(columns) if isinstance(elem, tuple) else columns
    raise _collate_error(elem)


def _as_array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def default_convert(data):
    """Turn NumPy arrays and scalars in ``data`` into Tensors, keeping the structure.

    What :class:`DataLoader` applies to each sample when ``batch_size=None`` (no
    batching), as ``torch.utils.data.default_convert``: numeric arrays and NumPy
    scalars become Tensors (numnet's dtype rules), mappings and sequences are
    converted element by element, anything else (Python numbers, strings, Tensors) is
    returned as is.
    """
    if isinstance(data, (np.ndarray, np.generic)):
        return Tensor(data) if np.asarray(data).dtype.kind in "biuf" else data
    if isinstance(data, Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data


# -- the loader ------------------------------------------------------------------------------
def _check_workers(num_workers, pin_memory) -> None:
    """PyTorch's check of ``num_workers``; warnings for what numnet ignores."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or (
        num_workers < 0
    ):
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            "multiprocessing."
        )
    if num_workers > 0:
        warnings.warn(
            f"numnet's DataLoader loads batches in the main process: num_workers="
            f"{num_workers} is ignored",
            UserWarning,
            stacklevel=3,  # the caller of DataLoader(...)
        )
    if pin_memory:
        warnings.warn(
            "'pin_memory' argument is set as true but no accelerator is found, then "
            "device pinned memory won't be used.",
            UserWarning,
            stacklevel=3,
        )


def _refuse_for_iterable(*, shuffle, sampler, batch_sampler) -> None:
    """An IterableDataset gives its own order: no shuffle, sampler or batch_sampler."""
    for name, value, given in (
        ("shuffle", shuffle, shuffle not in (None, False)),
        ("sampler", sampler, sampler is not None),
        ("batch_sampler", batch_sampler, batch_sampler is not None),
    ):
        if given:
            raise ValueError(
                f"DataLoader with IterableDataset: expected unspecified {name} option, "
                f"but got {name}={value}"
            )


def _check_batching(batch_size, shuffle: bool, sampler, batch_sampler, drop_last):
    """``(batch_size, drop_last)`` after PyTorch's checks of the batching options (a
    ``batch_sampler`` decides the batches: ``(None, False)``)."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                "sampler, and drop_last"
            )
        batch_size, drop_last = None, False
    elif batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive "
            "with drop_last"
        )
    if batch_size is not None:
        _check_batch_size(batch_size)
    if not isinstance(drop_last, bool):
        raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
    return batch_size, drop_last


class DataLoader:
    """Iterate over a dataset in batches (``torch.utils.data.DataLoader``).

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        Map-style (``__getitem__`` and ``__len__``) or iterable.
    batch_size : int or None
        Samples per batch (default 1). ``None`` disables batching: each sample is
        yielded on its own, through ``collate_fn`` (default :func:`default_convert`).
    shuffle : bool or None
        A new random order of the samples every epoch (drawn from ``generator``).
    sampler : Sampler or iterable of int, optional
        The indices to visit in order; excludes ``shuffle``.
    batch_sampler : Sampler or iterable of lists of int, optional
        The indices of each batch; excludes ``batch_size``, ``shuffle``, ``sampler``
        and ``drop_last``.
    num_workers : int
        Must be ``>= 0``; numnet loads in the main process, so a positive value warns
        and is ignored (the batches are the same).
    collate_fn : callable, optional
        Merges a list of samples into a batch; default :func:`default_collate`.
    pin_memory : bool
        Accepted; with no accelerator it does nothing (a warning, as PyTorch's on a
        machine without one).
    drop_last : bool
        Skip the final batch if it is smaller than ``batch_size``.
    generator : int, numpy.random.Generator or None
        Keyword only. Source of the shuffled orders: an int seeds one Generator when
        the loader is made (each epoch gets a new order; loaders made with the same
        seed give the same sequence of orders); ``None`` uses numnet's default generator.

    Yields
    ------
    batch
        The batches, as ``collate_fn`` makes them: for a :class:`TensorDataset`, a
        tuple of Tensors of shape ``(B, ...)``, ``B = batch_size`` except maybe for
        the last.

    Raises
    ------
    ValueError
        For incompatible options, with PyTorch's messages: ``batch_size`` not a
        positive int, ``sampler`` with ``shuffle``, ``batch_sampler`` with another
        batching option, ``batch_size=None`` with ``drop_last``, ``shuffle`` or a
        sampler with an :class:`IterableDataset`, ``num_workers < 0``.

    Notes
    -----
    ``len(loader)`` is the number of batches per epoch; the loader can be iterated any
    number of times (one epoch each). For a :class:`TensorDataset` (or a
    :class:`Subset` of one) and the default ``collate_fn``, each stored tensor is
    indexed once per batch with all the batch's indices (slices for sequential order;
    batches are copies, never views of the dataset).
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        *,
        generator=None,
    ) -> None:
        _check_workers(num_workers, pin_memory)
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            _refuse_for_iterable(shuffle=shuffle, sampler=sampler, batch_sampler=batch_sampler)
        shuffle = bool(shuffle)
        batch_size, drop_last = _check_batching(
            batch_size, shuffle, sampler, batch_sampler, drop_last
        )
        self.generator = _resolve_generator(generator)
        if sampler is None and not self._iterable:
            sampler = (
                RandomSampler(dataset, generator=self.generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator:
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        fast = self._fast_source()
        if fast is not None:
            return self._iter_fast(*fast)
        return self._iter_batches()

    def _fast_source(self):
        """``(TensorDataset, index map or None)`` if batches can be gathered at once."""
        if not (self._default_collate and isinstance(self.batch_sampler, BatchSampler)):
            return None
        ds, mapping = self.dataset, None
        if isinstance(ds, Subset) and isinstance(ds.dataset, TensorDataset):
            ds, mapping = ds.dataset, np.asarray(ds.indices, dtype=np.int64)
        if type(ds) is not TensorDataset:  # a subclass may override __getitem__
            return None
        return ds, mapping

    def _iter_fast(self, ds: TensorDataset, mapping) -> Iterator[tuple[Tensor, ...]]:
        for index in self.batch_sampler._index_arrays():
            yield ds._batch(index if mapping is None else mapping[index])

    def _iter_batches(self) -> Iterator:
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            indices = list(indices)
            if getitems is not None:
                samples = getitems(indices)
            else:
                samples = [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})"
        )
