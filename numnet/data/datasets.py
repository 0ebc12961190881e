"""Image classification data sets stored as IDX file pairs: MNIST and Fashion-MNIST.

Shapes: ``data`` is ``(N, H, W)`` uint8 (``(N, 28, 28)`` for MNIST), ``targets`` is
``(N,)`` int64; :meth:`IDXDataset.arrays` gives model-ready ``X`` of shape ``(N, H*W)``
or ``(N, 1, H, W)`` with pixels scaled to [0, 1]. ``ds[i]`` is ``(image, label)``, through
the optional ``transform``/``target_transform`` as in torchvision::

    from numnet.data import MNIST
    from numnet.data.transforms import ToTensor
    from numnet.utils.data import DataLoader

    ds = MNIST(root, transform=ToTensor())        # ds[0]: Tensor (1, 28, 28) float32, int
    for xb, yb in DataLoader(ds, batch_size=64, shuffle=True, generator=0):
        ...                                       # (64, 1, 28, 28) float32, (64,) int64

Where the files are looked for, with ``root`` resolved by :func:`numnet.data.data_root`
(argument, ``$NUMNET_DATA``, ``~/.cache/numnet``): first ``root/<folder>`` (``mnist``
or ``fashion-mnist``), then ``root`` itself. Each file may be gzip-compressed
(``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from numnet.data.download import DownloadError, download
from numnet.data.idx import IDXFormatError
from numnet.data.idx_dataset import Checksums, IDXDataset
from numnet.data.root import data_root

__all__ = ["MNIST", "FashionMNIST", "IDXDataset", "load_fashion_mnist", "load_mnist"]


class MNIST(IDXDataset):
    """MNIST handwritten digits: 60,000 training and 10,000 test 28x28 images, labels 0-9.

    Parameters
    ----------
    root : path-like or None
        Data root (see :func:`numnet.data.data_root`); files are looked for in
        ``root/mnist`` and then in ``root``.
    train : bool
        Training split if true, else the test split.
    download : bool
        Download missing files into ``root/mnist`` from the mirrors.
    verify : bool
        Keyword only. Check the files' MD5 (of the decompressed content, or of the
        gzip file).
    transform : callable or None
        Keyword only. Applied to each image ``ds[i]`` returns, a uint8 ``(28, 28)``
        array (torchvision passes a PIL Image): e.g.
        :class:`numnet.data.transforms.ToTensor` gives a float32 ``(1, 28, 28)``
        Tensor in [0, 1]. See :meth:`IDXDataset.__getitem__` for slices.
    target_transform : callable or None
        Keyword only. Applied to each label, an ``int``.

    Raises
    ------
    TypeError
        If ``transform`` or ``target_transform`` is neither callable nor ``None``, or
        ``download`` is a callable (a transform passed in torchvision's position).
    FileNotFoundError
        If files are missing and ``download`` is false; the message says where to put them.
    numnet.data.DownloadError
        If downloading fails; the message says where to put the files by hand.
    numnet.data.ChecksumError
        If a file fails verification.
    numnet.data.IDXFormatError
        If a file is malformed (not IDX, truncated, bad gzip), larger than
        :attr:`max_bytes` (64 MiB: MNIST's images take 47 MB), not uint8 images of
        shape ``(N, 28, 28)``, its labels not in 0..9, or the two files disagree on
        ``N``; the message names the file. A ``ValueError``. Files with ``N = 0``
        load as empty arrays.

    Notes
    -----
    torchvision's order is ``MNIST(root, train, transform, target_transform,
    download)``; numnet's third positional parameter is ``download`` (as it was
    before transforms existed), so pass ``transform=`` by keyword. A callable passed
    as ``download`` is refused rather than read as ``download=True``.

    References
    ----------
    Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
    document recognition", Proc. IEEE 86(11), 1998.
    """

    folder: ClassVar[str] = "mnist"
    mirrors: ClassVar[tuple[str, ...]] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    files: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }
    checksums: ClassVar[Checksums] = {
        "train-images-idx3-ubyte.gz": (
            ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "c7dfcf1bfd3481a40f7b3aedbdbd083c"),
            ("6bbc9ace898e44ae57da46a324031adb",),
        ),
        "train-labels-idx1-ubyte.gz": (
            ("d53e105ee54ea40749a09fcbcd1e9432",),
            ("a25bea736e30d166cdddb491f175f624",),
        ),
        "t10k-images-idx3-ubyte.gz": (
            ("9fb629c4189551a2d022fa330f9573f3",),
            ("2646ac647ad5339dbf082846283269ea",),
        ),
        "t10k-labels-idx1-ubyte.gz": (
            ("ec29112dd5afa0611ce80d1b7f02629c",),
            ("27ae3e4e09519cfbb04c329615203637",),
        ),
    }
    classes: ClassVar[tuple[str, ...]] = tuple(str(i) for i in range(10))
    #: largest array read from one file (bytes): MNIST's training images take 47 MB
    max_bytes: ClassVar[int | None] = 64 << 20
    #: keyword arguments for :func:`numnet.data.download`
    download_options: ClassVar[dict[str, float]] = {"retries": 3, "timeout": 30.0, "backoff": 1.0}

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        *,
        verify: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if callable(download):
            raise TypeError(
                f"download must be a bool, got {download!r}: numnet's third positional "
                "parameter is download (torchvision's is transform); pass "
                "transform=... by keyword"
            )
        self._set_transforms(transform, target_transform)
        self.root = data_root(root)
        self.train = bool(train)
        self.split = "train" if self.train else "test"
        names = self.files[self.split]
        paths = self._find(names)
        if paths is None:
            if not download:
                raise FileNotFoundError(
                    f"{type(self).__name__} ({self.split}) not found in "
                    f"{self.root / self.folder} or {self.root}. "
                    f"Pass download=True, or {self._where_to_put()}"
                )
            paths = []
            for name in names:  # fetch only what is missing
                existing = self._find((name,))
                paths.append(existing[0] if existing else self._download(name))
        sums = [self.checksums[name] if verify else None for name in names]
        self._set(paths[0], paths[1], *sums)
        if self.data.shape[1:] != (28, 28) or self.data.dtype != np.uint8:
            raise IDXFormatError(
                f"{paths[0]}: expected uint8 images of shape (N, 28, 28), got "
                f"{self.data.dtype} {self.data.shape}"
            )
        if len(self.targets) and not 0 <= self.targets.min() <= self.targets.max() < 10:
            raise IDXFormatError(f"{paths[1]}: labels must lie in 0..9")

    def _find(self, names: tuple[str, ...]) -> list[Path] | None:
        """The paths of ``names`` (``.gz`` or not) in the first directory holding all."""
        for directory in (self.root / self.folder, self.root):
            found = []
            for name in names:
                stem = name.removesuffix(".gz")
                variants = (name, stem, stem.replace("-idx", ".idx"))
                found += [p for p in (directory / v for v in variants) if p.is_file()][:1]
            if len(found) == len(names):
                return found
        return None

    def _where_to_put(self) -> str:
        names = ", ".join(n for pair in self.files.values() for n in pair)
        return (
            f"copy {names} (gzip-compressed or not) into {self.root / self.folder}, or "
            "point root= or $NUMNET_DATA at the directory that holds them."
        )

    def _download(self, name: str) -> Path:
        dest = self.root / self.folder / name
        file_md5s, content_md5s = self.checksums[name]
        try:
            return download(
                [mirror + name for mirror in self.mirrors],
                dest,
                md5_file=file_md5s,
                md5_decompressed=content_md5s,
                **self.download_options,
            )
        except DownloadError as exc:
            raise type(exc)(
                f"{exc}\nTo use {type(self).__name__} offline, {self._where_to_put()}"
            ) from exc

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(split={self.split!r}, n={len(self)}, root={str(self.root)!r})"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando article images in MNIST's format and sizes, 10 classes.

    Same parameters as :class:`MNIST`; files are looked for in ``root/fashion-mnist``
    and then in ``root``. Only the gzip files' MD5s are known, so uncompressed files
    are read unverified (their shape and labels are still checked).

    References
    ----------
    H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for
    benchmarking machine learning algorithms", arXiv:1708.07747, 2017.
    """

    folder: ClassVar[str] = "fashion-mnist"
    mirrors: ClassVar[tuple[str, ...]] = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    checksums: ClassVar[Checksums] = {
        "train-images-idx3-ubyte.gz": (("8d4fb7e6c68d591d4c3dfef9ec88bf0d",), ()),
        "train-labels-idx1-ubyte.gz": (("25c81989df183df01b3e8a0aad5dffbe",), ()),
        "t10k-images-idx3-ubyte.gz": (("bef4ecab320f06d8554ea6380940ec79",), ()),
        "t10k-labels-idx1-ubyte.gz": (("bb300cfdad3c16e7a12a480ee83cd310",), ()),
    }
    classes: ClassVar[tuple[str, ...]] = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


def _load_pair(cls, root, flatten: bool, download: bool, verify: bool):
    X_train, y_train = cls(root, train=True, download=download, verify=verify).arrays(flatten)
    X_test, y_test = cls(root, train=False, download=download, verify=verify).arrays(flatten)
    return X_train, y_train, X_test, y_test


def load_mnist(
    root: str | os.PathLike | None = None,
    *,
    flatten: bool = True,
    download: bool = False,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(X_train, y_train, X_test, y_test)``: float32 pixels in [0, 1], int64 labels.

    ``X`` is ``(N, 784)`` if ``flatten`` else ``(N, 1, 28, 28)``; ``N`` is 60,000 and
    10,000. See :class:`MNIST` for ``root``, ``download`` and ``verify``.
    """
    return _load_pair(MNIST, root, flatten, download, verify)


def load_fashion_mnist(
    root: str | os.PathLike | None = None,
    *,
    flatten: bool = True,
    download: bool = False,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST as ``(X_train, y_train, X_test, y_test)``, like :func:`load_mnist`."""
    return _load_pair(FashionMNIST, root, flatten, download, verify)
