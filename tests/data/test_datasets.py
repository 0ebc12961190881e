"""MNIST / Fashion-MNIST / IDXDataset on tiny fake IDX directories, data-root resolution,
per-sample transforms (numnet.data.transforms) and a DataLoader over a transformed set."""

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
from numnet.data.transforms import Compose, Lambda, Normalize, ToTensor
from numnet.tensor import Tensor
from numnet.utils.data import DataLoader, random_split

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


# -- transform / target_transform, and numnet.data.transforms -------------------------------
@pytest.fixture
def digits_root(tmp_path, row_block_digits):
    return row_block_digits(tmp_path, 20, 7)


def test_integer_index_applies_transform_and_target_transform(digits_root):
    seen = []

    def target(label):
        seen.append(label)
        return label + 100

    ds = MNIST(digits_root, verify=False, transform=ToTensor(), target_transform=target)
    image, label = ds[3]
    assert isinstance(image, Tensor) and image.dtype == np.float32 and image.shape == (1, 28, 28)
    np.testing.assert_allclose(image.data[0], ds.data[3] / 255.0, rtol=1e-6)
    assert 0.0 <= image.data.min() and image.data.max() == 1.0  # the lit rows are 255
    assert label == int(ds.targets[3]) + 100 and type(seen[0]) is int  # as torchvision: an int
    assert ds[np.int64(-1)][1] == int(ds.targets[-1]) + 100
    assert ds[np.array(3)][1] == label  # a 0-d integer array is an integer index
    raw = MNIST(digits_root, verify=False)  # no transform: the stored array and an int
    assert raw[3][0].dtype == np.uint8 and raw[3][0].shape == (28, 28)
    assert ds.transform is not None and raw.transform is None and raw.target_transform is None
    image.data[:] = 0  # ToTensor copies: the dataset is untouched
    assert ds.data[3].max() == 255


@pytest.mark.parametrize("index", [slice(2, 7), np.array([5, 0, 5, 9]), [1, 4], "mask"])
def test_batch_index_with_transforms_equals_stacked_samples(digits_root, index):
    ds = MNIST(digits_root, verify=False, transform=ToTensor(), target_transform=lambda y: y * 2)
    if isinstance(index, str):
        index = np.arange(len(ds)) % 3 == 0
    positions = np.arange(len(ds))[index]
    images, labels = ds[index]
    assert isinstance(images, Tensor) and images.shape == (len(positions), 1, 28, 28)
    assert images.dtype == np.float32
    expected = [ds[int(i)] for i in positions]
    np.testing.assert_array_equal(images.data, np.stack([im.data for im, _ in expected]))
    assert isinstance(labels, np.ndarray) and labels.tolist() == [y for _, y in expected]


def test_batch_index_stacks_arrays_and_keeps_untransformed_parts(digits_root):
    ds = MNIST(digits_root, verify=False, transform=lambda im: im.ravel() / 255.0)
    images, labels = ds[0:4]
    assert type(images) is np.ndarray and images.shape == (4, 784)
    np.testing.assert_array_equal(labels, ds.targets[0:4])  # no target_transform: int64 array
    ds = MNIST(digits_root, verify=False, target_transform=lambda y: f"digit {y}")
    images, labels = ds[[2, 3]]
    np.testing.assert_array_equal(images, ds.data[[2, 3]])
    assert labels.tolist() == [f"digit {ds.targets[2]}", f"digit {ds.targets[3]}"]


def test_per_sample_calls_run_in_order_image_then_label(digits_root):
    calls = []
    ds = MNIST(
        digits_root,
        verify=False,
        transform=lambda im: calls.append("x") or im,
        target_transform=lambda y: calls.append("y") or y,
    )
    ds[0:3]
    assert calls == ["x", "y"] * 3  # so random transforms see what [ds[i] for i] would


def test_empty_batch_index_and_ragged_transform(digits_root):
    ds = MNIST(digits_root, verify=False, transform=ToTensor(), target_transform=str)
    images, labels = ds[5:5]
    assert images.shape == (0,) and images.dtype == np.float32
    assert labels.shape == (0,) and labels.dtype == np.int64
    ragged = MNIST(digits_root, verify=False, transform=lambda im: im[: 1 + im[0, 0] % 3])
    with pytest.raises(ValueError, match="transform returned samples of different shapes"):
        ragged[:]
    ragged.transform = lambda im: ToTensor()(im[: 1 + im[0, 0] % 3])  # Tensors too
    with pytest.raises(ValueError, match="index one sample at a time"):
        ragged[:]


def test_transform_arguments_are_checked_and_download_stays_third(digits_root):
    with pytest.raises(TypeError, match="transform must be callable or None, got str"):
        MNIST(digits_root, verify=False, transform="to_tensor")
    with pytest.raises(TypeError, match="target_transform must be callable or None"):
        IDXDataset(
            digits_root,
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            target_transform=3,
        )
    with pytest.raises(TypeError, match="download must be a bool.*pass transform=.* by keyword"):
        MNIST(digits_root, True, ToTensor())  # torchvision's positional order
    ds = MNIST(digits_root, False, False, verify=False)  # positional download still works
    assert ds.split == "test" and len(ds) == 7


def test_idx_dataset_and_fashion_mnist_take_transforms(digits_root, tmp_path):
    ds = IDXDataset(
        digits_root,
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        transform=ToTensor(),
        target_transform=lambda y: -y,
    )
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and label == -int(ds.targets[0])
    _write_fake_mnist(tmp_path / "f" / "fashion-mnist")
    fashion = FashionMNIST(tmp_path / "f", verify=False, transform=ToTensor())
    assert fashion[0][0].shape == (1, 28, 28)


def test_arrays_ignore_transforms(digits_root):
    ds = MNIST(digits_root, verify=False, transform=lambda im: im * 0)
    X, y = ds.arrays()
    assert X.max() == 1.0 and X.shape == (20, 784)


def test_dataloader_over_a_transformed_dataset(digits_root):
    flat = Compose([ToTensor(), Lambda(lambda t: t.flatten())])
    ds = MNIST(digits_root, verify=False, transform=flat)
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=0)
    assert len(loader) == 3
    X, y = ds.arrays()
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, Tensor) and xb.dtype == np.float32 and xb.shape[1] == 784
        assert yb.dtype == np.int64 and len(yb) == len(xb) <= 8
        rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in xb.data]
        np.testing.assert_array_equal(yb.data, y[rows])
        seen += rows
    assert sorted(seen) == list(range(20))  # each sample once per epoch
    image_batch, _ = next(
        iter(DataLoader(MNIST(digits_root, verify=False, transform=ToTensor()), batch_size=5))
    )
    np.testing.assert_allclose(image_batch.data, X[:5].reshape(5, 1, 28, 28), rtol=1e-6)
    train, _ = random_split(ds, [15, 5], generator=0)
    xs, ys = train[[0, 1, 2]]  # a Subset indexed by a list indexes the dataset with it
    assert xs.shape == (3, 784) and ys.shape == (3,)


def test_to_tensor_follows_torchvision_for_arrays():
    hwc = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    t = ToTensor()(hwc)
    assert t.shape == (4, 2, 3) and t.dtype == np.float32
    np.testing.assert_allclose(t.data, hwc.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    f64 = np.linspace(0, 3, 6).reshape(2, 3)  # other dtypes: values and dtype kept
    out = ToTensor()(f64)
    assert out.dtype == np.float64 and out.shape == (1, 2, 3)
    np.testing.assert_array_equal(out.data[0], f64)
    out.data[:] = -1
    assert f64[1, 2] == 3.0  # a copy
    with pytest.raises(TypeError, match="pic should be a numpy.ndarray"):
        ToTensor()(Tensor(f64))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions"):
        ToTensor()(np.zeros(3, np.uint8))


def test_normalize_per_channel():
    x = Tensor(np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3))
    out = Normalize((1.0, 2.0), (2.0, 4.0))(x)
    expected = (x.data - np.array([1.0, 2.0])[:, None, None]) / np.array([2.0, 4.0])[:, None, None]
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert out.dtype == np.float32 and x.data[0, 0, 0] == 0.0  # not in place
    same = Normalize(0.5, 0.5, inplace=True)(x)
    assert same is x and x.data[0, 0, 0] == -1.0
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize((0.0,), (0.0,))(x)
    with pytest.raises(ValueError, match=r"size \(..., C, H, W\)"):
        Normalize((0.0,), (1.0,))(Tensor(np.zeros((3, 3), np.float32)))
    with pytest.raises(ValueError, match="mean has 3 values for an image of 2 channels"):
        Normalize((0.0, 0.0, 0.0), (1.0,))(x)
    with pytest.raises(TypeError, match="float tensor"):
        Normalize((0.0,), (1.0,))(Tensor(np.zeros((1, 2, 2), np.int64)))
    with pytest.raises(TypeError, match="Tensor image"):
        Normalize((0.0,), (1.0,))(np.zeros((1, 2, 2), np.float32))


def test_normalize_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 4, 5), dtype=np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    got = Normalize(mean, std)(Tensor(x)).data
    t = torch.from_numpy(x)
    want = ((t - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_compose_and_lambda():
    pipeline = Compose([ToTensor(), Normalize((0.1307,), (0.3081,)), Lambda(lambda t: t.flatten())])
    out = pipeline(np.full((28, 28), 255, np.uint8))
    assert out.shape == (784,)
    np.testing.assert_allclose(out.data, (1 - 0.1307) / 0.3081, rtol=1e-5)
    assert "ToTensor()" in repr(pipeline) and "Normalize(" in repr(pipeline)
    with pytest.raises(TypeError, match=r"transforms\[1\] is not callable"):
        Compose([ToTensor(), 3])
    with pytest.raises(TypeError, match="lambd should be callable"):
        Lambda(None)
