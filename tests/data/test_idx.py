"""IDX reader/writer: round trips, exact bytes, and rejection of malformed files."""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet.data import IDXFormatError, decode_idx, encode_idx, read_idx, write_idx

CODES = {
    np.uint8: 0x08,
    np.int8: 0x09,
    np.int16: 0x0B,
    np.int32: 0x0C,
    np.float32: 0x0D,
    np.float64: 0x0E,
}


def _sample(dtype, shape, rng):
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2), (0, 28, 28)])
def test_round_trip_every_dtype(tmp_path, dtype, compress, shape):
    rng = np.random.default_rng(0)
    array = _sample(dtype, shape, rng)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") is compress
    header = gzip.decompress(raw)[:4] if compress else raw[:4]
    assert header == bytes([0, 0, CODES[dtype], len(shape)])
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == shape
    assert out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_exact_bytes_big_endian():
    # header 00 00 | 0B (int16) | 02 dims | 00000001 00000002 | 0x0102, 0xFFFE big-endian
    data = encode_idx(np.array([[258, -2]], dtype=np.int16))
    assert data == bytes.fromhex("0000 0B02 00000001 00000002 0102 FFFE")
    # little-endian input is stored big-endian too
    little = np.array([1.5], dtype="<f4")
    assert encode_idx(little)[-4:] == struct.pack(">f", 1.5)


def test_reads_big_endian_and_returns_native():
    payload = bytes.fromhex("0000 0C01 00000002 00000001 FFFFFFFF")
    out = decode_idx(payload)
    assert out.dtype == np.dtype(np.int32) and out.dtype.isnative
    assert out.tolist() == [1, -1]


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    gz_no_suffix = write_idx(tmp_path / "images.idx", array, compress=True)
    raw_gz_suffix = write_idx(tmp_path / "images.gz", array, compress=False)
    assert gz_no_suffix.read_bytes()[:2] == b"\x1f\x8b"
    assert raw_gz_suffix.read_bytes()[:2] == b"\x00\x00"
    np.testing.assert_array_equal(read_idx(gz_no_suffix), array)
    np.testing.assert_array_equal(read_idx(raw_gz_suffix), array)


def test_compress_defaults_to_suffix_and_output_is_deterministic(tmp_path):
    array = np.arange(6, dtype=np.float64)
    a = write_idx(tmp_path / "a.idx.gz", array)
    b = write_idx(tmp_path / "b.idx.gz", array)
    assert a.read_bytes()[:2] == b"\x1f\x8b"
    assert a.read_bytes() == b.read_bytes()  # gzip mtime fixed at 0
    assert write_idx(tmp_path / "c.idx", array).read_bytes() == encode_idx(array)


def test_overwrite_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "x.idx"
    write_idx(path, np.zeros(3, np.uint8))
    write_idx(path, np.ones(5, np.uint8))
    np.testing.assert_array_equal(read_idx(path), np.ones(5, np.uint8))
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.idx"]
    assert (path.stat().st_mode & 0o777) == 0o644


GOOD = encode_idx(np.arange(6, dtype=np.int16).reshape(2, 3))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD[:-1], "truncated: shape (2, 3) of int16 needs 12 payload bytes, found 11"),
        (GOOD + b"\x00", "extra bytes: shape (2, 3) of int16 needs 12 payload bytes, found 13"),
        (GOOD[:7], "truncated header: 2 dimensions need 12 bytes, file has 7"),
        (b"\x00\x01" + GOOD[2:], "bad magic bytes 00 01"),
        (b"PK\x03\x04" + GOOD[4:], "bad magic bytes 50 4b"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX dtype code 0x0A"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"\x00\x00", "2 bytes is too short"),
        (b"", "0 bytes is too short"),
    ],
    ids=[
        "truncated", "extra", "short-header", "magic", "zip-magic", "dtype", "ndim0", "tiny",
        "empty",
    ],
)  # fmt: skip
def test_malformed_files_are_rejected(tmp_path, data, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(IDXFormatError, match=re.escape(message)) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_and_corrupt_gzip_are_rejected(tmp_path):
    compressed = gzip.compress(GOOD)
    path = tmp_path / "bad.gz"
    path.write_bytes(compressed[:-6])
    with pytest.raises(IDXFormatError, match=r"bad\.gz: corrupt or truncated gzip"):
        read_idx(path)
    corrupt = bytearray(compressed)
    corrupt[-8] ^= 0xFF  # CRC32 of the member
    path.write_bytes(bytes(corrupt))
    with pytest.raises(IDXFormatError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_gzip_of_a_truncated_idx_is_rejected(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(GOOD[:-2]))
    with pytest.raises(IDXFormatError, match="truncated"):
        read_idx(path)


def test_huge_declared_shape_fails_cleanly():
    header = struct.pack(">BBBB3I", 0, 0, 0x0E, 3, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    with pytest.raises(IDXFormatError, match="truncated"):
        decode_idx(header + b"\x00" * 8)


@pytest.mark.parametrize("array", [np.zeros(2, np.int64), np.zeros(2, bool), np.zeros(2, "f2")])
def test_unsupported_dtypes_raise_type_error(tmp_path, array):
    with pytest.raises(TypeError, match="IDX cannot store dtype"):
        write_idx(tmp_path / "x.idx", array)
    assert list(tmp_path.iterdir()) == []


def test_zero_dimensional_array_is_rejected():
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        encode_idx(np.float32(1.0))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_an_array_or_idx_format_error(data):
    try:
        out = decode_idx(data)
    except IDXFormatError:
        return
    assert encode_idx(out) == data  # anything accepted is exactly a valid IDX buffer
