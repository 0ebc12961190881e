"""Download a file over HTTP(S) from a list of mirrors, verified and written atomically.

The bytes stream into a temporary file beside the destination; it is renamed to the
destination only after its MD5 checksum is accepted, so neither a failed transfer nor a
wrong file ever appears under the final name.

Checksums may be given for the file as sent (``md5_file``) and for its *decompressed*
content (``md5_decompressed``; the file itself if it is not gzip). Either match is
enough: re-compressing the same data changes the gzip bytes but not the content, so
the decompressed checksum identifies a data set across mirrors.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from numnet._files import atomic_writer, md5_file, normalize_md5s

__all__ = ["ChecksumError", "DownloadError", "download"]

_CHUNK = 1 << 20
_USER_AGENT = "numnet-data/0.1 (Python urllib)"


class DownloadError(OSError):
    """No mirror delivered the file (network failure, HTTP error or wrong checksum)."""


class ChecksumError(DownloadError, ValueError):
    """A file's MD5 is not among the accepted digests.

    Raised by :func:`download` when every mirror that answered sent unaccepted content,
    and by the data sets when a file found on disk fails verification. It is both a
    :class:`DownloadError` (an ``OSError``) and a ``ValueError``.
    """


class _Retryable(Exception):
    """A transfer failure worth retrying on the same mirror (reason in ``args[0]``)."""


class _Mismatch(Exception):
    """The transfer completed but its checksum was rejected (reason in ``args[0]``)."""


def _fetch(
    url: str, dest: Path, md5_file_ok: frozenset[str], md5_dec_ok: frozenset[str], timeout: float
) -> None:
    """One attempt: stream ``url`` into a temporary file, verify it, rename it to ``dest``."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with atomic_writer(dest) as fh:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            while chunk := response.read(_CHUNK):
                fh.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        if length is not None and length.isdigit() and received != int(length):
            raise _Retryable(f"incomplete transfer: {received} of {length} bytes")
        fh.flush()
        if not (md5_file_ok or md5_dec_ok):
            return
        file_md5 = digest.hexdigest()
        if file_md5 in md5_file_ok:
            return
        if md5_dec_ok:
            try:
                content_md5 = md5_file(fh.name, decompress=True)
            except ValueError as exc:
                raise _Mismatch(f"corrupt gzip data ({exc})") from exc
            if content_md5 in md5_dec_ok:
                return
            got = f"file MD5 {file_md5}, decompressed MD5 {content_md5}"
        else:
            got = f"file MD5 {file_md5}"
        wanted = " or ".join(
            part
            for part in (
                f"file MD5 in {sorted(md5_file_ok)}" if md5_file_ok else "",
                f"decompressed MD5 in {sorted(md5_dec_ok)}" if md5_dec_ok else "",
            )
            if part
        )
        raise _Mismatch(f"checksum mismatch: got {got}; expected {wanted}")


def download(
    urls: str | Sequence[str],
    dest: str | os.PathLike,
    *,
    md5_decompressed: str | Iterable[str] | None = None,
    md5_file: str | Iterable[str] | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Download one file, trying each mirror in turn, and verify its MD5.

    Parameters
    ----------
    urls : str or sequence of str
        ``http://`` or ``https://`` URLs of the same file, tried in order.
    dest : path-like
        Destination *file* path; its directory is created if needed. An existing file
        is replaced only by a verified download.
    md5_decompressed : str or iterable of str, optional
        Accepted MD5 digests of the content after gzip decompression (of the file
        itself when it is not gzip).
    md5_file : str or iterable of str, optional
        Accepted MD5 digests of the file as downloaded. With neither checksum, the
        download is not verified.
    retries : int
        Attempts per mirror (at least 1). HTTP 5xx, 408, 429, timeouts, connection
        errors and incomplete transfers are retried; other HTTP errors (404, ...) and
        checksum mismatches move on to the next mirror at once.
    timeout : float
        Seconds to wait for the connection and for each read.
    backoff : float
        Sleep ``backoff * 2**k`` seconds before the ``k+1``-th retry of a mirror.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumError
        If every mirror that answered sent content with an unaccepted checksum.
    DownloadError
        If no mirror delivered the file; the message lists each failure and says where
        to put the file by hand when the machine is offline.
    ValueError
        If ``urls`` is empty or not HTTP(S), ``retries < 1``, a digest is malformed, or
        ``dest`` is a directory.
    """
    url_list, dest = _check_request(urls, dest, retries)
    md5_dec_ok = normalize_md5s(md5_decompressed)
    md5_file_ok = normalize_md5s(md5_file)
    dest.parent.mkdir(parents=True, exist_ok=True)

    failures: list[str] = []
    only_mismatches = True
    for url in url_list:
        for attempt in range(retries):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            outcome = _attempt(url, dest, md5_file_ok, md5_dec_ok, timeout)
            if outcome is None:
                return dest
            kind, reason = outcome
            failures.append(f"{url} (attempt {attempt + 1}/{retries}): {reason}")
            only_mismatches = only_mismatches and kind == "mismatch"
            if kind != "retry":
                break
    raise _no_mirror_error(dest, len(url_list), failures, only_mismatches)


def _check_request(urls, dest, retries: int) -> tuple[list[str], Path]:
    """``download``'s argument checks: the URL list and the destination path."""
    url_list = [urls] if isinstance(urls, str) else list(urls)
    if not url_list:
        raise ValueError("download() needs at least one URL")
    for url in url_list:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"only http:// and https:// URLs are supported, got {url!r}")
    if retries < 1:
        raise ValueError(f"retries must be >= 1, got {retries}")
    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise ValueError(f"dest must be a file path, {dest} is a directory")
    return url_list, dest


def _attempt(url, dest, md5_file_ok, md5_dec_ok, timeout) -> tuple[str, str] | None:
    """One transfer: ``None`` on success, else ``(kind, reason)``.

    ``kind`` is ``"mismatch"`` (a checksum was rejected: next mirror), ``"retry"``
    (HTTP 5xx, 408, 429, timeouts, connection errors, incomplete transfers: try the same
    mirror again) or ``"next"`` (other HTTP errors, 404...: next mirror).
    """
    try:
        _fetch(url, dest, md5_file_ok, md5_dec_ok, timeout)
    except _Mismatch as exc:
        return "mismatch", exc.args[0]
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code in (408, 429)
        return ("retry" if retry else "next"), f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return "retry", f"{exc.reason}"
    except _Retryable as exc:
        return "retry", exc.args[0]
    except (OSError, http.client.HTTPException) as exc:
        return "retry", f"{type(exc).__name__}: {exc}"
    return None


def _no_mirror_error(dest: Path, n_mirrors: int, failures, only_mismatches: bool):
    details = "\n  - ".join(failures)
    if only_mismatches:
        return ChecksumError(
            f"downloaded {dest.name} but no mirror sent the expected content; nothing was "
            f"written to {dest.parent}:\n  - {details}"
        )
    return DownloadError(
        f"could not download {dest.name} from {n_mirrors} mirror(s):\n  - {details}\n"
        f"If this machine is offline, copy the file by hand to {dest} "
        f"(directory {dest.parent}, file name {dest.name})."
    )
