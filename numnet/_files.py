"""Atomic writes and checksums, shared by IDX files, downloads, save/load, logs and figures.

A file is written to a temporary name in its destination directory and renamed over
the destination with :func:`os.replace` only once it is complete, so a reader never sees
a half-written file and a crash never leaves one behind under the final name.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether the file at ``path`` starts with the gzip magic bytes ``1f 8b``."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def md5_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex MD5 digest of an in-memory buffer (an integrity check, not a security one)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path: str | os.PathLike, *, decompress: bool = False) -> str:
    """Hex MD5 digest of a file's bytes, streamed in 1 MiB chunks.

    Parameters
    ----------
    path : path-like
        The file.
    decompress : bool
        If true and the file is gzip-compressed (detected by its magic bytes), hash the
        decompressed content instead; a file that is not gzip is hashed as it is.

    Raises
    ------
    ValueError
        If ``decompress`` is set and the gzip stream is truncated or corrupt.
    """
    digest = hashlib.md5(usedforsecurity=False)
    opener = gzip.open if decompress and is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{os.fspath(path)}: corrupt or truncated gzip stream ({exc})") from exc
    return digest.hexdigest()


def normalize_md5s(md5: str | Iterable[str] | None) -> frozenset[str]:
    """A set of lower-case hex digests from ``None``, one digest or several.

    Raises
    ------
    ValueError
        If a digest is not 32 hexadecimal characters.
    """
    if md5 is None:
        return frozenset()
    values = [md5] if isinstance(md5, str) else list(md5)
    out = set()
    for value in values:
        text = str(value).strip().lower()
        if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
            raise ValueError(f"not an MD5 hex digest (32 hex characters): {value!r}")
        out.add(text)
    return frozenset(out)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success, rename it to ``path``.

    The temporary file lives in the destination directory (so :func:`os.replace` is an
    atomic rename on the same file system) and is removed if the ``with`` block raises,
    including on ``KeyboardInterrupt``.

    Examples
    --------
    >>> with atomic_writer(tmp / "out.bin") as fh:  # doctest: +SKIP
    ...     fh.write(b"...")

    ``fh.name`` is the temporary file's path, so the content can be re-read and checked
    before the ``with`` block ends (raise to discard it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    done = False
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:  # fh.name is the temporary path, for re-reading
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the result the mode a plain open() would have had.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        done = True
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`) and return the path."""
    with atomic_writer(path) as fh:
        fh.write(data)
    return Path(path)
