"""A labelled image set read from a pair of IDX files, with optional MD5 verification.

Shapes: ``data`` is ``(N, H, W)`` (whatever the images file holds, first axis ``N``),
``targets`` is ``(N,)`` int64; :meth:`IDXDataset.arrays` gives model-ready ``X`` of
shape ``(N, H*W)`` or ``(N, 1, H, W)`` with uint8 pixels scaled to [0, 1].
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
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

    Attributes
    ----------
    data : numpy.ndarray
        Images, ``(N, H, W)`` (or whatever the IDX file holds, first axis ``N``).
    targets : numpy.ndarray
        Labels, ``(N,)`` int64.

    Raises
    ------
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
    ) -> None:
        root = Path(root)
        self.max_bytes = max_bytes
        self._set(root / images_file, root / labels_file, None, None)

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
        """``(image, label)``: an ``(H, W)`` array and an ``int`` for an integer index,
        ``(images, labels)`` arrays for a slice or an index array."""
        if isinstance(index, (int, np.integer)):
            return self.data[index], int(self.targets[index])
        return self.data[index], self.targets[index]

    def arrays(
        self, flatten: bool = True, scale: bool = True, dtype: np.dtype | type = np.float32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Model-ready ``(X, y)``.

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
