"""download(): mirrors, retries, checksums and atomic writes, against a local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading

import pytest

from numnet.data import ChecksumError, DownloadError, download

CONTENT = bytes(range(256)) * 40
GZ = gzip.compress(CONTENT, mtime=0)
REGZ = gzip.compress(CONTENT, compresslevel=1, mtime=12345)  # same content, other bytes


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes[path]``: a list of (status, body) replies, used in turn;
    the last one repeats. A status of -1 sends a truncated body (a short read)."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        replies = self.server.routes.get(self.path, [(404, b"not found")])
        status, body = replies[min(self.server.hits[self.path], len(replies)) - 1]
        self.send_response(200 if status == -1 else status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if status == -1 else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.hits = {}, {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/x.gz"  # nothing listens: connection refused


def test_good_file_verified_by_decompressed_md5(server, tmp_path):
    server.routes["/f.gz"] = [(200, GZ)]
    dest = tmp_path / "data" / "f.gz"
    out = download(server.url + "/f.gz", dest, md5_decompressed=md5(CONTENT), backoff=0)
    assert out == dest
    assert dest.read_bytes() == GZ
    assert [p.name for p in dest.parent.iterdir()] == ["f.gz"]


def test_recompressed_file_accepted_by_either_checksum(server, tmp_path):
    # like the shared MNIST train images: gzip bytes differ, decompressed bytes match
    server.routes["/f.gz"] = [(200, REGZ)]
    dest = tmp_path / "f.gz"
    download(
        [server.url + "/f.gz"],
        dest,
        md5_file=md5(GZ),
        md5_decompressed=md5(CONTENT),
        backoff=0,
    )
    assert gzip.decompress(dest.read_bytes()) == CONTENT
    dest.unlink()
    download(server.url + "/f.gz", dest, md5_file=[md5(GZ), md5(REGZ)], backoff=0)
    assert dest.read_bytes() == REGZ


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    server.routes["/f.gz"] = [(200, GZ)]
    dest = tmp_path / "f.gz"
    with pytest.raises(ChecksumError, match="checksum mismatch") as info:
        download(server.url + "/f.gz", dest, md5_decompressed="0" * 32, retries=2, backoff=0)
    assert md5(CONTENT) in str(info.value)  # reports what it got
    assert list(tmp_path.iterdir()) == []
    assert server.hits["/f.gz"] == 1  # a mismatch is not retried on the same mirror


def test_checksum_mismatch_keeps_existing_file(server, tmp_path):
    server.routes["/f.gz"] = [(200, b"wrong")]
    dest = tmp_path / "f.gz"
    dest.write_bytes(GZ)
    with pytest.raises(ChecksumError):
        download(server.url + "/f.gz", dest, md5_file=md5(GZ), backoff=0)
    assert dest.read_bytes() == GZ
    assert [p.name for p in tmp_path.iterdir()] == ["f.gz"]


def test_corrupt_gzip_is_a_mismatch(server, tmp_path):
    server.routes["/f.gz"] = [(200, GZ[:-5])]
    with pytest.raises(ChecksumError, match="corrupt gzip"):
        download(server.url + "/f.gz", tmp_path / "f.gz", md5_decompressed=md5(CONTENT))
    assert list(tmp_path.iterdir()) == []


def test_server_error_then_ok_is_retried(server, tmp_path):
    server.routes["/f.gz"] = [(500, b"oops"), (503, b"busy"), (200, GZ)]
    dest = tmp_path / "f.gz"
    download(server.url + "/f.gz", dest, md5_file=md5(GZ), retries=3, backoff=0)
    assert dest.read_bytes() == GZ
    assert server.hits["/f.gz"] == 3


def test_short_read_is_retried(server, tmp_path):
    server.routes["/f.gz"] = [(-1, GZ), (200, GZ)]
    dest = tmp_path / "f.gz"
    download(server.url + "/f.gz", dest, md5_file=md5(GZ), retries=2, backoff=0)
    assert dest.read_bytes() == GZ
    assert server.hits["/f.gz"] == 2


def test_not_found_moves_to_next_mirror_without_retry(server, tmp_path):
    server.routes["/b/f.gz"] = [(200, GZ)]
    urls = [server.url + "/a/f.gz", server.url + "/b/f.gz"]
    download(urls, tmp_path / "f.gz", md5_decompressed=md5(CONTENT), retries=3, backoff=0)
    assert server.hits == {"/a/f.gz": 1, "/b/f.gz": 1}


def test_all_mirrors_failing_names_directory_and_file(server, tmp_path, closed_port_url):
    server.routes["/f.gz"] = [(500, b"down")]
    dest = tmp_path / "cache" / "train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as info:
        download([server.url + "/f.gz", closed_port_url], dest, retries=2, backoff=0)
    message = str(info.value)
    assert not isinstance(info.value, ChecksumError)
    assert f"copy the file by hand to {dest}" in message
    assert f"directory {dest.parent}, file name train-images-idx3-ubyte.gz" in message
    assert "HTTP 500" in message and "attempt 2/2" in message
    assert message.count(closed_port_url) == 2
    assert server.hits["/f.gz"] == 2
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"urls": []}, "at least one URL"),
        ({"urls": "ftp://host/f.gz"}, "only http:// and https://"),
        ({"retries": 0}, "retries must be >= 1"),
        ({"md5_file": "abc"}, "not an MD5 hex digest"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, message):
    args = {"urls": "http://127.0.0.1:9/f.gz", "dest": tmp_path / "f.gz", **kwargs}
    with pytest.raises(ValueError, match=message):
        download(args.pop("urls"), args.pop("dest"), **args)


def test_dest_must_not_be_a_directory(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        download("http://127.0.0.1:9/f.gz", tmp_path)
