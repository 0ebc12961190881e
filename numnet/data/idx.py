"""IDX files, the container format of MNIST: read and write them with NumPy.

Layout (all integers big-endian)::

    offset 0   2 bytes   0x00 0x00                  magic
    offset 2   1 byte    dtype code                 see DTYPE_CODES
    offset 3   1 byte    ndim
    offset 4   4*ndim    uint32 dimension sizes     d_0, ..., d_{ndim-1}
    then       d_0 * ... * d_{ndim-1} items, big-endian, C (row-major) order

A file may be gzip-compressed as a whole; :func:`read_idx` detects that from the gzip
magic bytes ``1f 8b`` rather than from the file name.

References
----------
Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten digits",
section "File formats for the MNIST database".
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from numnet._files import GZIP_MAGIC, atomic_writer

__all__ = [
    "DTYPE_CODES",
    "IDXFormatError",
    "decode_idx",
    "encode_idx",
    "read_idx",
    "read_idx_bytes",
    "write_idx",
]

#: IDX dtype code -> the big-endian NumPy dtype stored in the file.
DTYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in DTYPE_CODES.items()}
_SUPPORTED = "uint8, int8, int16, int32, float32, float64"
_MAX_DIM = 2**32 - 1


class IDXFormatError(ValueError):
    """An IDX file (or buffer) is malformed: bad magic, unknown dtype, wrong size."""


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The IDX bytes stored in ``path``, decompressed if the file is gzip.

    Raises
    ------
    IDXFormatError
        If the file starts like gzip but its stream is truncated or corrupt.
    """
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IDXFormatError(
            f"{os.fspath(path)}: corrupt or truncated gzip stream ({exc})"
        ) from exc


def decode_idx(buffer: bytes | bytearray | memoryview, *, source: str = "<buffer>") -> np.ndarray:
    """Parse uncompressed IDX bytes into a native-endian array.

    Parameters
    ----------
    buffer : bytes-like
        The whole IDX content: header followed by the payload.
    source : str
        Name used in error messages (normally the file path).

    Returns
    -------
    numpy.ndarray
        A new, writable, native-endian array of shape ``(d_0, ..., d_{ndim-1})``.

    Raises
    ------
    IDXFormatError
        If the magic bytes are not ``00 00``, the dtype code is unknown, ``ndim`` is 0,
        the header is cut short, or the payload is shorter or longer than the header's
        shape requires.
    """
    buf = memoryview(buffer).cast("B")
    size = buf.nbytes
    if size < 4:
        raise IDXFormatError(f"{source}: {size} bytes is too short for an IDX header (needs 4)")
    if buf[0] != 0 or buf[1] != 0:
        raise IDXFormatError(
            f"{source}: bad magic bytes {bytes(buf[:2]).hex(' ')} (an IDX file starts with 00 00)"
        )
    code, ndim = buf[2], buf[3]
    if code not in DTYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPE_CODES)
        raise IDXFormatError(f"{source}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXFormatError(f"{source}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if size < header:
        raise IDXFormatError(
            f"{source}: truncated header: {ndim} dimensions need {header} bytes, file has {size}"
        )
    shape = struct.unpack(f">{ndim}I", buf[4:header])
    dtype = DTYPE_CODES[code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    payload = size - header
    if payload != expected:
        what = "truncated" if payload < expected else "extra bytes"
        raise IDXFormatError(
            f"{source}: {what}: shape {shape} of {dtype.newbyteorder('=').name} needs "
            f"{expected} payload bytes, found {payload}"
        )
    data = np.frombuffer(buf, dtype=dtype, count=count, offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian array.

    Parameters
    ----------
    path : path-like
        The file. Compression is detected from its first bytes, not its name.

    Returns
    -------
    numpy.ndarray
        Array with the file's shape and dtype (uint8, int8, int16, int32, float32 or
        float64), native byte order, writable.

    Raises
    ------
    IDXFormatError
        If the file is not a well-formed IDX file (see :func:`decode_idx`); the message
        names the file.
    FileNotFoundError
        If ``path`` does not exist.
    """
    return decode_idx(read_idx_bytes(path), source=os.fspath(path))


def _idx_header(array: np.ndarray) -> bytes:
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None or array.dtype.kind == "b":
        raise TypeError(f"IDX cannot store dtype {array.dtype}; supported: {_SUPPORTED}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores arrays of 1 to 255 dimensions, got ndim={array.ndim}")
    if any(d > _MAX_DIM for d in array.shape):
        raise ValueError(f"IDX dimension sizes must fit in uint32, got shape {array.shape}")
    return struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes (header and big-endian payload) of ``array``.

    Raises
    ------
    TypeError
        If the dtype has no IDX code (e.g. int64, float16, bool).
    ValueError
        If ``ndim`` is 0 or above 255, or a dimension does not fit in uint32.
    """
    array = np.asarray(array)
    header = _idx_header(array)
    payload = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).tobytes()
    return header + payload


def write_idx(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    compress: bool | None = None,
    compresslevel: int = 6,
) -> Path:
    """Write ``array`` to an IDX file atomically.

    Parameters
    ----------
    path : path-like
        Destination; parent directories are created.
    array : array_like
        uint8, int8, int16, int32, float32 or float64 data with 1 to 255 dimensions.
    compress : bool or None
        Gzip the file. ``None`` (default) compresses when the name ends in ``.gz``.
    compresslevel : int
        Gzip level, 1 (fast) to 9 (small).

    Returns
    -------
    pathlib.Path
        The written path.

    Notes
    -----
    The bytes go to a temporary file in the same directory, which replaces ``path``
    only when complete, so an interrupted write never leaves a partial file. The gzip
    header's timestamp is 0, so equal arrays give byte-identical files.
    """
    path = Path(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.name.endswith(".gz")
    with atomic_writer(path) as fh:
        if compress:
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=fh, compresslevel=compresslevel, mtime=0
            ) as gz:
                gz.write(data)
        else:
            fh.write(data)
    return path
