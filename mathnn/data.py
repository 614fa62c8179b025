"""MNIST: find it, download and verify it, and parse its IDX files.

The four official files (gzip-compressed IDX) are looked for in ``root``, then in
``$MATHNN_DATA``, then in the repository's ``data/`` folder. When they are missing
and ``download=True``, they are fetched from public mirrors into ``root`` (or
``data/``), checked against the SHA-256 of their decompressed bytes, and written
through a temporary file and an atomic rename, so the cache never holds half a file.

IDX format: a 4-byte magic number (0, 0, type code 0x08 = unsigned byte, number of
dimensions), then each dimension as a big-endian int32, then the data, row-major.
"""

import functools
import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO_DATA = Path(__file__).resolve().parent.parent / "data"

FILES = {  # split -> (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

SHA256 = {  # of the decompressed IDX bytes (same for every faithful copy of MNIST)
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]


class MNISTError(RuntimeError):
    """MNIST is missing, truncated, corrupt, or could not be downloaded."""


ADVICE = "Delete it and download it again."  # what to do about a bad file in the cache


def parse_idx(raw, name="IDX data", advice=ADVICE):
    """Parse decompressed IDX bytes into a uint8 array of the shape its header gives.

    Raises MNISTError for a wrong magic number, a short header, or a data length
    that differs from what the header promises. ``name`` and ``advice`` go into the message.
    """
    if len(raw) < 4:
        raise MNISTError(f"{name} is truncated: {len(raw)} bytes, not even an IDX header")
    zero0, zero1, type_code, ndim = raw[:4]
    if zero0 != 0 or zero1 != 0 or type_code != 0x08 or not 1 <= ndim <= 3:
        raise MNISTError(
            f"{name} has the wrong magic number 0x{raw[:4].hex()}; an MNIST IDX file starts "
            f"with 0x00000801 (labels) or 0x00000803 (images). Is it really an MNIST file? {advice}".rstrip()
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise MNISTError(f"{name} is truncated inside its header ({len(raw)} of {header_len} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header_len + int(np.prod(shape))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise MNISTError(
            f"{name} is {problem}: its header promises shape {shape}, i.e. {expected:,} bytes, "
            f"but it has {len(raw):,}. {advice}".rstrip()
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def read_idx_gz(path, sha256=None, name=None, advice=ADVICE):
    """Decompress and parse one .gz IDX file; check its SHA-256 when given.

    ``name`` (default: the path) and ``advice`` go into the error messages.
    """
    path = Path(path)
    name = str(path) if name is None else name
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (EOFError, OSError, zlib.error) as e:
        raise MNISTError(f"{name} is truncated or not a valid gzip file ({e}). {advice}".rstrip()) from e
    array = parse_idx(raw, name=name, advice=advice)
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise MNISTError(
            f"{name} fails its SHA-256 check: it is corrupt or not the official MNIST file. {advice}".rstrip()
        )
    return array


def search_dirs(root=None):
    """The folders looked in, in order: root, $MATHNN_DATA, the repository's data/."""
    dirs = [Path(root)] if root is not None else []
    if os.environ.get("MATHNN_DATA"):
        dirs.append(Path(os.environ["MATHNN_DATA"]))
    dirs.append(REPO_DATA)
    return dirs


def download(filename, dest_dir, mirrors=None, progress=True):
    """Fetch one file into dest_dir, trying each mirror in turn; return its path.

    The bytes go to a temporary file in dest_dir, are checked (all the bytes the
    server announced arrived; gzip, IDX header, SHA-256), and only then renamed into
    place. Raises MNISTError listing every mirror's failure when none works.
    """
    from tqdm.auto import tqdm

    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MNISTError(f"cannot create the folder {dest_dir} to download into: {e}") from e
    errors = []
    for mirror in mirrors or MIRRORS:
        url = mirror + filename
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=dest_dir)
        except OSError as e:
            raise MNISTError(f"cannot write to {dest_dir} to download into it: {e}") from e
        try:
            received = 0
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=filename, disable=not progress) as bar:
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
            # urllib returns a short body without complaint when the connection drops
            if total is not None and received != total:
                raise MNISTError(f"download interrupted: received {received:,} of {total:,} bytes")
            read_idx_gz(tmp, SHA256[filename], name="the downloaded file", advice="")
            os.replace(tmp, dest_dir / filename)
            return dest_dir / filename
        except Exception as e:  # network, truncation, corruption: try the next mirror
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise MNISTError("; ".join(errors))


def find_or_download(filename, root=None, download_ok=True):
    """Path of one MNIST file: the first folder that has it, else a fresh download."""
    dirs = search_dirs(root)
    for d in dirs:
        if (d / filename).is_file():
            return d / filename
    where = ", ".join(str(d) for d in dirs)
    if not download_ok:
        raise MNISTError(
            f"MNIST not found in {where} (download=False); "
            f"put the four files in data/ or set MATHNN_DATA"
        )
    try:
        return download(filename, dirs[0] if root is not None else REPO_DATA)
    except MNISTError as e:
        raise MNISTError(
            f"MNIST not found in {where}; download failed: {e}; "
            f"put the four files in data/ or set MATHNN_DATA"
        ) from None


def load_mnist(split="train", root=None, download=True):
    """Load an MNIST split as float arrays in column layout.

    split: "train" (60,000 images) or "test" (10,000).
    Returns X float32 (784, m) with pixels scaled to [0, 1], one image per column
    (stored column-major, so each image is contiguous), and y int64 (m,) labels 0-9.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    image_file, label_file = FILES[split]
    images = read_idx_gz(find_or_download(image_file, root, download), SHA256[image_file])
    labels = read_idx_gz(find_or_download(label_file, root, download), SHA256[label_file])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MNISTError(f"{image_file} {images.shape} and {label_file} {labels.shape} do not match")
    m = len(labels)
    X = (images.reshape(m, 784).astype(np.float32) / np.float32(255)).T  # (784, m), Fortran order
    return X, labels.astype(np.int64)


NUM_VAL = 5000  # validation images held out of the 60,000 training images
SPLIT_SEED = 0  # the seed of the one fixed train/validation split everybody uses


class MNISTSplits(NamedTuple):
    """MNIST in three parts. X_* (784, m) float32 column layout, y_* (m,) int64 labels.

    train: 55,000 images to learn from; val: 5,000 held-out training images to choose
    settings on (lr, init, number of epochs); test: the official 10,000, evaluated once, at the end.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split_train_val(X, y, num_val=NUM_VAL, rng=None):
    """Split X (784, m), y (m,) at random into (X_train, y_train, X_val, y_val).

    rng: a ``np.random.Generator``; the num_val validation examples are drawn without
    replacement, and both parts keep the original order of the examples. Returns
    X_train (784, m - num_val), y_train (m - num_val,), X_val (784, num_val), y_val (num_val,),
    column-major like X (each image contiguous).
    """
    if rng is None:
        raise ValueError("split_train_val needs an explicit rng, e.g. rng=np.random.default_rng(0)")
    m = len(y)
    if not 0 < num_val < m:
        raise ValueError(f"num_val must lie between 1 and {m - 1} (the number of examples - 1), got {num_val}")
    perm = rng.permutation(m)
    val_idx, train_idx = np.sort(perm[:num_val]), np.sort(perm[num_val:])
    X_rows = X.T  # (m, 784): gathering rows keeps every image contiguous
    return X_rows[train_idx].T, y[train_idx], X_rows[val_idx].T, y[val_idx]


@functools.lru_cache(maxsize=1)
def load_mnist_splits():
    """MNIST as :class:`MNISTSplits`: 55,000 train, 5,000 validation, 10,000 test images.

    The validation images are a fixed random 5,000 of the official training set
    (``split_train_val`` with ``np.random.default_rng(SPLIT_SEED)``), the same on every
    machine. Loaded once per process; the arrays are shared by every caller and therefore
    read-only (writing into one raises ``ValueError: assignment destination is read-only``;
    take a ``.copy()`` to change it).
    """
    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    splits = MNISTSplits(*split_train_val(X, y, NUM_VAL, np.random.default_rng(SPLIT_SEED)), X_test, y_test)
    for array in splits:
        array.flags.writeable = False
    return splits
