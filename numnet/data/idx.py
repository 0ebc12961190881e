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
    "DEFAULT_MAX_BYTES",
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


#: Default ceiling on the decoded array of :func:`read_idx` (bytes): 512 MiB. MNIST's
#: largest file decodes to 47 MB; pass ``max_bytes=None`` (or a larger number) for more.
DEFAULT_MAX_BYTES = 1 << 29
#: NumPy's limit on the number of dimensions.
MAX_NDIM = 64
#: Deflate cannot expand data more than about 1032 times; a gzip file that declares
#: more than this many payload bytes per compressed byte (plus a margin) is refused.
_GZIP_MAX_RATIO = 1100
_INTP_MAX = int(np.iinfo(np.intp).max)
_CHUNK = 1 << 20


class IDXFormatError(ValueError):
    """An IDX file (or buffer) is malformed: bad magic, unknown dtype, wrong size.

    Also raised when a file declares more data than the caller's ``max_bytes`` allows.
    A ``ValueError``, as before, so existing ``except ValueError`` clauses catch it.
    """


def _parse_header(head: bytes, source: str) -> tuple[np.dtype, int]:
    """dtype and ndim from the first 4 bytes (which the caller has checked exist)."""
    if head[0] != 0 or head[1] != 0:
        raise IDXFormatError(
            f"{source}: bad magic bytes {bytes(head[:2]).hex(' ')} (an IDX file starts with 00 00)"
        )
    code, ndim = head[2], head[3]
    if code not in DTYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPE_CODES)
        raise IDXFormatError(f"{source}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXFormatError(f"{source}: IDX header declares 0 dimensions")
    if ndim > MAX_NDIM:
        raise IDXFormatError(
            f"{source}: IDX header declares {ndim} dimensions; NumPy arrays have at most "
            f"{MAX_NDIM}"
        )
    return DTYPE_CODES[code], ndim


def _payload_size(shape: tuple[int, ...], dtype: np.dtype, source: str) -> int:
    """Bytes the payload of ``shape`` needs; refuses shapes NumPy cannot represent."""
    nonzero = math.prod(d for d in shape if d)
    if nonzero * dtype.itemsize > _INTP_MAX:  # NumPy checks this even when a size is 0
        raise IDXFormatError(
            f"{source}: shape {shape} of {dtype.newbyteorder('=').name} is too large for "
            "any array (its non-zero sizes multiply past 2**63 bytes)"
        )
    return math.prod(shape) * dtype.itemsize


def _check_limit(expected: int, shape, dtype, max_bytes: int | None, source: str) -> None:
    if max_bytes is not None and expected > max_bytes:
        raise IDXFormatError(
            f"{source}: shape {shape} of {dtype.newbyteorder('=').name} declares "
            f"{expected} bytes, above the limit max_bytes={max_bytes} (pass a larger "
            "max_bytes, or None, if the file is trusted)"
        )


def _mismatch(
    source: str, shape, dtype: np.dtype, expected: int, payload: int, at_least: bool = False
) -> IDXFormatError:
    what = "truncated" if payload < expected else "extra bytes"
    found = f"at least {payload}" if at_least else f"{payload}"
    return IDXFormatError(
        f"{source}: {what}: shape {shape} of {dtype.newbyteorder('=').name} needs "
        f"{expected} payload bytes, found {found}"
    )


def _to_native(data: np.ndarray, dtype: np.dtype, shape) -> np.ndarray:
    """Big-endian ``data`` (writable, owned) as a native-endian array of ``shape``."""
    if not dtype.isnative:
        data.byteswap(inplace=True)
        data = data.view(dtype.newbyteorder("="))
    return data.reshape(shape)


def _read_exact(fh, n: int, into: bytearray | None = None) -> bytearray:
    """Up to ``n`` bytes from ``fh`` in chunks: memory grows with what the stream gives."""
    out = bytearray() if into is None else into
    while n > 0:
        chunk = fh.read(min(n, _CHUNK))
        if not chunk:
            break
        out += chunk
        n -= len(chunk)
    return out


def _open_gzip_errors(source: str, exc: Exception) -> IDXFormatError:
    return IDXFormatError(f"{source}: corrupt or truncated gzip stream ({exc})")


def _stream_idx(path, max_bytes: int | None, digest=None) -> np.ndarray:
    """Read the IDX file at ``path`` (raw or gzip), header first, memory bounded.

    The header is parsed before the payload is read; the declared payload size is
    checked against ``max_bytes``, against the file size (raw) or what a gzip stream
    of this size can hold, and then against what the stream actually yields, read in
    1 MiB chunks; one more byte is read to detect trailing data. ``digest`` (a hashlib
    object) is updated with the decompressed bytes.
    """
    source = os.fspath(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        fh = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            head = bytes(_read_exact(fh, 4))
            if len(head) < 4:
                raise IDXFormatError(
                    f"{source}: {len(head)} bytes is too short for an IDX header (needs 4)"
                )
            dtype, ndim = _parse_header(head, source)
            dims = bytes(_read_exact(fh, 4 * ndim))
            if len(dims) < 4 * ndim:
                raise IDXFormatError(
                    f"{source}: truncated header: {ndim} dimensions need {4 + 4 * ndim} "
                    f"bytes, file has {4 + len(dims)}"
                )
            shape = struct.unpack(f">{ndim}I", dims)
            expected = _payload_size(shape, dtype, source)
            header = 4 + 4 * ndim
            if not compressed and size - header != expected:
                raise _mismatch(source, shape, dtype, expected, size - header)
            _check_limit(expected, shape, dtype, max_bytes, source)
            if compressed and expected > _GZIP_MAX_RATIO * size + (1 << 16):
                raise IDXFormatError(
                    f"{source}: truncated: shape {shape} of "
                    f"{dtype.newbyteorder('=').name} needs {expected} payload bytes, more "
                    f"than a {size}-byte gzip file can hold"
                )
            if digest is not None:
                digest.update(head + dims)
            if compressed:
                buf = _read_exact(fh, expected)  # grows only as data arrives
                got = len(buf)
                extra = fh.read(1) if got == expected else b""
                if got != expected or extra:  # (trailing data is not inflated to count it)
                    raise _mismatch(source, shape, dtype, expected, got + len(extra), bool(extra))
                if digest is not None:
                    digest.update(buf)
                data = np.frombuffer(buf, dtype=dtype)
            else:
                data = np.empty(expected // dtype.itemsize, dtype=dtype)
                got = fh.readinto(memoryview(data).cast("B")) if expected else 0
                if got != expected or fh.read(1):  # the file changed since fstat
                    raise IDXFormatError(f"{source}: the file changed while being read")
                if digest is not None:
                    digest.update(memoryview(data).cast("B"))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise _open_gzip_errors(source, exc) from exc
        finally:
            if compressed:
                fh.close()
    return _to_native(data, dtype, shape)


def read_idx_bytes(path: str | os.PathLike, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """The IDX bytes stored in ``path``, decompressed if the file is gzip.

    Parameters
    ----------
    path : path-like
    max_bytes : int or None
        Refuse (before decompressing) content larger than this many bytes, and stop
        decompressing once it is exceeded. ``None``: no limit.

    Raises
    ------
    IDXFormatError
        If the file starts like gzip but its stream is truncated or corrupt, or its
        content exceeds ``max_bytes``.
    FileNotFoundError
        If ``path`` does not exist.
    """
    source = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            size = os.fstat(raw.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise IDXFormatError(f"{source}: {size} bytes, above max_bytes={max_bytes}")
            return raw.read()
        limit = None if max_bytes is None else max_bytes + 1
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                if limit is None:
                    return fh.read()
                out = bytes(_read_exact(fh, limit))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise _open_gzip_errors(source, exc) from exc
    if len(out) > max_bytes:
        raise IDXFormatError(
            f"{source}: gzip content exceeds max_bytes={max_bytes} (pass a larger "
            "max_bytes, or None, if the file is trusted)"
        )
    return out


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
        A shape with a 0 (``(0, 28, 28)``: no images) gives an empty array.

    Raises
    ------
    IDXFormatError
        If the magic bytes are not ``00 00``, the dtype code is unknown, ``ndim`` is 0
        or above 64 (NumPy's limit), the header is cut short, the shape is too large
        for any array, or the payload is shorter or longer than the header's shape
        requires. No other exception escapes for any content of ``buffer``.
    """
    buf = memoryview(buffer).cast("B")
    size = buf.nbytes
    if size < 4:
        raise IDXFormatError(f"{source}: {size} bytes is too short for an IDX header (needs 4)")
    dtype, ndim = _parse_header(bytes(buf[:4]), source)
    header = 4 + 4 * ndim
    if size < header:
        raise IDXFormatError(
            f"{source}: truncated header: {ndim} dimensions need {header} bytes, file has {size}"
        )
    shape = struct.unpack(f">{ndim}I", buf[4:header])
    payload = size - header
    expected = math.prod(shape) * dtype.itemsize
    if payload != expected:
        raise _mismatch(source, shape, dtype, expected, payload)
    _payload_size(shape, dtype, source)
    data = np.frombuffer(buf, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def read_idx(path: str | os.PathLike, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a native-endian array.

    The header is read first and the declared size checked before any large
    allocation; a gzip file is decompressed as a stream, so memory grows only with
    the data it actually holds (about the array's size; twice that at most while the
    last chunk is appended).

    Parameters
    ----------
    path : path-like
        The file. Compression is detected from its first bytes, not its name.
    max_bytes : int or None
        Largest array (in bytes) to read: a file whose header declares more is refused
        before anything is allocated. Default :data:`DEFAULT_MAX_BYTES` (512 MiB);
        ``None`` for no limit.

    Returns
    -------
    numpy.ndarray
        Array with the file's shape and dtype (uint8, int8, int16, int32, float32 or
        float64), native byte order, writable. A shape with a 0 gives an empty array.

    Raises
    ------
    IDXFormatError
        If the file is not a well-formed IDX file (see :func:`decode_idx`), its gzip
        stream is corrupt or truncated, it has bytes after the payload, or it declares
        more than ``max_bytes`` (or more than its compressed size can hold); the
        message names the file and the problem.
    FileNotFoundError
        If ``path`` does not exist (another ``OSError`` if it cannot be read).
    """
    return _stream_idx(path, max_bytes)


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
