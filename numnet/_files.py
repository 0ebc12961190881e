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
import re
import tempfile
import time
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


#: A temporary file of a dead writer is removed by the next write of the same target;
#: one whose writer's pid is unknown or alive is removed once untouched this long.
STALE_SECONDS = 3600.0
_TEMP_RE = re.compile(r"\.(?:(\d+)\.)?[A-Za-z0-9_]+\.part")


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine, in this pid namespace)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists but belongs to someone else, or unknown
        return True
    return True


def clean_stale_temporaries(
    path: str | os.PathLike, *, max_age: float = STALE_SECONDS
) -> list[Path]:
    """Remove the temporary files that interrupted writes of ``path`` left behind.

    :func:`atomic_writer` names its temporary file ``.NAME.PID.RANDOM.part`` beside
    ``NAME``. A writer killed before its rename (``kill -9``, power loss) leaves that
    file behind. This removes those of the same target whose writer process no longer
    exists, and any (including ``.NAME.RANDOM.part`` from older numnet versions) not
    modified for ``max_age`` seconds. The temporary files of live writers of the same
    target are kept, as is everything else in the directory.

    Returns
    -------
    list of pathlib.Path
        The files removed. Errors (a file already gone, no permission) are ignored.
    """
    path = Path(path)
    prefix = f".{path.name}."
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    me = os.getpid()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".part")):
            continue
        match = _TEMP_RE.fullmatch(name[len(prefix) - 1 :])
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = int(match.group(1)) if match.group(1) else None
        dead = pid is not None and pid != me and not _pid_alive(pid)
        if dead or age > max_age:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def fsync_directory(directory: str | os.PathLike) -> None:
    """Flush a directory's entries to disk (so a rename in it survives power loss).

    A no-op where directories cannot be opened or synced (Windows).
    """
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success, rename it to ``path``.

    The temporary file, ``.NAME.PID.RANDOM.part``, lives in the destination directory
    (so :func:`os.replace` is an atomic rename on the same file system) and is removed
    if the ``with`` block raises, including on ``KeyboardInterrupt``. The data is
    fsynced before the rename and the directory after it, so a finished write survives
    a crash or power loss. A process killed mid-write cannot remove its temporary
    file: the next write of the same ``path`` does (see
    :func:`clean_stale_temporaries`: writers that no longer exist, or files untouched
    for an hour).

    Examples
    --------
    >>> with atomic_writer(tmp / "out.bin") as fh:  # doctest: +SKIP
    ...     fh.write(b"...")

    ``fh.name`` is the temporary file's path, so the content can be re-read and checked
    before the ``with`` block ends (raise to discard it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=path.parent
    )
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
        fsync_directory(path.parent)
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`) and return the path."""
    with atomic_writer(path) as fh:
        fh.write(data)
    return Path(path)
