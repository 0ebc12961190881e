"""MNIST / Fashion-MNIST / IDXDataset on tiny fake IDX directories, and data-root resolution."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from numnet.data import (
    MNIST,
    ChecksumError,
    DownloadError,
    FashionMNIST,
    IDXDataset,
    data_root,
    encode_idx,
    load_mnist,
    write_idx,
)

N_TRAIN, N_TEST = 30, 12


def _fake_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def _write_fake_mnist(directory: Path, *, gz: bool = True) -> dict[str, np.ndarray]:
    suffix = ".gz" if gz else ""
    arrays = {}
    for prefix, n, seed in (("train", N_TRAIN, 1), ("t10k", N_TEST, 2)):
        images, labels = _fake_split(n, seed)
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[f"{prefix}-images"], arrays[f"{prefix}-labels"] = images, labels
    return arrays


def _content_md5(array: np.ndarray) -> str:
    return hashlib.md5(encode_idx(array)).hexdigest()


def test_mnist_reads_fake_directory(tmp_path):
    arrays = _write_fake_mnist(tmp_path / "mnist")
    train = MNIST(root=tmp_path, train=True, verify=False)
    test = MNIST(root=tmp_path, train=False, verify=False)
    assert (len(train), len(test)) == (N_TRAIN, N_TEST)
    assert train.data.dtype == np.uint8 and train.data.shape == (N_TRAIN, 28, 28)
    assert train.targets.dtype == np.int64 and train.targets.shape == (N_TRAIN,)
    np.testing.assert_array_equal(train.data, arrays["train-images"])
    np.testing.assert_array_equal(test.targets, arrays["t10k-labels"])
    image, label = train[3]
    assert image.shape == (28, 28) and label == 3 and isinstance(label, int)
    images, labels = test[2:5]
    assert images.shape == (3, 28, 28) and labels.tolist() == [2, 3, 4]
    assert train.split == "train" and test.split == "test"


def test_arrays_flatten_and_scale(tmp_path):
    arrays = _write_fake_mnist(tmp_path)
    ds = MNIST(root=tmp_path, verify=False)
    X, y = ds.arrays()
    assert X.dtype == np.float32 and X.shape == (N_TRAIN, 784)
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(X[5], arrays["train-images"][5].ravel() / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["train-labels"])
    X4, _ = ds.arrays(flatten=False, dtype=np.float64)
    assert X4.shape == (N_TRAIN, 1, 28, 28) and X4.dtype == np.float64
    raw, _ = ds.arrays(scale=False)
    assert raw.max() == arrays["train-images"].max()
    y[0] = 99  # arrays() returns copies
    assert ds.targets[0] == 0
    with pytest.raises(TypeError, match="floating dtype"):
        ds.arrays(dtype=np.int32)


def test_uncompressed_names_are_accepted(tmp_path):
    _write_fake_mnist(tmp_path / "mnist", gz=False)
    assert len(MNIST(root=tmp_path, train=False, verify=False)) == N_TEST


def test_load_mnist_returns_four_arrays(tmp_path):
    arrays = _write_fake_mnist(tmp_path / "mnist")
    X_tr, y_tr, X_te, y_te = load_mnist(tmp_path, flatten=False, verify=False)
    assert X_tr.shape == (N_TRAIN, 1, 28, 28) and X_te.shape == (N_TEST, 1, 28, 28)
    assert X_tr.dtype == np.float32 and y_te.dtype == np.int64
    np.testing.assert_array_equal(y_tr, arrays["train-labels"])
    with pytest.raises(ChecksumError):  # verified by default: fake files are not MNIST
        load_mnist(tmp_path)


def test_verification_rejects_files_that_are_not_mnist(tmp_path):
    _write_fake_mnist(tmp_path)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: checksum mismatch"):
        MNIST(root=tmp_path)


def _checked(arrays, images_key, labels_key, *, use_file_md5: bool, root: Path):
    """A subclass whose checksums accept the fake train files (content or gz MD5)."""
    images_gz = (root / "train-images-idx3-ubyte.gz").read_bytes()
    labels_gz = (root / "train-labels-idx1-ubyte.gz").read_bytes()
    if use_file_md5:
        sums = {
            "train-images-idx3-ubyte.gz": ((hashlib.md5(images_gz).hexdigest(),), ()),
            "train-labels-idx1-ubyte.gz": ((hashlib.md5(labels_gz).hexdigest(),), ()),
        }
    else:  # wrong gz MD5 (re-compressed file), right content MD5
        sums = {
            "train-images-idx3-ubyte.gz": (("0" * 32,), (_content_md5(arrays[images_key]),)),
            "train-labels-idx1-ubyte.gz": (("0" * 32,), (_content_md5(arrays[labels_key]),)),
        }
    return type("Checked", (MNIST,), {"checksums": sums})


@pytest.mark.parametrize("use_file_md5", [False, True])
def test_verification_accepts_content_or_file_md5(tmp_path, use_file_md5):
    arrays = _write_fake_mnist(tmp_path)
    cls = _checked(arrays, "train-images", "train-labels", use_file_md5=use_file_md5, root=tmp_path)
    assert len(cls(root=tmp_path)) == N_TRAIN


def test_missing_files_message_says_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(root=tmp_path / "nowhere")
    message = str(info.value)
    assert f"into {tmp_path / 'nowhere' / 'mnist'}" in message
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in message
    assert "download=True" in message


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((4, 5, 5), np.uint8), np.zeros(4, np.uint8), r"shape \(N, 28, 28\)"),
        (np.zeros((4, 28, 28), np.uint8), np.full(4, 10, np.uint8), "labels must lie in 0..9"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(3, np.uint8), "number of samples"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros((4, 1), np.uint8), "1-D integer"),
    ],
)
def test_inconsistent_files_are_rejected(tmp_path, images, labels, message):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(ValueError, match=message):
        MNIST(root=tmp_path, verify=False)


def test_generic_idx_dataset(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "img.idx", images)
    write_idx(tmp_path / "lab.idx", np.array([7, -1], np.int8))
    ds = IDXDataset(tmp_path, "img.idx", "lab.idx")
    assert ds.targets.tolist() == [7, -1] and ds.targets.dtype == np.int64
    X, _ = ds.arrays(flatten=False)
    assert X.shape == (2, 1, 3, 4)
    np.testing.assert_allclose(X[1, 0], images[1] / 255.0, rtol=1e-6)
    write_idx(tmp_path / "flat.idx", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="at least 2-D"):
        IDXDataset(tmp_path, "flat.idx", "lab.idx")
    with pytest.raises(FileNotFoundError):
        IDXDataset(tmp_path, "img.idx", "missing.idx")


def test_fashion_mnist_uses_its_own_folder(tmp_path):
    _write_fake_mnist(tmp_path / "fashion-mnist", gz=False)
    ds = FashionMNIST(root=tmp_path, train=False, verify=True)  # raw files: no known MD5
    assert len(ds) == N_TEST and ds.classes[9] == "Ankle boot"
    with pytest.raises(FileNotFoundError, match=f"not found in {tmp_path / 'mnist'} or"):
        MNIST(root=tmp_path)  # MNIST does not look inside fashion-mnist/


def test_download_into_root_folder_from_local_mirror(tmp_path):
    arrays = _write_fake_mnist(tmp_path / "served")
    served = tmp_path / "served"

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        local = f"http://127.0.0.1:{httpd.server_address[1]}/"
        sums = {
            "t10k-images-idx3-ubyte.gz": ((), (_content_md5(arrays["t10k-images"]),)),
            "t10k-labels-idx1-ubyte.gz": ((), (_content_md5(arrays["t10k-labels"]),)),
        }
        cls = type("Local", (MNIST,), {"mirrors": (local + "missing/", local), "checksums": sums})
        write_idx(tmp_path / "root" / "t10k-labels-idx1-ubyte", arrays["t10k-labels"])
        ds = cls(root=tmp_path / "root", train=False, download=True)  # fetches the images
        assert ds.labels_path == tmp_path / "root" / "t10k-labels-idx1-ubyte"
        (tmp_path / "root" / "t10k-labels-idx1-ubyte").unlink()
        ds = cls(root=tmp_path / "root", train=False, download=True)  # and now the labels
        assert len(ds) == N_TEST
        np.testing.assert_array_equal(ds.data, arrays["t10k-images"])
        files = sorted(p.name for p in (tmp_path / "root" / "mnist").iterdir())
        assert files == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        assert gzip.decompress((tmp_path / "root/mnist/t10k-labels-idx1-ubyte.gz").read_bytes())
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_offline_download_error_says_where_to_put_files(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = {"retries": 2, "timeout": 5.0, "backoff": 0.0}
    attrs = {"mirrors": (f"http://127.0.0.1:{port}/",), "download_options": options}
    cls = type("Offline", (MNIST,), attrs)
    with pytest.raises(DownloadError) as info:
        cls(root=tmp_path, download=True)
    message = str(info.value)
    assert f"into {tmp_path / 'mnist'}" in message
    assert "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert "attempt 2/2" in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_data_root_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NUMNET_DATA", raising=False)
    assert data_root() == tmp_path / "home" / ".cache" / "numnet"
    monkeypatch.setenv("NUMNET_DATA", "  ")
    assert data_root() == tmp_path / "home" / ".cache" / "numnet"
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root("~/x") == tmp_path / "home" / "x"
    with pytest.raises(TypeError, match="root must be a path"):
        data_root(3)


def test_mnist_uses_env_root(tmp_path, monkeypatch):
    _write_fake_mnist(tmp_path / "mnist")
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path))
    assert MNIST(train=False, verify=False).root == tmp_path
