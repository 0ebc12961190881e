"""Data for numnet: IDX files, MNIST and Fashion-MNIST, toy problems, splits and batches.

Files and data sets
    :func:`read_idx`, :func:`write_idx` (the MNIST container format), :func:`download`
    (mirrors, retries, MD5 of the decompressed content, atomic writes), :func:`data_root`
    (argument, then ``$NUMNET_DATA``, then ``~/.cache/numnet``), :class:`IDXDataset`,
    :class:`MNIST`, :class:`FashionMNIST`, :func:`load_mnist`, :func:`load_fashion_mnist`.
Toy problems (seeded)
    :func:`xor`, :func:`two_moons`, :func:`circles`, :func:`gaussian_blobs`,
    :func:`spirals`, :func:`noisy_function`.
Training helpers
    :func:`train_val_split`, :func:`iterate_minibatches`, :class:`ArrayDataset`.
Per-sample transforms (``MNIST(root, transform=...)``)
    :mod:`numnet.data.transforms`: ``Compose``, ``ToTensor``, ``Normalize``, ``Lambda``
    (torchvision's names).
"""

from numnet.data import transforms as transforms  # the submodule, as numnet.data.transforms
from numnet.data.batching import ArrayDataset, iterate_minibatches
from numnet.data.datasets import (
    MNIST,
    FashionMNIST,
    IDXDataset,
    load_fashion_mnist,
    load_mnist,
)
from numnet.data.download import ChecksumError, DownloadError, download
from numnet.data.idx import IDXFormatError, decode_idx, encode_idx, read_idx, write_idx
from numnet.data.root import data_root
from numnet.data.split import train_val_split
from numnet.data.synthetic import (
    circles,
    gaussian_blobs,
    noisy_function,
    spirals,
    two_moons,
    xor,
)

__all__ = [
    "MNIST",
    "ArrayDataset",
    "ChecksumError",
    "DownloadError",
    "FashionMNIST",
    "IDXDataset",
    "IDXFormatError",
    "circles",
    "data_root",
    "decode_idx",
    "download",
    "encode_idx",
    "gaussian_blobs",
    "iterate_minibatches",
    "load_fashion_mnist",
    "load_mnist",
    "noisy_function",
    "read_idx",
    "spirals",
    "train_val_split",
    "two_moons",
    "write_idx",
    "xor",
]
