"""Hostile and broken files: each loader raises its one documented error, memory stays
bounded by what the file justifies, and interrupted writes leave nothing behind.

The strategies and ``check_*`` functions here are also run, with many more examples, by
``benchmarks/fuzz_loaders.py``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numnet
from numnet import io, nn
from numnet._files import atomic_write_bytes, clean_stale_temporaries
from numnet.data import IDXDataset, IDXFormatError, decode_idx, encode_idx, read_idx
from numnet.io import CheckpointError, ModelFileError
from numnet.nn.config import to_config

MiB = 1 << 20
#: fixed allowance of the memory ceilings (interpreter, NumPy and hypothesis noise)
MARGIN = 2 * MiB


@contextlib.contextmanager
def peak_memory():
    """Yield a list that receives the tracemalloc peak (bytes) of the block."""
    out: list[int] = []
    tracemalloc.start()
    try:
        yield out
    finally:
        out.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def raw_safetensors(header, payload: bytes = b"", *, text: str | None = None) -> bytes:
    body = (json.dumps(header) if text is None else text).encode()
    return struct.pack("<Q", len(body)) + body + payload


def model_meta(config, **extra) -> dict:
    return {"format": "numnet", "format_version": "1", "config": json.dumps(config), **extra}


def linear_config(i: int, o: int, bias: bool = True) -> dict:
    return {"class": "numnet.nn.linear.Linear", "args": [i, o, bias], "kwargs": {}}


# -- 1. one documented exception: the examples -------------------------------------
def idx_header(code: int, dims) -> bytes:
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_more_than_64_dimensions(tmp_path, compress):
    data = idx_header(0x08, [1] * 65) + b"\x07"
    path = tmp_path / "deep.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IDXFormatError, match=r"deep\.idx: IDX header declares 65 dimensions"):
        read_idx(path)
    with pytest.raises(IDXFormatError, match="65 dimensions"):
        decode_idx(data)
    ok = idx_header(0x08, [1] * 64) + b"\x07"
    assert decode_idx(ok).shape == (1,) * 64


@pytest.mark.parametrize("compress", [False, True])
def test_idx_zero_dimension_beside_huge_ones(tmp_path, compress):
    data = idx_header(0x0E, [0, 2**32 - 1, 2**32 - 1, 2**32 - 1])
    path = tmp_path / "zero.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IDXFormatError, match=r"zero\.idx: shape .* too large for any array"):
        read_idx(path)
    with pytest.raises(IDXFormatError, match="too large"):
        decode_idx(data)
    # a zero beside sizes NumPy can represent is an empty array
    path.write_bytes(idx_header(0x08, [0, 2**32 - 1]))
    assert read_idx(path).shape == (0, 2**32 - 1)


def _bomb(path: Path, shape, chunks: int, chunk: int = MiB) -> Path:
    """A gzip IDX file whose payload is ``chunks`` MiB of zeros: members of ~1 KB each."""
    block = gzip.compress(b"\0" * chunk, compresslevel=9, mtime=0)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(idx_header(0x08, shape), mtime=0))
        for _ in range(chunks):
            fh.write(block)
    return path


def test_gzip_bomb_declaring_a_gibibyte_is_refused_from_its_header(tmp_path):
    path = _bomb(tmp_path / "bomb.gz", [1024, 1024, 1024], 1024)
    assert path.stat().st_size < 1.2 * MiB  # 1 MB on disk, 1 GiB inflated
    with peak_memory() as peak:
        with pytest.raises(IDXFormatError, match=r"bomb\.gz: .*1073741824 bytes, above the limit"):
            read_idx(path)
    assert peak[0] < MARGIN
    with peak_memory() as peak:  # the data set refuses it the same way (64 MiB limit)
        with pytest.raises(IDXFormatError, match="above the limit"):
            IDXDataset(tmp_path, "bomb.gz", "bomb.gz")
    assert peak[0] < MARGIN


def test_gzip_bomb_declaring_little_stops_after_what_it_declares(tmp_path):
    path = _bomb(tmp_path / "bomb.gz", [1000], 1024)  # declares 1000 bytes, inflates 1 GiB
    t0 = time.perf_counter()
    with peak_memory() as peak:
        with pytest.raises(IDXFormatError, match=r"extra bytes: .* found at least 1001"):
            read_idx(path)
    assert peak[0] < 3 * MiB  # one member's 1 MiB chunk at most
    assert time.perf_counter() - t0 < 5  # not a gibibyte inflated


def test_gzip_declaring_more_than_it_can_hold(tmp_path):
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip.compress(idx_header(0x0D, [1 << 26]) + b"\0" * 64))  # 256 MiB
    with peak_memory() as peak:
        with pytest.raises(IDXFormatError, match="more than a .*-byte gzip file can hold"):
            read_idx(path, max_bytes=None)
    assert peak[0] < MARGIN
    path.write_bytes(gzip.compress(idx_header(0x08, [10 * MiB]) + b"\1" * 100))
    with peak_memory() as peak:  # plausible size, short stream: memory follows the stream
        with pytest.raises(IDXFormatError, match="truncated"):
            read_idx(path, max_bytes=None)
    assert peak[0] < MARGIN


def test_raw_idx_size_is_checked_before_allocating(tmp_path):
    path = tmp_path / "big.idx"
    path.write_bytes(idx_header(0x0E, [1 << 28]) + b"\0" * 16)
    with peak_memory() as peak:
        with pytest.raises(IDXFormatError, match="truncated"):
            read_idx(path, max_bytes=None)
    assert peak[0] < MARGIN


def test_max_bytes_limit(tmp_path):
    path = numnet.data.write_idx(tmp_path / "a.idx.gz", np.zeros((10, 10), np.float32))
    assert read_idx(path, max_bytes=400).shape == (10, 10)
    with pytest.raises(IDXFormatError, match="above the limit max_bytes=399"):
        read_idx(path, max_bytes=399)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}, "dtype must be a string"),
        ({"dtype": "F32", "shape": [2**64], "data_offsets": [0, 4]}, "too large for any array"),
        ({"dtype": "F32", "shape": "abc", "data_offsets": [0, 4]}, "non-negative integers"),
        ({"dtype": "F32", "shape": [2**32, 2**32, 1], "data_offsets": [0, 0]}, "too large"),
        ({"dtype": "F32", "shape": [2**33, 2**31], "data_offsets": [0, 0]}, "too large"),
        ({"dtype": "U8", "shape": [0, 2**62, 4], "data_offsets": [0, 0]}, "too large"),
        ({"dtype": "F32", "shape": [1] * 65, "data_offsets": [0, 4]}, "65 dimensions"),
        ({"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}, "non-negative integers"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0]}, r"\[start, end\]"),
        ({"dtype": "F32", "shape": [1], "data_offsets": "0-4"}, r"\[start, end\]"),
        ({"dtype": "F32", "shape": [1]}, "no data_offsets"),
        ([1, 2], "not a map"),
        ({"dtype": {}, "shape": [1], "data_offsets": [0, 4]}, "dtype must be a string"),
    ],
)
def test_malformed_safetensors_entries(tmp_path, entry, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(raw_safetensors({"w": entry}, b"\0" * 4))
    for loader in (io.read_safetensors, io.load_state_dict, io.load, io.load_metadata):
        with pytest.raises(ModelFileError, match=match) as info:
            loader(path)
        assert "bad.safetensors" in str(info.value)
    with pytest.raises(CheckpointError, match=match):
        io.load_checkpoint(path)


@pytest.mark.parametrize("where", ["header", "config", "state", "user", "aliases"])
def test_json_nested_100000_levels(tmp_path, where):
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep.safetensors"
    if where == "header":
        path.write_bytes(raw_safetensors(None, text='{"a": ' + deep + "}"))
    else:
        meta = model_meta(linear_config(1, 1, False), kind="checkpoint")
        meta[where] = deep
        io.write_safetensors(path, {"0.weight": np.zeros((1, 1), np.float32)}, meta)
    loaders = {
        "header": [io.load, io.load_state_dict],
        "config": [io.load, io.load_metadata],
        "state": [io.load_checkpoint],
        "user": [io.load_metadata],
        "aliases": [io.load, io.load_state_dict],
    }[where]
    for loader in loaders:
        with pytest.raises(ModelFileError, match=r"deep\.safetensors: corrupt .*(JSON|nested)"):
            loader(path)
    # 101 levels are refused too (the walkers are recursive), 100 are read
    meta = model_meta(linear_config(1, 1, False), user="[" * 101 + "]" * 101)
    io.write_safetensors(path, {"weight": np.zeros((1, 1), np.float32)}, meta)
    with pytest.raises(ModelFileError, match="nested deeper than 100"):
        io.load_metadata(path)


def _write_model(path, config, tensors=None, **meta) -> Path:
    tensors = {"weight": np.zeros((1, 1), np.float32)} if tensors is None else tensors
    return io.write_safetensors(path, tensors, model_meta(config, **meta))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"class": 5, "args": [], "kwargs": {}}, "'class' must be a string"),
        ({"class": None}, "'class' must be a string"),
        ({"class": "numnet.nn.linear.Linear", "args": [1, 1], "kwargs": [1]}, "'kwargs' must"),
        ({"class": "numnet.nn.linear.Linear", "args": {"a": 1}}, "'args' must be a list"),
        ([1, 2], "not a numnet module config"),
        ("Linear", "not a numnet module config"),
        ({"class": "os.system", "args": ["echo hi"]}, "unknown module class"),
        ({"class": "numnet.nn.linear.Linear", "args": ["1", 1]}, "positive integer"),
        ({"class": "numnet.nn.linear.Linear", "args": [1, 1, 1, 1, 1]}, "do not fit"),
        ({"class": "numnet.nn.activation.Tanh", "args": [{"__dtype__": [1]}]}, "malformed dtype"),
        ({"class": "numnet.nn.activation.Tanh", "args": [{"__tuple__": 5}]}, "__tuple__"),
        ({"class": "numnet.nn.activation.Tanh", "args": [{"__dict__": [1]}]}, "__dict__"),
        ({"class": "numnet.nn.activation.Tanh", "args": [{"__what__": 1}]}, "malformed config"),
        (
            {"class": "numnet.nn.loss.CrossEntropyLoss",
             "args": [{"__array__": {"dtype": "float32", "shape": [2**40], "data": [1]}}]},
            "malformed array",
        ),
        ({"class": "numnet.nn.dropout.Dropout", "args": [7]}, "cannot rebuild.*Dropout|p"),
        ({"class": "numnet.nn.containers.Sequential", "args": [5]}, "expected a module"),
    ],
)  # fmt: skip
def test_malformed_architectures(tmp_path, config, match):
    path = _write_model(tmp_path / "arch.safetensors", config, tensors={})
    with pytest.raises(ModelFileError, match=match) as info:
        io.load(path)
    assert "arch.safetensors" in str(info.value)


@pytest.mark.parametrize("version", ["one", "", "1.0", " 1", "-1", "0", "1" * 5000, "١"])
def test_non_numeric_format_version(tmp_path, version):
    path = _write_model(
        tmp_path / "v.safetensors", linear_config(1, 1, False), format_version=version
    )
    for loader in (io.load, io.load_metadata):
        with pytest.raises(ModelFileError, match="corrupt format_version"):
            loader(path)
    io.write_safetensors(
        path, {}, {"format": "numnet", "format_version": version, "kind": "checkpoint",
                   "state": json.dumps({"__dict__": []})},
    )  # fmt: skip
    with pytest.raises(CheckpointError, match="corrupt format_version"):
        io.load_checkpoint(path)


@pytest.mark.parametrize("user", ["[1, 2]", "3", "null", "{", "nan"])
def test_metadata_user_must_be_an_object(tmp_path, user):
    path = _write_model(tmp_path / "u.safetensors", linear_config(1, 1, False), user=user)
    with pytest.raises(ModelFileError, match=r"u\.safetensors: corrupt 'user' metadata"):
        io.load_metadata(path)


def test_metadata_config_must_be_an_object(tmp_path):
    path = _write_model(tmp_path / "c.safetensors", [1])
    with pytest.raises(ModelFileError, match="'config' is not a JSON object"):
        io.load_metadata(path)


def test_pytorch_style_metadata_null_and_other_headers(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(raw_safetensors({"__metadata__": None}))
    assert io.load_state_dict(path) == {}
    for header in ({"__metadata__": {"a": 1}}, [], "x", 3):
        path.write_bytes(raw_safetensors(header))
        with pytest.raises(ModelFileError, match="corrupt safetensors"):
            io.load_state_dict(path)


@pytest.mark.parametrize(
    "structure",
    [
        [1, 2],
        {"__tensor__": "nope"},
        {"__dict__": [[1, 2, 3]]},
        {"__dict__": [[[1], 2]]},
        {"__dict__": 5},
        {"__tuple__": 5},
        {"a": 1, "b": 2},
        {"__tensor__": ["x"]},
    ],
)
def test_malformed_checkpoint_state(tmp_path, structure):
    path = tmp_path / "c.safetensors"
    meta = {"format": "numnet", "format_version": "1", "kind": "checkpoint",
            "state": json.dumps(structure)}  # fmt: skip
    io.write_safetensors(path, {}, meta)
    with pytest.raises(CheckpointError, match=r"c\.safetensors: corrupt checkpoint"):
        io.load_checkpoint(path)
    del meta["state"]
    io.write_safetensors(path, {}, meta)
    with pytest.raises(CheckpointError, match="no 'state'"):
        io.load_checkpoint(path)


def _fit(model, checkpoint, epochs=1, **kw):
    X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 16)
    opt = numnet.optim.SGD(model.parameters(), lr=0.1)
    return numnet.train.fit(
        model, nn.functional.cross_entropy, opt, (X, y), epochs=epochs, batch_size=8,
        verbose=0, checkpoint=checkpoint, seed=0, **kw,
    )  # fmt: skip


def test_fit_checkpoint_of_the_wrong_shape(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    _fit(nn.Sequential(nn.Linear(4, 3, generator=0)), ckpt)
    wrong = nn.Sequential(nn.Linear(4, 5, generator=0), nn.Linear(5, 3, generator=0))
    before = {k: v.copy() for k, v in wrong.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"run\.safetensors: the checkpoint does not fit"):
        _fit(wrong, ckpt, epochs=2)
    for k, v in wrong.state_dict().items():  # nothing was copied into the model
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize(
    "state",
    [
        {"epoch": 1},
        {"epoch": "1", "model": {}, "optimizer": {}, "callbacks": [], "history": {},
         "generators": []},
        {"epoch": 1, "model": [1], "optimizer": {}, "callbacks": [], "history": {},
         "generators": []},
    ],
)  # fmt: skip
def test_fit_checkpoint_with_malformed_state(tmp_path, state):
    ckpt = io.save_checkpoint(state, tmp_path / "run.safetensors")
    with pytest.raises(CheckpointError, match="run.safetensors"):
        _fit(nn.Sequential(nn.Linear(4, 3, generator=0)), ckpt, epochs=2)


def test_fit_checkpoint_that_is_garbage(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    ckpt.write_bytes(b"\x80\x04garbage" * 10)
    with pytest.raises(CheckpointError, match="never unpickles"):
        _fit(nn.Sequential(nn.Linear(4, 3, generator=0)), ckpt)
    io.save(nn.Linear(4, 3), ckpt)  # a model file, not a checkpoint
    with pytest.raises(CheckpointError, match="not a numnet checkpoint"):
        _fit(nn.Sequential(nn.Linear(4, 3, generator=0)), ckpt)


# -- 2. memory bounded by what the file justifies ------------------------------------------
def test_aliasing_entries_are_refused_before_copying(tmp_path):
    n = 250_000  # one 1 MB float32 range, 2,500 entries over it
    header = {
        f"t{i}": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]} for i in range(2500)
    }
    path = tmp_path / "alias.safetensors"
    path.write_bytes(raw_safetensors(header, b"\0" * (4 * n)))
    assert path.stat().st_size < 1.3 * MiB
    with peak_memory() as peak:
        with pytest.raises(ModelFileError, match="overlapping or missing data"):
            io.load_state_dict(path)
    assert peak[0] < 4 * path.stat().st_size + MARGIN


def test_large_architecture_with_tiny_weights_is_refused_before_building(tmp_path):
    path = _write_model(
        tmp_path / "tiny.safetensors",
        {"class": "numnet.nn.containers.Sequential",
         "args": [{"__module__": linear_config(12000, 12000)}], "kwargs": {}},
        tensors={"0.weight": np.zeros((2, 2), np.float32), "0.bias": np.zeros(2, np.float32)},
    )  # fmt: skip
    assert path.stat().st_size < 600
    t0 = time.perf_counter()
    with peak_memory() as peak:
        with pytest.raises(
            ModelFileError, match=r"'0.weight': the architecture says shape \(12000, 12000\)"
        ):
            io.load(path)
    assert peak[0] < MARGIN and time.perf_counter() - t0 < 1


def test_aliases_metadata_cannot_multiply_one_tensor(tmp_path):
    w = np.zeros((256, 256), np.float32)
    layers = [{"__module__": linear_config(256, 256, False)} for _ in range(200)]
    config = {"class": "numnet.nn.containers.Sequential", "args": layers, "kwargs": {}}
    aliases = {f"{i}.weight": "0.weight" for i in range(1, 200)}
    path = _write_model(tmp_path / "a.safetensors", config, {"0.weight": w},
                        aliases=json.dumps(aliases))  # fmt: skip
    with peak_memory() as peak:
        with pytest.raises(ModelFileError, match="more than 16 times is refused"):
            io.load(path)
    assert peak[0] < 4 * path.stat().st_size + MARGIN
    # a layer used twice (tied weights) is fine
    lin = nn.Linear(3, 3, generator=0)
    back = io.load(io.save(nn.Sequential(lin, nn.Tanh(), lin), tmp_path / "tied.safetensors"))
    np.testing.assert_array_equal(back[0].weight.data, back[2].weight.data)


def test_valid_files_load_within_a_few_times_their_size(tmp_path):
    m = nn.Sequential(nn.Linear(512, 512, generator=0), nn.ReLU(), nn.Linear(512, 10, generator=1))
    path = io.save(m, tmp_path / "m.safetensors")
    size = path.stat().st_size
    with peak_memory() as peak:
        io.load(path)
    assert peak[0] < 4 * size + MARGIN
    images = numnet.data.write_idx(tmp_path / "i.gz", np.ones((2000, 28, 28), np.uint8))
    with peak_memory() as peak:
        read_idx(images)
    assert peak[0] < 3 * 2000 * 784 + MARGIN


def test_classes_outside_numnet_are_built_then_checked(tmp_path):
    class Mine(nn.Module):
        def __init__(self, n):
            self.lin = nn.Linear(n, 1)

        def forward(self, x):
            return self.lin(x)

    path = io.save(Mine(3), tmp_path / "mine.safetensors")
    tensors, meta = io.read_safetensors(path)
    tensors["lin.weight"] = np.zeros((1, 4), np.float32)
    io.write_safetensors(path, tensors, meta)
    with pytest.raises(ModelFileError, match="do not match the architecture"):
        io.load(path, classes={"Mine": Mine})


# -- 3. empty data sets ----------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_with_no_images(tmp_path, compress):
    sfx = ".gz" if compress else ""
    numnet.data.write_idx(
        tmp_path / f"train-images-idx3-ubyte{sfx}", np.zeros((0, 28, 28), np.uint8)
    )
    numnet.data.write_idx(tmp_path / f"train-labels-idx1-ubyte{sfx}", np.zeros(0, np.uint8))
    ds = numnet.data.MNIST(tmp_path, verify=False)
    assert len(ds) == 0 and ds.data.shape == (0, 28, 28) and ds.targets.shape == (0,)
    X, y = ds.arrays()
    assert X.shape == (0, 784) and X.dtype == np.float32 and y.shape == (0,)
    X4, _ = ds.arrays(flatten=False)
    assert X4.shape == (0, 1, 28, 28)
    generic = IDXDataset(tmp_path, f"train-images-idx3-ubyte{sfx}", f"train-labels-idx1-ubyte{sfx}")
    assert generic.arrays()[0].shape == (0, 784)


# -- 4. nothing left behind --------------------------------------------------------------------
_WRITER = """
import sys
import numpy as np
from numnet import io
path = sys.argv[1]
big = {"w": np.ones((4096, 4096), np.float32)}  # 64 MiB per save
while True:
    io.save_state_dict(big, path)
"""


def test_kill_9_during_save_then_next_save_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "big.safetensors"
    env = {**os.environ, "PYTHONPATH": str(Path(numnet.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".big.safetensors.*.part")):
            assert time.monotonic() < deadline and proc.poll() is None, "writer never started"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    left = list(tmp_path.glob(".big.safetensors.*.part"))
    assert left and all(f".{proc.pid}." in p.name for p in left)  # what kill -9 leaves
    io.save_state_dict({"w": np.zeros(3, np.float32)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.safetensors"]
    np.testing.assert_array_equal(io.load_state_dict(path)["w"], np.zeros(3))


def test_stale_temporaries_by_pid_and_age(tmp_path):
    target = tmp_path / "x.bin"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = os.getppid()
    files = {
        "dead": tmp_path / f".x.bin.{dead.pid}.abc123.part",
        "live": tmp_path / f".x.bin.{live}.abc123.part",
        "mine": tmp_path / f".x.bin.{os.getpid()}.abc123.part",
        "old-style fresh": tmp_path / ".x.bin.k2j4h5g6.part",
        "old-style stale": tmp_path / ".x.bin.a1b2c3d4.part",
        "live but stale": tmp_path / f".x.bin.{live}.zzz.part",
        "other target": tmp_path / f".y.bin.{dead.pid}.abc123.part",
        "other target prefix": tmp_path / f".x.bin.1.{dead.pid}.abc.part",
        "not ours": tmp_path / "x.bin.part",
    }
    for p in files.values():
        p.write_bytes(b"partial")
    old = time.time() - 2 * 3600
    for key in ("old-style stale", "live but stale"):
        os.utime(files[key], (old, old))
    removed = clean_stale_temporaries(target)
    gone = {k for k, p in files.items() if not p.exists()}
    assert gone == {"dead", "old-style stale", "live but stale"}
    assert sorted(removed) == sorted(files[k] for k in gone)
    atomic_write_bytes(target, b"done")  # the write cleans the same way
    assert target.read_bytes() == b"done"


def test_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    import numnet._files as files

    calls = []
    real = files.fsync_directory
    monkeypatch.setattr(files, "fsync_directory", lambda d: (calls.append(Path(d)), real(d)))
    atomic_write_bytes(tmp_path / "f", b"1")
    assert calls == [tmp_path] and (tmp_path / "f").read_bytes() == b"1"


# -- 5. non-finite weights load as they are --------------------------------------------------
def test_non_finite_weights_load_like_pytorch(tmp_path):
    m = nn.Linear(2, 2, generator=0)
    m.weight.data[0, 0] = np.nan
    m.bias.data[1] = np.inf
    back = io.load(io.save(m, tmp_path / "nan.safetensors"))
    assert np.isnan(back.weight.data[0, 0]) and np.isinf(back.bias.data[1])
    sd = io.load_state_dict(tmp_path / "nan.safetensors")
    assert np.isnan(sd["weight"][0, 0])


# -- property tests (also run at length by benchmarks/fuzz_loaders.py) -----------------------
_DIMS = st.one_of(st.integers(0, 4), st.sampled_from([0, 1, 28, 255, 2**16, 2**31, 2**32 - 1]))


@st.composite
def idx_files(draw) -> bytes:
    """IDX files, mostly nearly valid: header fields, payload length and gzip varied."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A, 0xFF]))
    ndim = draw(st.one_of(st.integers(0, 4), st.sampled_from([64, 65, 255])))
    if ndim > 8:
        dims = [draw(st.sampled_from([0, 1, 2**32 - 1]))] * ndim
    else:
        dims = draw(st.lists(_DIMS, min_size=ndim, max_size=ndim))
    magic = draw(st.sampled_from([b"\0\0", b"\0\0", b"\0\1", b"\x1f\x8b"]))
    head = magic + bytes([code, ndim]) + struct.pack(f">{ndim}I", *dims)
    head = head[: draw(st.integers(0, len(head)))] if draw(st.booleans()) else head
    itemsize = {0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
    want = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
    n = draw(st.one_of(st.just(min(want, 4096)), st.integers(0, 4096)))
    fill = draw(st.sampled_from([b"\0", b"\x5a", None]))
    payload = draw(st.binary(min_size=n, max_size=n)) if fill is None else fill * n
    data = head + payload + draw(st.sampled_from([b"", b"", b"\0", b"junk"]))
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0)
        cut = draw(st.sampled_from([None, None, -1, -8, 12]))
        data = data if cut is None else data[:cut]
        data += draw(st.sampled_from([b"", b"", b"\0\0", b"\x1f\x8bxx", b"trailing"]))
    return data


def check_idx(data: bytes, directory: Path) -> str:
    """read_idx and decode_idx raise only IDXFormatError; memory stays bounded."""
    path = directory / "case.idx"
    path.write_bytes(data)
    content = gzip.decompress(data) if data[:2] == b"\x1f\x8b" and _gunzips(data) else data
    outcome = "ok"
    with peak_memory() as peak:
        try:
            out = read_idx(path)
        except IDXFormatError as exc:
            assert str(path) in str(exc)
            outcome = "IDXFormatError"
        else:
            assert out.dtype.isnative and out.flags.writeable
    assert peak[0] <= 4 * (len(data) + len(content)) + MARGIN, (peak[0], len(data))
    if data[:2] != b"\x1f\x8b":
        try:
            out2 = decode_idx(data)
        except IDXFormatError:
            assert outcome == "IDXFormatError"
        else:
            assert outcome == "ok" and encode_idx(out2) == data
    return outcome


def _gunzips(data: bytes) -> bool:
    try:
        gzip.decompress(data)
    except Exception:  # noqa: BLE001 - any failure: treat as not gzip for the ceiling
        return False
    return True


_NAMES = st.sampled_from(["w", "b", "0.weight", "0.bias", "t0:x", "__metadata__", ""])
_JSONISH = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=4)
    ),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    max_leaves=8,
)
_SHAPE = st.one_of(
    st.lists(st.integers(0, 5), max_size=3),
    st.lists(st.sampled_from([0, 1, 2**31, 2**32, 2**33, 2**63, 2**64, -1]), max_size=4),
    _JSONISH,
)
_DTYPE = st.one_of(
    st.sampled_from(["F32", "F64", "F16", "I64", "U8", "BOOL", "BF16", "f32"]), _JSONISH
)


@st.composite
def safetensors_files(draw) -> bytes:
    """safetensors files: well-formed tilings perturbed in dtype, shape, offsets, header."""
    header: dict = {}
    position = 0
    for name in draw(st.lists(_NAMES, max_size=4, unique=True)):
        dtype = draw(_DTYPE)
        shape = draw(_SHAPE)
        size = (
            {"F64": 8, "I64": 8, "F32": 4, "F16": 2}.get(dtype, 1) if isinstance(dtype, str) else 1
        )
        ints = isinstance(shape, list) and all(type(v) is int for v in shape)
        nbytes = math.prod(shape) * size if ints else 4
        nbytes = nbytes if 0 <= nbytes <= 4096 else 4
        start = draw(st.one_of(st.just(position), st.integers(0, 64)))
        end = draw(st.one_of(st.just(start + nbytes), st.integers(0, 4200)))
        offsets = draw(st.one_of(st.just([start, end]), _JSONISH))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
        position = max(position, end if isinstance(end, int) else 0)
    if draw(st.booleans()):
        header["__metadata__"] = draw(
            st.one_of(
                st.dictionaries(
                    st.sampled_from(["format", "format_version", "config", "user", "kind",
                                     "state", "aliases"]),
                    st.one_of(st.sampled_from(["numnet", "1", "2", "x", "checkpoint", "{}", "[]",
                                               '{"__dict__": []}', '{"0.w": "w"}']),
                              _JSONISH.map(json.dumps)),
                ),
                _JSONISH,
            )
        )  # fmt: skip
    payload = draw(st.binary(min_size=min(position, 4200), max_size=min(position, 4200) + 2))
    blob = raw_safetensors(header, payload)
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(blob)))
        blob = blob[:cut]
    return blob


_CLASSES = st.sampled_from(
    ["numnet.nn.linear.Linear", "numnet.nn.conv.Conv2d", "numnet.nn.containers.Sequential",
     "numnet.nn.activation.Tanh", "numnet.nn.loss.CrossEntropyLoss", "numnet.nn.dropout.Dropout",
     "numnet.autoencoder.linear.LinearAutoencoder", "numnet.autoencoder.models.Autoencoder",
     "numnet.deep_linear.DeepLinearNetwork", "numnet.nn.residual.Residual",
     "numnet.nn.pooling.MaxPool2d", "builtins.eval", 7, None]
)  # fmt: skip
_ARG = st.one_of(
    st.integers(-2, 4),
    st.sampled_from([12000, 2**31, 2**63, 10**30, "relu", "float64", True]),
    _JSONISH,
    st.builds(lambda n: {"__dtype__": n}, st.sampled_from(["float32", "object", "V8", "x"])),
    st.builds(lambda t: {"__tuple__": t}, st.lists(st.integers(0, 3), max_size=3)),
)


@st.composite
def architectures(draw, depth: int = 0):
    cfg = {"class": draw(_CLASSES)}
    children = st.deferred(lambda: architectures(depth + 1)) if depth < 2 else st.nothing()
    arg = st.one_of(_ARG, children.map(lambda c: {"__module__": c})) if depth < 2 else _ARG
    if draw(st.integers(0, 9)):
        cfg["args"] = draw(st.lists(arg, max_size=4))
    else:
        cfg["args"] = draw(_JSONISH)
    if draw(st.integers(0, 9)):
        cfg["kwargs"] = draw(st.dictionaries(st.sampled_from(
            ["bias", "tied", "hidden", "groups", "dtype", "generator", "padding", "weight"]), arg,
            max_size=2))  # fmt: skip
    else:
        cfg["kwargs"] = draw(_JSONISH)
    return cfg


@st.composite
def model_files(draw) -> bytes:
    """numnet model files with a generated architecture and a few small weights."""
    tensors = {}
    for name in draw(
        st.lists(
            st.sampled_from(["weight", "bias", "0.weight", "0.bias", "encoder.weight"]),
            max_size=3,
            unique=True,
        )
    ):
        shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=2)))
        tensors[name] = np.zeros(shape, draw(st.sampled_from([np.float32, np.float64])))
    from safetensors.numpy import save

    config = draw(architectures()) if draw(st.integers(0, 5)) else draw(_JSONISH)
    meta = {
        "format": "numnet",
        "format_version": draw(st.sampled_from(["1", "1", "one"])),
        "config": json.dumps(config),
        "user": draw(st.sampled_from(["{}", "[1]", '{"a": 1}'])),
    }
    return save(tensors, metadata=meta)  # fmt: skip


_MODEL_LOADERS = (io.read_safetensors, io.load_state_dict, io.load, io.load_metadata)


def check_model_file(blob: bytes, directory: Path) -> str:
    """Every numnet.io loader raises only its documented error; memory stays bounded."""
    path = directory / "case.safetensors"
    path.write_bytes(blob)
    outcomes = []
    for loader in (*_MODEL_LOADERS, io.load_checkpoint):
        with peak_memory() as peak:
            try:
                loader(path)
                outcomes.append("ok")
            except ModelFileError as exc:
                if loader is io.load_checkpoint:
                    assert isinstance(exc, CheckpointError)
                assert str(path) in str(exc)
                outcomes.append("error")
        assert peak[0] <= 4 * len(blob) + MARGIN, (loader.__name__, peak[0], len(blob))
    return f"io.load {outcomes[2]}"  # (the other loaders accept any valid container)


_PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@_PROPERTY
@given(idx_files())
def test_property_idx_files(data):
    with tempfile.TemporaryDirectory() as d:
        check_idx(data, Path(d))


@_PROPERTY
@given(safetensors_files())
def test_property_safetensors_files(blob):
    with tempfile.TemporaryDirectory() as d:
        check_model_file(blob, Path(d))


@_PROPERTY
@given(model_files())
def test_property_model_files(blob):
    with tempfile.TemporaryDirectory() as d:
        check_model_file(blob, Path(d))


def test_shape_rules_agree_with_the_built_modules():
    from numnet.autoencoder import LinearAutoencoder
    from numnet.autoencoder.models import Autoencoder
    from numnet.deep_linear import DeepLinearNetwork
    from numnet.nn.config import parameter_shapes
    from numnet.nn.residual import Residual

    for m in [
        numnet.models.mlp(3, [5, 5], 2, activation="sigmoid", dropout=0.5, generator=2),
        LinearAutoencoder(6, 2, tied=True), LinearAutoencoder(6, 2),
        Autoencoder(10, 3, (6, 4)), Autoencoder(10, 3, (6,), code_activation="relu",
                                                output_activation=None),
        DeepLinearNetwork([4, 3, 2]),
        nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(16, 3, bias=False)),
        nn.Sequential(nn.Conv1d(2, 4, (3,), groups=2), nn.Tanh()),
        Residual(nn.Sequential(nn.Linear(3, 3)), nn.Linear(3, 3)),
        nn.ModuleList([nn.Linear(2, 2), nn.Sigmoid()]),
    ]:  # fmt: skip
        real = {k: tuple(v.shape) for k, v in m.state_dict().items()}
        assert parameter_shapes(to_config(m)) == real, type(m).__name__


def test_every_numnet_module_class_has_a_shape_rule():
    """A new numnet layer must say which parameters its arguments declare (SHAPE_RULES in
    numnet/nn/config.py), so that io.load can check a file before building it."""
    import numnet.autoencoder  # noqa: F401 - registers the classes
    import numnet.deep_linear  # noqa: F401
    from numnet.nn.config import SHAPE_RULES
    from numnet.nn.module import MODULE_CLASSES

    public = {
        n for n, c in MODULE_CLASSES.items()
        if n.startswith("numnet.") and not c.__name__.startswith("_")
        and "TiedDecoder" not in n  # built by LinearAutoencoder, never from a config
    }  # fmt: skip
    assert public - set(SHAPE_RULES) == set()
