"""MNIST loading (IDX parsing, verification, search order, downloads through a local HTTP
server, offline messages, bad input), the train/validation split, the shared .npy copies
(memory maps, atomic writes, read-only folders, damaged copies, several processes, the
instructor's prepare step), one_hot and minibatches.

Every test that could write touches only tmp dirs: MATHNN_DATA is unset and
mathnn.locations.REPO_DATA points into tmp_path (fixture `isolated`)."""

import errno
import gzip
import hashlib
import http.server
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

import mathnn as mn
from mathnn import locations, shared
from mathnn import mnist as mnist_files  # not `mnist`: that is the fixture of the loaded images
from mathnn.splits import NUM_VAL, SPLIT_SEED

# Published label counts of MNIST (LeCun et al.; properties of the dataset, not of this code)
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIX = "put the four files in data/ or set MATHNN_DATA"


def idx_bytes(shape, payload=None, type_code=0x08):
    """IDX: magic (0, 0, type, ndim), big-endian int32 dims, then the bytes (zeros by default)."""
    header = bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}i", *shape)
    return header + (bytes(int(np.prod(shape))) if payload is None else payload)


def write_gz(path, raw):
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    return path


REAL_MNIST_DIR = os.environ.get("MATHNN_DATA")  # read at import, before any test unsets it


@pytest.fixture
def real_mnist_dir():
    """The offline MNIST copy named by $MATHNN_DATA."""
    if not REAL_MNIST_DIR:
        pytest.skip("MATHNN_DATA is unset: this test needs the real MNIST files from that folder")
    return Path(REAL_MNIST_DIR)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $MATHNN_DATA, data/ -> an empty tmp folder (the user cache -> another one), mirrors -> a closed port."""
    monkeypatch.delenv("MATHNN_DATA", raising=False)
    repo = tmp_path / "repo_data"
    repo.mkdir()
    monkeypatch.setattr(locations, "REPO_DATA", repo)
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    monkeypatch.setattr(mnist_files, "MIRRORS", [f"http://127.0.0.1:{closed_port()}/"])
    return repo


def closed_port():
    """A local port that nothing listens on (connecting to it is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# the real files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("split", "m", "counts"), [("train", 60000, TRAIN_COUNTS), ("test", 10000, TEST_COUNTS)])
def test_real_files_shapes_dtypes_and_label_counts(mnist, split, m, counts):
    X, y = mnist[split]
    assert X.shape == (784, m) and X.dtype == np.float32
    assert y.shape == (m,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert X.flags.f_contiguous  # one image per column, each contiguous in memory
    per_class = np.bincount(y, minlength=10)
    assert len(per_class) == 10 and per_class.min() > 0  # every digit appears, nothing outside 0-9
    assert per_class.sum() == m
    assert per_class.tolist() == counts


def test_real_files_known_first_labels_and_pixel_statistics(mnist):
    _, y = mnist["train"]
    X_test, y_test = mnist["test"]
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the famous first training digits
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    X, _ = mnist["train"]
    mean = float(X.mean(dtype=np.float64))
    std = np.sqrt(np.einsum("ij,ij->", X, X, dtype=np.float64) / X.size - mean**2)  # no (784, 60000) float64 copy
    assert mean == pytest.approx(0.1307, abs=5e-4)  # the usual normalisation constants of MNIST
    assert std == pytest.approx(0.3081, abs=5e-4)


def test_real_images_are_upright(mnist):
    """A pixel column reshapes row-major into 28 x 28: the average "1" is a tall, thin stroke."""
    X, y = mnist["test"]
    mean_one = X[:, y == 1].mean(axis=1).reshape(28, 28)
    rows = np.flatnonzero(mean_one.max(axis=1) > 0.3)
    cols = np.flatnonzero(mean_one.max(axis=0) > 0.3)
    assert np.ptp(rows) > 2 * np.ptp(cols)
    mean_zero = X[:, y == 0].mean(axis=1).reshape(28, 28)
    assert mean_zero[14, 14] < 0.3 < mean_zero[14, 6:11].max()  # a ring: empty centre, ink left of it


def test_load_mnist_and_splits_in_float64(mnist):
    X32, y = mnist["test"]
    X64, y64 = mn.load_mnist("test", download=False, dtype=np.float64)
    assert X64.dtype == np.float64 and X64.shape == (784, 10000) and X64.flags.f_contiguous
    np.testing.assert_array_equal(y64, y)
    pixels = np.round(X64 * 255)  # the bytes of the file, divided by 255 in double precision
    np.testing.assert_array_equal(X64, pixels / 255.0)
    assert not np.array_equal(X64, X32.astype(np.float64)), "float64 pixels are not float32 ones widened"
    splits64 = mn.load_mnist_splits(dtype=np.float64)  # cached per dtype: float64 must not come back float32
    assert {a.dtype for a in splits64[::2]} == {np.dtype(np.float64)}
    np.testing.assert_array_equal(splits64.X_test, X64)
    splits32 = mn.load_mnist_splits()
    assert {a.dtype for a in splits32[::2]} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(splits32.y_val, splits64.y_val)


@pytest.mark.parametrize("dtype", [np.uint8, int, "U3"])
def test_load_mnist_refuses_a_dtype_that_is_not_floating_point(dtype):
    with pytest.raises(ValueError, match=r"load_mnist\(\): dtype must be a floating-point type"):
        mn.load_mnist("test", dtype=dtype)


def test_load_mnist_rejects_unknown_split():
    with pytest.raises(ValueError, match="'validation'"):
        mn.load_mnist("validation")


# ---------------------------------------------------------------------------------------------
# parsing and verification
# ---------------------------------------------------------------------------------------------


def test_parse_idx_small_example():
    raw = idx_bytes((2, 3), bytes([0, 1, 2, 253, 254, 255]))
    arr = mnist_files.parse_idx(raw)
    assert arr.dtype == np.uint8 and arr.shape == (2, 3)
    np.testing.assert_array_equal(arr, [[0, 1, 2], [253, 254, 255]])  # row-major
    labels = mnist_files.parse_idx(idx_bytes((4,), bytes([7, 2, 1, 0])))
    np.testing.assert_array_equal(labels, [7, 2, 1, 0])


@pytest.mark.parametrize(("raw", "words"), [
    (b"\x00\x00", ["truncated", "not even an IDX header"]),
    (idx_bytes((10, 28, 28))[:10], ["truncated inside its header"]),
    (idx_bytes((10, 28, 28))[:-1], ["truncated", "(10, 28, 28)", "7,856", "7,855"]),
    (idx_bytes((10,)) + b"\x00", ["longer than its header says"]),
    (idx_bytes((10,), type_code=0x0D), ["wrong magic number", "0x00000d01"]),
    (b"\x1f\x8b\x08\x00" + bytes(20), ["wrong magic number", "0x1f8b0800", "0x00000801"]),
])
def test_parse_idx_errors(raw, words):
    with pytest.raises(mnist_files.MNISTError) as info:
        mnist_files.parse_idx(raw, name="some.idx")
    message = str(info.value)
    assert "some.idx" in message
    for word in words:
        assert word in message


TEST_IMAGES, TEST_LABELS = mnist_files.FILES["test"]


@pytest.mark.parametrize(("content", "words"), [
    # a truncated file: a valid gzip whose IDX data stops early
    (lambda: gzip.compress(idx_bytes((10000, 28, 28))[:500_000]), ["truncated", "(10000, 28, 28)", "500,000"]),
    # a truncated download of the .gz itself
    (lambda: gzip.compress(idx_bytes((10000, 28, 28), os.urandom(7_840_000)), compresslevel=1)[:3000],
     ["truncated or not a valid gzip"]),
    # a file that is not gzip at all
    (lambda: b"<html>404 Not Found</html>", ["not a valid gzip"]),
    # gzip, but not IDX
    (lambda: gzip.compress(b"hello, this is not an IDX file at all"), ["wrong magic number"]),
    # right magic, right size, wrong bytes: only the checksum can tell
    (lambda: gzip.compress(idx_bytes((10000, 28, 28))), ["SHA-256", "corrupt or not the official MNIST file"]),
])
def test_bad_file_in_root_raises_clear_error(isolated, tmp_path, content, words):
    root = tmp_path / "root"
    root.mkdir()
    bad = root / TEST_IMAGES
    bad.write_bytes(content())
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=root, download=False)
    message = str(info.value)
    assert str(bad) in message  # names the file
    assert "Delete it and download it again" in message  # and the remedy
    for word in words:
        assert word in message, message


def test_checksum_mismatch_of_labels_file(isolated, tmp_path, real_mnist_dir):
    """A real labels file with one label changed: header and size are right, only SHA-256 catches it."""
    raw = bytearray(gzip.decompress((real_mnist_dir / TEST_LABELS).read_bytes()))
    raw[8] = (raw[8] + 1) % 10  # the first label
    root = tmp_path / "root"
    root.mkdir()
    (root / TEST_IMAGES).symlink_to(real_mnist_dir / TEST_IMAGES)
    write_gz(root / TEST_LABELS, bytes(raw))
    with pytest.raises(mnist_files.MNISTError, match=r"t10k-labels-idx1-ubyte\.gz fails its SHA-256 check"):
        mn.load_mnist("test", root=root, download=False)


def gzip_bomb(first, mib=256):
    """A small .gz file that expands to `first` followed by `mib` MiB of zeros (one gzip member per MiB)."""
    return gzip.compress(first) + gzip.compress(bytes(1 << 20), compresslevel=9) * mib


@pytest.mark.parametrize(("name", "first", "words"), [
    (TEST_LABELS, b"PK\x03\x04" + bytes(60), ["wrong magic number", "0x504b0304"]),  # a zip, not IDX
    (TEST_LABELS, idx_bytes((10000,)), ["longer than its header says", "10,008"]),
    (TEST_IMAGES, idx_bytes((2**31 - 1, 28, 28), payload=b""), ["promises shape (2147483647, 28, 28)", "7,840,016"]),
], ids=["not_idx", "too_long", "huge_header"])
def test_gzip_bomb_is_rejected_without_expanding_it(isolated, tmp_path, name, first, words):
    """256 MiB after decompression: the header is checked first, and at most the official size + 1 is read."""
    root = tmp_path / "root"
    root.mkdir()
    bomb = root / name
    bomb.write_bytes(gzip_bomb(first))
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(mnist_files.MNISTError) as info:
            mnist_files.read_idx_gz(bomb, mnist_files.SHA256[name])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak:,} bytes allocated"  # not the 268,435,456 of the bomb
    message = str(info.value)
    assert str(bomb) in message and "Delete it and download it again" in message
    for word in words:
        assert word in message, message


# ---------------------------------------------------------------------------------------------
# where the files are looked for
# ---------------------------------------------------------------------------------------------


def test_search_dirs_order(isolated, tmp_path, monkeypatch):
    env = tmp_path / "env"
    assert locations.data_dirs() == [isolated]
    monkeypatch.setenv("MATHNN_DATA", str(env))
    assert locations.data_dirs() == [env, isolated]
    assert locations.data_dirs(tmp_path / "root") == [tmp_path / "root", env, isolated]
    assert locations.data_dirs(str(tmp_path / "root"))[0] == tmp_path / "root"  # a str root works too


def test_find_or_download_takes_the_first_folder_that_has_the_file(isolated, tmp_path, monkeypatch):
    root, env = tmp_path / "root", tmp_path / "env"
    root.mkdir()
    env.mkdir()
    monkeypatch.setenv("MATHNN_DATA", str(env))
    name = TEST_LABELS
    (isolated / name).touch()
    assert mnist_files.find_or_download(name, root, download_ok=False) == isolated / name  # only data/ has it
    (env / name).touch()
    assert mnist_files.find_or_download(name, root, download_ok=False) == env / name  # $MATHNN_DATA before data/
    (root / name).touch()
    assert mnist_files.find_or_download(name, root, download_ok=False) == root / name  # root before both
    assert mnist_files.find_or_download(name, None, download_ok=False) == env / name


def test_load_mnist_search_order_with_real_files(isolated, tmp_path, monkeypatch, real_mnist_dir):
    """load_mnist reads the first copy it finds: a corrupt copy in root shadows a good $MATHNN_DATA,
    while a corrupt copy in data/ is never reached when $MATHNN_DATA has the files."""
    monkeypatch.setenv("MATHNN_DATA", str(real_mnist_dir))
    write_gz(isolated / TEST_IMAGES, b"corrupt")  # data/ comes last: never read
    X, y = mn.load_mnist("test")
    assert X.shape == (784, 10000) and np.bincount(y).tolist() == TEST_COUNTS
    root = tmp_path / "root"
    root.mkdir()
    write_gz(root / TEST_IMAGES, b"corrupt")  # root comes first
    with pytest.raises(mnist_files.MNISTError, match=str(root / TEST_IMAGES)):
        mn.load_mnist("test", root=root)
    # with $MATHNN_DATA unset, data/ is used: its corrupt copy is now the one read
    monkeypatch.delenv("MATHNN_DATA")
    with pytest.raises(mnist_files.MNISTError, match=str(isolated / TEST_IMAGES)):
        mn.load_mnist("test", download=False)


def test_relative_mathnn_data_is_read_from_the_working_folder(isolated, tmp_path, monkeypatch):
    """MATHNN_DATA=../shared/mnist from the repository works; from notebooks/ (a Jupyter kernel's working
    folder) it names another folder: the error says which one, and why, and what to do."""
    repo, shared = tmp_path / "repo", tmp_path / "shared" / "mnist"
    (repo / "notebooks").mkdir(parents=True)
    shared.mkdir(parents=True)
    (shared / TEST_LABELS).touch()
    monkeypatch.setenv("MATHNN_DATA", "../shared/mnist")
    monkeypatch.chdir(repo)
    assert locations.data_dirs()[0] == shared  # absolute, resolved from the working folder
    assert mnist_files.find_or_download(TEST_LABELS, download_ok=False) == shared / TEST_LABELS
    monkeypatch.chdir(repo / "notebooks")
    with pytest.raises(mnist_files.MNISTError) as info:
        mnist_files.find_or_download(TEST_LABELS, download_ok=False)
    message = str(info.value)
    assert str(repo / "shared" / "mnist") in message  # the folder actually searched, absolute
    assert "MATHNN_DATA=../shared/mnist is a relative path" in message
    assert str(repo / "notebooks") in message and "absolute path" in message


def test_absolute_mathnn_data_gets_no_relative_path_note(isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("MATHNN_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(mnist_files.MNISTError) as info:
        mnist_files.find_or_download(TEST_LABELS, download_ok=False)
    assert str(tmp_path / "nowhere") in str(info.value) and "relative" not in str(info.value)


def test_is_source_checkout(tmp_path):
    (tmp_path / "data").mkdir()
    assert not locations.is_source_checkout(tmp_path)  # e.g. site-packages, where a wheel put mathnn/
    (tmp_path / "pyproject.toml").touch()
    assert not locations.is_source_checkout(tmp_path)
    (tmp_path / "data" / "README.md").touch()
    assert locations.is_source_checkout(tmp_path)


def test_installed_package_uses_the_user_cache_not_site_packages(isolated, tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", False)
    xdg = tmp_path / "xdg_cache"
    assert locations.default_data_dir() == xdg / "mathnn"
    assert locations.data_dirs() == [xdg / "mathnn"]  # the repository's data/ (isolated) is not searched
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for value in ["", "relative/cache"]:  # unset or relative: XDG says to use ~/.cache
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert locations.default_data_dir() == tmp_path / "home" / ".cache" / "mathnn"
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", download=False)
    message = str(info.value)
    assert f"put the four files in {tmp_path / 'home' / '.cache' / 'mathnn'} or set MATHNN_DATA" in message
    assert str(isolated) not in message


def test_unreadable_file_is_not_called_corrupt(isolated, tmp_path, monkeypatch, real_mnist_dir):
    """A permission problem is reported as one: deleting and downloading the file again would not help.
    Simulated (tests may run as root, who can read anything)."""
    root = tmp_path / "root"
    root.mkdir()
    for name in mnist_files.FILES["test"]:
        (root / name).symlink_to(real_mnist_dir / name)
    locked = root / TEST_IMAGES
    real_open = gzip.open

    def open_as_someone_else(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(gzip, "open", open_as_someone_else)
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=root, download=False)
    message = str(info.value)
    assert message.startswith(f"cannot read {locked}: permission denied")
    assert "chmod a+r" in message
    assert "Delete it" not in message and "corrupt" not in message and "truncated" not in message


def test_folder_that_cannot_be_searched_is_named(isolated, tmp_path, monkeypatch):
    """MATHNN_DATA inside someone's private home folder: an MNISTError naming it, not a raw PermissionError."""
    private = tmp_path / "teacher" / "mnist"
    monkeypatch.setenv("MATHNN_DATA", str(private))
    real_is_file = Path.is_file

    def is_file(path):
        if path.parent == private:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_is_file(path)

    monkeypatch.setattr(Path, "is_file", is_file)
    with pytest.raises(mnist_files.MNISTError, match=f"cannot look into the folder {private}: permission denied"):
        mn.load_mnist("test", download=False)


# ---------------------------------------------------------------------------------------------
# offline: say what to do and where we looked
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("download", [True, False])
def test_offline_message_names_the_fix_and_the_folders(isolated, tmp_path, download):
    root = tmp_path / "root"
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=root, download=download)
    message = str(info.value)
    assert FIX in message
    assert str(root) in message and str(isolated) in message  # every folder searched
    if download:
        assert "download failed" in message and mnist_files.MIRRORS[0] in message
    else:
        assert "download=False" in message
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_offline_message_without_root_lists_env_and_data_dirs(isolated, tmp_path, monkeypatch):
    env = tmp_path / "empty_env"
    env.mkdir()
    monkeypatch.setenv("MATHNN_DATA", str(env))
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("train")
    message = str(info.value)
    assert FIX in message and str(env) in message and str(isolated) in message
    assert list(env.iterdir()) == [] and list(isolated.iterdir()) == []  # the failed download left nothing


# ---------------------------------------------------------------------------------------------
# downloads from a local HTTP server
# ---------------------------------------------------------------------------------------------


class MirrorServer:
    """A local HTTP server: routes[path] = (mode, body); mode is "ok", "short", "trickle" or "404"."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                mode, body = server.routes.get(self.path, ("404", b""))
                if mode == "404":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                # "short": announce the whole body, send half of it, then hang up
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if mode == "trickle":  # one byte every 50 ms
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.05)
                    else:
                        self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def mirror(self, name):
        return f"{self.url}/{name}/"


@pytest.fixture
def server():
    s = MirrorServer()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def test_interrupted_download_leaves_nothing(isolated, tmp_path, server, monkeypatch):
    body = gzip.compress(idx_bytes((10000, 28, 28)) + os.urandom(50_000))  # ~58 kB, sent in several chunks
    server.routes[f"/short/{TEST_IMAGES}"] = ("short", body)
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("short")])
    cache = tmp_path / "cache"
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=cache)
    message = str(info.value)
    assert server.mirror("short") + TEST_IMAGES in message
    assert f"interrupted: received {len(body) // 2:,} of {len(body):,} bytes" in message
    assert FIX in message
    assert sorted(os.listdir(cache)) == []  # no partial file, no .part
    assert server.requests == [f"/short/{TEST_IMAGES}"]


def test_corrupt_download_leaves_nothing(isolated, tmp_path, server, monkeypatch):
    server.routes[f"/bad/{TEST_IMAGES}"] = ("ok", gzip.compress(idx_bytes((10000, 28, 28))))  # wrong bytes
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("bad")])
    cache = tmp_path / "cache"
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=cache)
    message = str(info.value)
    assert "SHA-256" in message and server.mirror("bad") + TEST_IMAGES in message
    assert ".part" not in message  # talks about the download, not about a temporary file
    assert sorted(os.listdir(cache)) == []


def serve_real(server, real_mnist_dir, mirror, names):
    for name in names:
        server.routes[f"/{mirror}/{name}"] = ("ok", (real_mnist_dir / name).read_bytes())


def test_good_download_lands_verified_in_the_cache(isolated, tmp_path, server, monkeypatch, real_mnist_dir):
    serve_real(server, real_mnist_dir, "good", mnist_files.FILES["test"])
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("good")])
    X, y = mn.load_mnist("test")  # no root: downloads into data/ (here: the tmp REPO_DATA)
    assert X.shape == (784, 10000) and np.bincount(y).tolist() == TEST_COUNTS
    assert sorted(os.listdir(isolated)) == sorted(mnist_files.FILES["test"])  # exactly the two files, no leftovers
    for name in mnist_files.FILES["test"]:
        assert (isolated / name).read_bytes() == (real_mnist_dir / name).read_bytes()
    requests = len(server.requests)
    mn.load_mnist("test")  # cached now: no new request
    assert len(server.requests) == requests == 2


def test_first_mirror_404_second_works(isolated, tmp_path, server, monkeypatch, real_mnist_dir):
    serve_real(server, real_mnist_dir, "second", mnist_files.FILES["test"])
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("first"), server.mirror("second")])
    cache = tmp_path / "cache"
    X, y = mn.load_mnist("test", root=cache)  # with a root, the download goes there
    assert X.shape == (784, 10000) and y.shape == (10000,)
    assert sorted(os.listdir(cache)) == sorted(mnist_files.FILES["test"])
    assert server.requests == [f"/first/{TEST_IMAGES}", f"/second/{TEST_IMAGES}",
                               f"/first/{TEST_LABELS}", f"/second/{TEST_LABELS}"]
    assert list(isolated.iterdir()) == []


def test_download_reports_every_mirror(isolated, tmp_path, server):
    with pytest.raises(mnist_files.MNISTError) as info:
        mnist_files.download(TEST_LABELS, tmp_path / "d", mirrors=[server.mirror("a"), server.mirror("b")],
                             progress=False)
    message = str(info.value)
    assert server.mirror("a") + TEST_LABELS in message and server.mirror("b") + TEST_LABELS in message
    assert "404" in message
    assert list((tmp_path / "d").iterdir()) == []


def test_download_goes_into_mathnn_data_when_set(isolated, tmp_path, server, monkeypatch, real_mnist_dir):
    """Without root, $MATHNN_DATA is both the first folder searched and the download folder."""
    serve_real(server, real_mnist_dir, "good", mnist_files.FILES["test"])
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("good")])
    env = tmp_path / "my_mnist"
    monkeypatch.setenv("MATHNN_DATA", str(env))
    mn.load_mnist("test")
    assert sorted(os.listdir(env)) == sorted(mnist_files.FILES["test"])
    assert list(isolated.iterdir()) == []


def test_installed_package_downloads_into_the_user_cache(isolated, tmp_path, server, monkeypatch, real_mnist_dir):
    serve_real(server, real_mnist_dir, "good", mnist_files.FILES["test"])
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.mirror("good")])
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", False)
    X, _ = mn.load_mnist("test")
    assert X.shape == (784, 10000)
    assert sorted(os.listdir(tmp_path / "xdg_cache" / "mathnn")) == sorted(mnist_files.FILES["test"])
    assert list(isolated.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)], ids=["umask022", "umask027"])
def test_downloaded_file_has_the_usual_permissions(tmp_path, server, real_mnist_dir, umask, mode):
    """Not mkstemp's 0600: in a shared data folder every user must be able to read the files."""
    serve_real(server, real_mnist_dir, "good", [TEST_LABELS])
    old = os.umask(umask)
    try:
        path = mnist_files.download(TEST_LABELS, tmp_path / "shared", mirrors=[server.mirror("good")], progress=False)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_download_has_a_deadline(isolated, tmp_path, server, monkeypatch):
    """A server that sends a byte every 50 ms (never idle long enough for the read timeout) is given up
    after DOWNLOAD_DEADLINE seconds; without a deadline this one would take 3 s, a real one hours."""
    server.routes[f"/slow/{TEST_LABELS}"] = ("trickle", os.urandom(60))
    monkeypatch.setattr(mnist_files, "DOWNLOAD_DEADLINE", 0.5)
    cache = tmp_path / "cache"
    start = time.monotonic()
    with pytest.raises(mnist_files.MNISTError) as info:
        mnist_files.download(TEST_LABELS, cache, mirrors=[server.mirror("slow")], progress=False)
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert "download too slow" in message and "of 60 bytes after 0.5 s" in message
    assert 0.5 <= elapsed < 2.5  # without the deadline: 3 s
    assert list(cache.iterdir()) == []


def test_stale_part_files_are_removed_young_ones_kept(tmp_path, server, real_mnist_dir):
    """A .part older than any download can last was left by a killed attempt; a young one may be
    a download running in another process right now."""
    serve_real(server, real_mnist_dir, "good", [TEST_LABELS])
    cache = tmp_path / "cache"
    cache.mkdir()
    stale, young = cache / f".{TEST_LABELS}.dead0001.part", cache / f".{TEST_LABELS}.live0002.part"
    stale.write_bytes(b"half a download")
    young.write_bytes(b"a download in progress")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    mnist_files.download(TEST_LABELS, cache, mirrors=[server.mirror("good")], progress=False)
    assert sorted(os.listdir(cache)) == sorted([TEST_LABELS, young.name])


def test_read_only_download_folder_is_named(isolated, tmp_path, monkeypatch):
    """Creating the temporary file fails as in a folder without write permission (simulated: tests
    may run as root); the error names the folder and the two ways out, and nothing is fetched."""
    cache = tmp_path / "read_only"
    cache.mkdir()

    def open_read_only(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(mnist_files, "open", open_read_only, raising=False)  # the module's `open`, not builtins
    with pytest.raises(mnist_files.MNISTError) as info:
        mn.load_mnist("test", root=cache)
    message = str(info.value)
    assert f"cannot write into the folder {cache} (Permission denied)" in message
    assert "set MATHNN_DATA" in message and "root=" in message
    assert "download failed" in message and mnist_files.MIRRORS[0] not in message  # no mirror was tried


# ---------------------------------------------------------------------------------------------
# the train/validation split
# ---------------------------------------------------------------------------------------------


def test_split_train_val_sizes_disjoint_and_complete():
    m = 50
    X, _ = numbered(m)  # column j holds j
    y = np.arange(m) + 1000
    X_train, y_train, X_val, y_val = mn.split_train_val(X, y, 12, np.random.default_rng(3))
    assert X_train.shape == (3, 38) and y_train.shape == (38,)
    assert X_val.shape == (3, 12) and y_val.shape == (12,)
    train_ids, val_ids = X_train[0].astype(int), X_val[0].astype(int)
    assert set(train_ids).isdisjoint(val_ids)
    assert sorted([*train_ids, *val_ids]) == list(range(m))  # every example, once
    assert train_ids.tolist() == sorted(train_ids) and val_ids.tolist() == sorted(val_ids)  # order kept
    np.testing.assert_array_equal(y_train, train_ids + 1000)  # labels stay with their images
    np.testing.assert_array_equal(y_val, val_ids + 1000)
    np.testing.assert_array_equal(X_val, X[:, val_ids])  # whole columns
    assert X_train.flags.f_contiguous and X_val.flags.f_contiguous


def test_split_train_val_is_fixed_by_the_seed():
    X, _ = numbered(100)
    y = np.arange(100)

    def val_ids(seed):
        return mn.split_train_val(X, y, 10, np.random.default_rng(seed))[3].tolist()

    assert val_ids(0) == val_ids(0)
    assert val_ids(0) != val_ids(1)


@pytest.mark.parametrize("num_val", [0, -1, 5, 6])
def test_split_train_val_rejects_bad_num_val(num_val):
    X, _ = numbered(5)
    with pytest.raises(ValueError, match=f"between 1 and 4.*got {num_val}"):
        mn.split_train_val(X, np.arange(5), num_val, np.random.default_rng(0))


def test_split_train_val_needs_an_rng():
    X, _ = numbered(5)
    with pytest.raises(ValueError, match="explicit rng"):
        mn.split_train_val(X, np.arange(5), 2)


def test_load_mnist_splits(mnist):
    splits = mn.load_mnist_splits()
    assert mn.load_mnist_splits() is splits  # loaded once per process
    assert [a.shape for a in splits] == [(784, 55000), (55000,), (784, 5000), (5000,), (784, 10000), (10000,)]
    for array in splits:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    # the validation images are the documented ones: a permutation by default_rng(SPLIT_SEED)
    X, y = mnist["train"]
    val_idx = np.sort(np.random.default_rng(SPLIT_SEED).permutation(60000)[: NUM_VAL])
    train_idx = np.setdiff1d(np.arange(60000), val_idx)
    np.testing.assert_array_equal(splits.y_val, y[val_idx])
    np.testing.assert_array_equal(splits.X_val, X[:, val_idx])
    np.testing.assert_array_equal(splits.y_train, y[train_idx])
    np.testing.assert_array_equal(splits.X_train, X[:, train_idx])
    np.testing.assert_array_equal(splits.X_test, mnist["test"][0])
    np.testing.assert_array_equal(splits.y_test, mnist["test"][1])
    # no image in two parts (MNIST holds no exact duplicate, so the sets are as large as the parts)
    train, val, test = ({column.tobytes() for column in X_part.T} for X_part in splits[::2])
    assert (len(train), len(val), len(test)) == (55000, 5000, 10000)
    assert train.isdisjoint(val) and train.isdisjoint(test) and val.isdisjoint(test)


# ---------------------------------------------------------------------------------------------
# the shared copy: .npy files that every process maps
# ---------------------------------------------------------------------------------------------


def memmap_of(array):
    """The np.memmap at the end of array's .base chain, or None when array does not view a memory map."""
    while array is not None and not isinstance(array, np.memmap):
        array = array.base
    return array


@pytest.fixture
def gz_folder(isolated, tmp_path, real_mnist_dir):
    """A writable folder holding (links to) the four real .gz files; the per-user cache is tmp_path/xdg_cache."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in mnist_files.SHA256:
        (folder / name).symlink_to(real_mnist_dir / name)
    return folder


def shared_files(folder):
    """The files in folder besides the .gz files and the (empty) lock files of shared.build_lock."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith((".gz", ".lock")))


TEST_NPY = shared.shared_name("test")
TEST_FILES = [TEST_NPY, TEST_NPY + ".json"]


def test_splits_are_read_only_views_of_memory_maps_equal_to_the_old_split(mnist):
    """No private copy: X_train and X_val are two slices of one mapped file (in split order), X_test another;
    bit for bit and stride for stride what the old loader gave (load_mnist, then split_train_val's gather)."""
    splits = mn.load_mnist_splits()
    X, y = mnist["train"]
    old = (*mn.split_train_val(X, y, NUM_VAL, np.random.default_rng(SPLIT_SEED)), *mnist["test"])
    for name, new, before in zip(splits._fields, splits, old):
        assert new.dtype == before.dtype and new.shape == before.shape and new.strides == before.strides, name
        np.testing.assert_array_equal(new, before, err_msg=name)
    files = {name: memmap_of(getattr(splits, name)) for name in ("X_train", "X_val", "X_test")}
    assert Path(files["X_train"].filename).name == Path(files["X_val"].filename).name == shared.shared_name("train")
    assert Path(files["X_test"].filename).name == shared.shared_name("test")
    assert files["X_train"]._mmap is files["X_val"]._mmap  # one mapping holds both
    assert type(splits.X_train) is np.ndarray  # a plain array for the learner (shows as array([...]), not memmap)
    for name in ("X_train", "X_val", "X_test"):
        X_part = getattr(splits, name)
        assert np.shares_memory(X_part, files[name]) and X_part.flags.f_contiguous
        with pytest.raises(ValueError, match="read-only"):
            X_part[0, 0] = 1.0
        with pytest.raises(ValueError):  # a read-only map cannot be made writable
            X_part.flags.writeable = True
    assert not np.shares_memory(splits.X_train, splits.X_val)


def test_shared_copy_is_written_once_beside_the_gz_and_then_only_read(gz_folder, monkeypatch):
    rows = shared.shared_images("test", root=gz_folder)
    assert shared_files(gz_folder) == TEST_FILES  # beside the .gz, no temporary file left
    assert isinstance(rows, np.memmap) and rows.shape == (10000, 784) and not rows.flags.writeable
    np.testing.assert_array_equal(rows.T, mn.load_mnist("test", root=gz_folder)[0])  # the parsed .gz, bit for bit
    sidecar = json.loads((gz_folder / (TEST_NPY + ".json")).read_text())
    assert sidecar["source_idx_sha256"] == mnist_files.SHA256[TEST_IMAGES]
    assert sidecar["sha256"] == hashlib.sha256((gz_folder / TEST_NPY).read_bytes()).hexdigest()
    assert sidecar["shape"] == [10000, 784] and sidecar["dtype"] == "float32"
    monkeypatch.setattr(shared, "write_shared", None)  # a second load must not write (calling None would fail)
    again = shared.shared_images("test", root=gz_folder)
    np.testing.assert_array_equal(again, rows)
    assert not (gz_folder.parent / "xdg_cache").exists()


def test_shared_copy_is_written_atomically(gz_folder, monkeypatch):
    """A write that fails before its rename leaves the old copy intact and no temporary file; the rename is
    os.replace from a temporary file in the same folder (atomic), the .npy before its sidecar."""
    shared.shared_images("test", root=gz_folder)
    before = (gz_folder / TEST_NPY).read_bytes()
    renames = []

    def failing_replace(src, dst):
        renames.append((Path(src), Path(dst)))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shared.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        shared.write_shared(gz_folder, "test", np.zeros((10000, 784), np.float32), {"format": 0})
    src, dst = renames[0]
    assert dst == gz_folder / TEST_NPY and src.parent == gz_folder and src.name.endswith(".part")
    assert shared_files(gz_folder) == TEST_FILES  # the temporary files are gone
    assert (gz_folder / TEST_NPY).read_bytes() == before
    monkeypatch.undo()
    np.testing.assert_array_equal(shared.shared_images("test", root=gz_folder).T,
                                  mn.load_mnist("test", root=gz_folder)[0])


def test_a_killed_writers_temporary_files_are_removed(gz_folder):
    """A .part older than any write can take was left by a killed process; a young one may be a write under way."""
    stale, young = gz_folder / f".{TEST_NPY}.dead0001.part", gz_folder / f".{TEST_NPY}.json.live0002.part"
    stale.write_bytes(b"half a copy")
    young.write_bytes(b"a copy being written")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    shared.shared_images("test", root=gz_folder)
    assert shared_files(gz_folder) == sorted([young.name, *TEST_FILES])


def test_read_only_folder_falls_back_to_the_user_cache(gz_folder):
    """chmod a-w: the folder is left alone (even by root, who could write into it anyway)."""
    gz_folder.chmod(0o555)
    try:
        with pytest.warns(UserWarning, match=r"no shared copy .* made one for this user only.*data prepare"):
            rows = shared.shared_images("test", root=gz_folder)
        assert shared_files(gz_folder) == []
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the user's own copy, made once, is then used without a word
            again = shared.shared_images("test", root=gz_folder)
    finally:
        gz_folder.chmod(0o755)
    cache = gz_folder.parent / "xdg_cache" / "mathnn"
    assert Path(rows.filename) == Path(again.filename) == cache / TEST_NPY and shared_files(cache) == TEST_FILES


def test_folder_where_writing_fails_falls_back_to_the_user_cache(gz_folder, monkeypatch):
    """Writable by its permission bits, but creating a file fails (a read-only mount, another owner): a real attempt."""
    real_open = open

    def refusing_open(path, mode="r", *args, **kwargs):
        if "x" in mode and Path(path).parent == gz_folder:
            raise PermissionError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(shared, "open", refusing_open, raising=False)
    with pytest.warns(UserWarning, match=r"cannot write into .*Read-only file system.*made one for this user only"):
        rows = shared.shared_images("test", root=gz_folder)
    assert Path(rows.filename).parent == gz_folder.parent / "xdg_cache" / "mathnn"
    assert shared_files(gz_folder) == []


def test_no_writable_folder_is_a_clear_error(gz_folder, monkeypatch):
    gz_folder.chmod(0o555)

    def refusing_open(path, mode="r", *args, **kwargs):  # creating a file fails, reading works
        if "x" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(shared, "open", refusing_open, raising=False)
    try:
        with pytest.raises(mnist_files.MNISTError) as info:
            shared.shared_images("test", root=gz_folder)
    finally:
        gz_folder.chmod(0o755)
    message = str(info.value)
    assert f"{gz_folder} is read-only" in message
    assert f"cannot write into {gz_folder.parent / 'xdg_cache' / 'mathnn'} (Permission denied)" in message
    assert "XDG_CACHE_HOME" in message


def truncate(npy, sidecar):
    npy.write_bytes(npy.read_bytes()[: npy.stat().st_size // 2])


def flip_one_pixel(npy, sidecar):
    raw = bytearray(npy.read_bytes())
    raw[-1] ^= 0x40  # the last pixel's float32, same size: only the SHA-256 can tell
    npy.write_bytes(bytes(raw))


def break_sidecar_json(npy, sidecar):
    sidecar.write_text(sidecar.read_text()[:-10])


def other_source(npy, sidecar):
    """The sidecar describes a copy made from another .gz file."""
    record = json.loads(sidecar.read_text())
    record["source_gz_sha256"] = "0" * 64
    sidecar.write_text(json.dumps(record))


def older_format(npy, sidecar):
    record = json.loads(sidecar.read_text())
    record["format"] = 0
    sidecar.write_text(json.dumps(record))


def sidecar_lost(npy, sidecar):
    sidecar.unlink()


def npy_lost(npy, sidecar):
    npy.unlink()


def blank_images_with_a_matching_sidecar(npy, sidecar):
    """Someone with write access replaces the images by zeros and records their SHA-256 in the sidecar: the
    sidecar vouches for them, so only the SHA-256 pinned in the code can tell (issue 21)."""
    rows = np.load(npy)
    npy.unlink()
    np.save(npy, np.zeros_like(rows))
    record = json.loads(sidecar.read_text())
    record["sha256"] = shared.file_sha256(npy)
    sidecar.write_text(json.dumps(record))


DAMAGES = {
    truncate: "is truncated or corrupt",
    flip_one_pixel: "fails the SHA-256 of the official MNIST images",
    blank_images_with_a_matching_sidecar: "fails the SHA-256 of the official MNIST images",
    break_sidecar_json: "unreadable (JSONDecodeError",
    other_source: "records other source_gz_sha256",
    older_format: "records other format",
    sidecar_lost: "unreadable (FileNotFoundError",
    npy_lost: "unreadable (FileNotFoundError",
}


@pytest.mark.parametrize("damage", DAMAGES, ids=[f.__name__ for f in DAMAGES])
def test_damaged_copy_is_detected_and_rebuilt(gz_folder, damage):
    shared.shared_images("test", root=gz_folder)
    npy, sidecar = gz_folder / TEST_NPY, gz_folder / (TEST_NPY + ".json")
    good_npy, good_sidecar = npy.read_bytes(), sidecar.read_text()
    damage(npy, sidecar)
    with pytest.warns(UserWarning, match=re.escape(DAMAGES[damage])) as record:
        rows = shared.shared_images("test", root=gz_folder)
    assert str(gz_folder) in str(record[0].message)
    np.testing.assert_array_equal(rows.T, mn.load_mnist("test", root=gz_folder)[0])
    assert npy.read_bytes() == good_npy and sidecar.read_text() == good_sidecar  # rebuilt in place
    assert shared_files(gz_folder) == TEST_FILES


def test_damaged_copy_in_a_read_only_folder_is_replaced_by_one_in_the_cache(gz_folder):
    shared.shared_images("test", root=gz_folder)
    flip_one_pixel(gz_folder / TEST_NPY, None)
    gz_folder.chmod(0o555)
    try:
        with pytest.warns(UserWarning, match="fails the SHA-256") as record:
            rows = shared.shared_images("test", root=gz_folder)
    finally:
        gz_folder.chmod(0o755)
    cache = gz_folder.parent / "xdg_cache" / "mathnn"
    assert Path(rows.filename) == cache / TEST_NPY and str(cache) in str(record[0].message)
    np.testing.assert_array_equal(rows.T, mn.load_mnist("test", root=gz_folder)[0])


def test_a_replaced_gz_is_verified_before_a_copy_is_made_from_it(gz_folder):
    shared.shared_images("test", root=gz_folder)
    (gz_folder / TEST_IMAGES).unlink()
    write_gz(gz_folder / TEST_IMAGES, idx_bytes((10000, 28, 28)))  # right shape, wrong pixels
    with pytest.raises(mnist_files.MNISTError, match="fails its SHA-256 check"):
        shared.shared_images("test", root=gz_folder)


SHARED_CHILD = """
import json, os, sys
from pathlib import Path
import numpy as np
from mathnn import shared
rows = shared.shared_images("test", root=sys.argv[1])
anon = lambda: int(next(l for l in open("/proc/self/smaps_rollup") if l.startswith("Anonymous:")).split()[1])
before = anon()
total = float(rows.sum(dtype=np.float64))  # touch every pixel
inode = next(l.split()[4] for l in open("/proc/self/maps") if l.rstrip().endswith(shared.shared_name("test")))
print(json.dumps({"file": str(rows.filename), "inode": int(inode), "sum": total, "anonymous_kb": anon() - before}))
"""


def test_two_processes_map_the_same_file(gz_folder):
    """Two processes started at once on an empty folder both get the images (one copy is left, no temporary
    file); two more map that very file (same inode) and touching every pixel costs them no private memory."""
    def run_two():
        env = {**os.environ, "XDG_CACHE_HOME": str(gz_folder.parent / "xdg_cache")}
        procs = [subprocess.Popen([sys.executable, "-c", SHARED_CHILD, str(gz_folder)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [proc.communicate(timeout=120) for proc in procs]
        assert all(proc.returncode == 0 for proc in procs), [err for _, err in outs]
        assert not any("Warning" in err for _, err in outs), [err for _, err in outs]  # no rebuild: one waited
        return [json.loads(out) for out, _ in outs]

    first = run_two()
    assert first[0]["sum"] == first[1]["sum"] > 0
    assert shared_files(gz_folder) == TEST_FILES
    assert [r["inode"] for r in first] == [(gz_folder / TEST_NPY).stat().st_ino] * 2, "one copy, built once"
    second = run_two()
    inode = (gz_folder / TEST_NPY).stat().st_ino
    assert [r["inode"] for r in second] == [inode, inode]
    assert all(Path(r["file"]) == gz_folder / TEST_NPY for r in second)
    assert all(r["anonymous_kb"] < 4096 for r in second + first), second  # a private copy: 30,625 kB


def test_prepare_shared_folder_then_learners_read_it_read_only(gz_folder, monkeypatch):
    """The instructor's step: afterwards the folder may be read-only, and loading from it writes nothing."""
    old = os.umask(0o077)  # even under a strict umask, the class can read what it writes
    try:
        paths = shared.prepare_shared_folder(gz_folder, download_ok=False)
    finally:
        os.umask(old)
    assert shared_files(gz_folder) == sorted([*TEST_FILES, shared.shared_name("train"),
                                              shared.shared_name("train") + ".json"])
    assert set(paths) == {gz_folder / name for name in os.listdir(gz_folder)}
    assert all((gz_folder / name).stat().st_mode & 0o777 == 0o644 for name in shared_files(gz_folder))
    stamps = {name: (gz_folder / name).stat().st_mtime_ns for name in shared_files(gz_folder)}
    assert shared.prepare_shared_folder(gz_folder, download_ok=False) == paths  # valid copies are kept
    assert stamps == {name: (gz_folder / name).stat().st_mtime_ns for name in shared_files(gz_folder)}
    gz_folder.chmod(0o555)
    monkeypatch.setattr(shared, "write_shared", None)  # loading must not write
    try:
        rows = shared.shared_images("train", root=gz_folder)
    finally:
        gz_folder.chmod(0o755)
    assert Path(rows.filename) == gz_folder / shared.shared_name("train")
    assert not (gz_folder.parent / "xdg_cache").exists()


def test_prepare_shared_folder_errors(gz_folder, tmp_path, monkeypatch):
    with pytest.raises(mnist_files.MNISTError, match="is not a folder: create it"):
        shared.prepare_shared_folder(tmp_path / "nowhere")
    (gz_folder / TEST_LABELS).unlink()
    with pytest.raises(mnist_files.MNISTError, match=f"{re.escape(str(gz_folder / TEST_LABELS))} is missing"):
        shared.prepare_shared_folder(gz_folder, download_ok=False)
    (gz_folder / TEST_LABELS).symlink_to(Path(REAL_MNIST_DIR) / TEST_LABELS)

    def refusing_open(path, mode="r", *args, **kwargs):  # creating a file fails, reading works
        if "x" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(shared, "open", refusing_open, raising=False)
    with pytest.raises(mnist_files.MNISTError, match=r"cannot write into .* \(Permission denied\): make it writable"):
        shared.prepare_shared_folder(gz_folder, download_ok=False)
    monkeypatch.undo()
    gz_folder.chmod(0o700)
    try:
        unreadable = f"learners could not read {re.escape(str(gz_folder))}: chmod a\\+rX"
        with pytest.raises(mnist_files.MNISTError, match=unreadable):
            shared.prepare_shared_folder(gz_folder, download_ok=False)
    finally:
        gz_folder.chmod(0o755)


# ---------------------------------------------------------------------------------------------
# one_hot
# ---------------------------------------------------------------------------------------------


def test_one_hot_values():
    y = np.array([3, 0, 9, 3, 5])
    Y = mn.one_hot(y)
    assert Y.shape == (10, 5) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.eye(10, dtype=np.float32)[:, y])
    np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    np.testing.assert_array_equal(Y.argmax(axis=0), y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8])
def test_one_hot_dtype(dtype):
    Y = mn.one_hot(np.array([2, 0]), 3, dtype=dtype)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y, [[0, 1], [0, 0], [1, 0]])
    assert mn.one_hot(np.array([], dtype=int), 3, dtype=dtype).dtype == dtype


def test_one_hot_num_classes_lists_and_empty():
    np.testing.assert_array_equal(mn.one_hot([2, 0, 1, 2], num_classes=3),
                                  [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    assert mn.one_hot(np.array([], dtype=np.int64)).shape == (10, 0)


@pytest.mark.parametrize("y", [[0, 10], [-1, 3], [12]])
def test_one_hot_rejects_labels_out_of_range(y):
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        mn.one_hot(np.array(y))


# ---------------------------------------------------------------------------------------------
# minibatches
# ---------------------------------------------------------------------------------------------


def numbered(m, order="F"):
    """X (3, m) and Y (2, m) whose columns carry their index j (X[0] = j, Y[1] = 100 + j)."""
    j = np.arange(m, dtype=np.float64)
    X = np.asarray(np.stack([j, 2 * j, -j]), order=order)
    Y = np.stack([np.zeros(m), 100 + j])
    return X, Y


@pytest.mark.parametrize("order", ["F", "C"])
def test_minibatches_cover_every_example_once_and_stay_aligned(order):
    X, Y = numbered(10, order)
    batches = list(mn.minibatches(X, Y, 4, np.random.default_rng(0)))
    assert [xb.shape for xb, _ in batches] == [(3, 4), (3, 4), (3, 2)]  # the last batch is partial
    assert [yb.shape for _, yb in batches] == [(2, 4), (2, 4), (2, 2)]
    ids = np.concatenate([xb[0] for xb, _ in batches]).astype(int)
    assert sorted(ids) == list(range(10))  # every example exactly once
    assert ids.tolist() != list(range(10))  # shuffled
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[:, xb[0].astype(int)])  # whole columns
        np.testing.assert_array_equal(yb[1], 100 + xb[0])  # Y aligned with X
        assert xb.flags.c_contiguous or xb.flags.f_contiguous
        assert yb.flags.c_contiguous or yb.flags.f_contiguous
        assert not np.shares_memory(xb, X) and not np.shares_memory(yb, Y)  # fresh arrays


def order_of(seed, m=50, batch_size=8, epochs=1):
    X, Y = numbered(m)
    rng = np.random.default_rng(seed)
    return [np.concatenate([xb[0] for xb, _ in mn.minibatches(X, Y, batch_size, rng)]).tolist()
            for _ in range(epochs)]


def test_minibatches_seed_determines_order():
    assert order_of(1) == order_of(1)
    assert order_of(1) != order_of(2)
    first, second = order_of(1, epochs=2)  # one rng, two epochs: a new shuffle each epoch
    assert first != second and sorted(first) == sorted(second)


def test_minibatches_batch_larger_than_m_and_real_layout(mnist):
    X, Y = numbered(5)
    (xb, yb), = list(mn.minibatches(X, Y, 64, np.random.default_rng(0)))
    assert xb.shape == (3, 5) and sorted(xb[0]) == [0, 1, 2, 3, 4]
    X, y = mnist["test"]
    Y = mn.one_hot(y)
    xb, yb = next(mn.minibatches(X, Y, 128, np.random.default_rng(0)))
    assert xb.shape == (784, 128) and xb.dtype == np.float32 and yb.shape == (10, 128)
    assert xb.flags.f_contiguous  # each example (column) contiguous, as in load_mnist's layout
