"""A labelled image set read from a pair of IDX files, with optional MD5 verification.

Shapes: ``data`` is ``(N, H, W)`` (whatever the images file holds, first axis ``N``),
``targets`` is ``(N,)`` int64; :meth:`IDXDataset.arrays` gives model-ready ``X`` of
shape ``(N, H*W)`` or ``(N, 1, H, W)`` with uint8 pixels scaled to [0, 1]. Items
(``ds[i]``) go through the optional per-sample ``transform``/``target_transform``, as
torchvision's datasets' do.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from numnet._files import is_gzip, md5_file
from numnet.data.download import ChecksumError
from numnet.data.idx import DEFAULT_MAX_BYTES, IDXFormatError, _stream_idx

__all__ = ["Checksums", "FileChecksums", "IDXDataset"]

#: (accepted MD5s of the gzip file, accepted MD5s of the decompressed IDX bytes)
FileChecksums = tuple[tuple[str, ...], tuple[str, ...]]
#: file name -> its checksums
Checksums = Mapping[str, FileChecksums]


def _verify(path: Path, content_md5: str, checksums: FileChecksums) -> None:
    """Raise :class:`ChecksumError` unless a known digest of ``path`` matches.

    ``content_md5`` is the MD5 of the decompressed IDX bytes. The decompressed MD5 is
    checked when known; a file MD5 applies only to a gzip file. A file that no known
    digest applies to is accepted unverified.
    """
    file_ok, content_ok = checksums
    gz = is_gzip(path)
    if content_ok and content_md5 in content_ok:
        return
    if file_ok and gz and md5_file(path) in file_ok:
        return
    got, wanted = [], []
    if content_ok:
        got.append(f"decompressed MD5 {content_md5}")
        wanted.append(f"decompressed MD5 in {list(content_ok)}")
    if file_ok and gz:
        got.append(f"file MD5 {md5_file(path)}")
        wanted.append(f"file MD5 in {list(file_ok)}")
    if got:
        raise ChecksumError(
            f"{path}: checksum mismatch: got {', '.join(got)}; expected {' or '.join(wanted)}. "
            "The file is corrupt or not the expected data: delete it (download=True fetches "
            "it again) or pass verify=False."
        )


def _check_transform(name: str, value) -> Callable | None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
    return value


def _stack(samples: list, what: str, empty_dtype: type):
    """Per-sample results as one batch: Tensors stacked into a Tensor, anything else
    into an array; ``(0,)`` of ``empty_dtype`` for no samples (their shape is unknown)."""
    if not samples:
        return np.empty((0,), dtype=empty_dtype)
    from numnet.tensor import Tensor

    if all(isinstance(x, Tensor) for x in samples):
        from numnet import stack

        shapes = {tuple(x.shape) for x in samples}
        if len(shapes) == 1:
            return stack(samples)
    else:
        arrays = [np.asarray(x) for x in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) == 1:
            return np.stack(arrays)
    raise ValueError(
        f"{what} returned samples of different shapes {sorted(shapes)}: a slice or an "
        "index array stacks them into one batch; index one sample at a time instead"
    )


def _load_verified(
    path: Path, checksums: FileChecksums | None, max_bytes: int | None = DEFAULT_MAX_BYTES
) -> np.ndarray:
    """Read an IDX file (streamed, header first), verifying its checksums when given."""
    digest = hashlib.md5(usedforsecurity=False) if checksums is not None else None
    array = _stream_idx(path, max_bytes, digest)
    if checksums is not None:
        _verify(path, digest.hexdigest(), checksums)
    return array


class IDXDataset:
    """A labelled image set from an IDX images file and an IDX labels file.

    Parameters
    ----------
    root : path-like
        Directory holding the files (relative file names are resolved against it).
    images_file, labels_file : str
        File names; gzip is detected from the content.
    max_bytes : int or None
        Largest array to read from either file (see :func:`numnet.data.read_idx`):
        512 MiB by default, ``None`` for no limit.
    transform : callable or None
        Keyword only. Applied to each image that indexing returns: it receives the
        ``(H, W)`` array (uint8 for MNIST; torchvision passes a PIL Image), e.g.
        :class:`numnet.data.transforms.ToTensor` for a float32 ``(1, H, W)`` Tensor in
        [0, 1]. ``None`` returns the stored array.
    target_transform : callable or None
        Keyword only. Applied to each label (a Python ``int``) that indexing returns.

    Attributes
    ----------
    data : numpy.ndarray
        Images, ``(N, H, W)`` (or whatever the IDX file holds, first axis ``N``).
    targets : numpy.ndarray
        Labels, ``(N,)`` int64.
    transform, target_transform : callable or None
        As given; they may be set later too. :attr:`data`, :attr:`targets` and
        :meth:`arrays` never go through them.

    Raises
    ------
    TypeError
        If ``transform`` or ``target_transform`` is neither callable nor ``None``.
    FileNotFoundError
        If a file is missing.
    numnet.data.IDXFormatError
        If a file is not valid IDX or declares more than ``max_bytes``, the labels are
        not 1-D integers, the images have fewer than 2 dimensions, or the two files
        disagree on ``N``: the message names the file and the problem. (A
        ``ValueError``, as these errors were before.) Files with ``N = 0`` load as
        empty arrays.
    """

    max_bytes: int | None = DEFAULT_MAX_BYTES

    def __init__(
        self,
        root: str | os.PathLike,
        images_file: str,
        labels_file: str,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        root = Path(root)
        self.max_bytes = max_bytes
        self._set_transforms(transform, target_transform)
        self._set(root / images_file, root / labels_file, None, None)

    def _set_transforms(self, transform, target_transform) -> None:
        self.transform = _check_transform("transform", transform)
        self.target_transform = _check_transform("target_transform", target_transform)

    def _set(
        self,
        images_path: Path,
        labels_path: Path,
        image_md5s: FileChecksums | None,
        label_md5s: FileChecksums | None,
    ) -> None:
        images = _load_verified(images_path, image_md5s, self.max_bytes)
        labels = _load_verified(labels_path, label_md5s, self.max_bytes)
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise IDXFormatError(
                f"{labels_path}: labels must be a 1-D integer array, got {labels.dtype} "
                f"of shape {labels.shape}"
            )
        if images.ndim < 2:
            raise IDXFormatError(
                f"{images_path}: images must be at least 2-D (N, ...), got shape {images.shape}"
            )
        if len(images) != len(labels):
            raise IDXFormatError(
                f"{images_path} holds images of shape {images.shape} but {labels_path} "
                f"holds {len(labels)} labels: they must agree on the number of samples"
            )
        self.images_path, self.labels_path = images_path, labels_path
        self.data: np.ndarray = images
        self.targets: np.ndarray = labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        """One sample for an integer index, a batch for a slice or an index array.

        Parameters
        ----------
        index : int, slice, or array_like of int or bool
            What NumPy accepts along the first axis of :attr:`data`.

        Returns
        -------
        image, label
            For an integer index: ``transform(data[index])`` and
            ``target_transform(int(targets[index]))``; without transforms an
            ``(H, W)`` array (a view of :attr:`data`) and an ``int``, as torchvision.
        images, labels
            For a slice or an index array (numnet's extension; torchvision's MNIST
            takes integers only): without transforms the arrays ``data[index]``
            ``(B, H, W)`` and ``targets[index]`` ``(B,)`` int64. With transforms each
            sample is transformed as for an integer index, in order, and the results
            are stacked: a Tensor ``(B, ...)`` if the transform returns Tensors, else
            an array; an empty index gives an empty ``(0,)`` array in place of each
            transformed part (float32 images, int64 labels).

        Raises
        ------
        IndexError
            For an index out of range.
        ValueError
            If the transform returns samples of different shapes for a batch index.

        Notes
        -----
        Why a batch index applies the transforms per sample rather than raising: a
        transform is written for one sample (``ToTensor`` turns ``(H, W)`` into
        ``(1, H, W)``; given a batch ``(B, H, W)`` it would return a wrong
        ``(W, B, H)``), and ``ds[idx]`` must keep meaning the samples
        ``ds[i] for i in idx`` whether or not a transform is set, so code that slices
        (or a :class:`numnet.utils.data.Subset` indexed by a list) keeps working when
        a transform is added. The per-sample loop is Python-speed: for whole-set
        float arrays use :meth:`arrays`; for shuffled mini-batches a
        :class:`numnet.utils.data.DataLoader` calls ``ds[i]`` and stacks the same way.
        """
        if isinstance(index, (int, np.integer)) or (
            isinstance(index, np.ndarray) and index.ndim == 0 and index.dtype.kind in "iu"
        ):  # an integer, or a 0-d integer array (what NumPy indexes as one)
            return self._sample(self.data[index], int(self.targets[index]))
        images, labels = self.data[index], self.targets[index]
        if self.transform is None and self.target_transform is None:
            return images, labels
        samples = [self._sample(image, int(label)) for image, label in zip(images, labels)]
        if self.transform is not None:
            images = _stack([s[0] for s in samples], "transform", np.float32)
        if self.target_transform is not None:
            labels = _stack([s[1] for s in samples], "target_transform", np.int64)
        return images, labels

    def _sample(self, image: np.ndarray, label: int):
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def arrays(
        self, flatten: bool = True, scale: bool = True, dtype: np.dtype | type = np.float32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Model-ready ``(X, y)`` from all of :attr:`data` and :attr:`targets`, vectorized.

        ``transform`` and ``target_transform`` do not apply here (they are per-sample).

        Parameters
        ----------
        flatten : bool
            ``X`` of shape ``(N, H*W)`` if true, else ``(N, 1, H, W)`` (a channel axis
            is added to 3-D image data).
        scale : bool
            Divide uint8 pixels by 255 so that ``X`` lies in [0, 1]; other dtypes are
            only cast.
        dtype : numpy dtype
            Floating dtype of ``X``.

        Returns
        -------
        X : numpy.ndarray
            ``(N, H*W)`` or ``(N, 1, H, W)``, ``dtype``; a new array.
        y : numpy.ndarray
            ``(N,)`` int64 labels (a copy).
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a floating dtype, got {dtype}")
        if scale and self.data.dtype == np.uint8:
            X = np.multiply(self.data, dtype.type(1 / 255), dtype=dtype)
        else:
            X = self.data.astype(dtype)
        n = len(X)  # (explicit sizes: -1 cannot be inferred when N = 0)
        X = X.reshape(n, math.prod(X.shape[1:])) if flatten else (X[:, None] if X.ndim == 3 else X)
        return X, self.targets.copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, images={str(self.images_path)!r})"
