"""MNIST's four files: the IDX format, finding them, and their verified download.

The four official files (gzip-compressed IDX) are looked for in the folders
:func:`mathnn.locations.data_dirs` lists: ``root``, then ``$MATHNN_DATA``, then the default
folder (the repository's ``data/`` in a source checkout, else the per-user cache). When they are
missing and ``download=True``, they are fetched from public mirrors into the first of those
folders, checked against the SHA-256 of their decompressed bytes, and written through a
temporary file and an atomic rename, so the folder never holds half a file.

IDX format: a 4-byte magic number (0, 0, type code 0x08 = unsigned byte, number of
dimensions), then each dimension as a big-endian 32-bit integer, then the data, row-major.
"""

import contextlib
import errno
import gzip
import hashlib
import math
import os
import secrets
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from mathnn import locations
from mathnn.validate import validate_float_dtype

__all__ = ["MNISTError", "find_or_download", "load_mnist", "read_idx_gz"]

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

SIZE = {  # bytes after decompression: header + 60,000 or 10,000 images of 28 x 28, or labels
    "train-images-idx3-ubyte.gz": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte.gz": 8 + 60000,
    "t10k-images-idx3-ubyte.gz": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte.gz": 8 + 10000,
}

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
READ_TIMEOUT = 30  # seconds a download may wait for its next bytes
DOWNLOAD_DEADLINE = 300  # seconds one attempt (one file from one mirror) may take in all


class MNISTError(RuntimeError):
    """MNIST is missing, truncated, corrupt, unreadable, or could not be downloaded."""


ADVICE = "Delete it and download it again."  # what to do about a bad file in a data folder


def parse_idx_header(raw, name="IDX data", advice=ADVICE):
    """Check the magic number at the start of IDX bytes; return (shape, header length in bytes).

    ``raw`` needs only the header (4 + 4 * ndim bytes); data after it is ignored.
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
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    return shape, header_len


def parse_idx(raw, name="IDX data", advice=ADVICE):
    """Parse decompressed IDX bytes into a uint8 array of the shape its header gives.

    Raises MNISTError for a wrong magic number, a short header, or a data length
    that differs from what the header promises. ``name`` and ``advice`` go into the message.
    """
    shape, header_len = parse_idx_header(raw, name, advice)
    expected = header_len + math.prod(shape)
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise MNISTError(
            f"{name} is {problem}: its header promises shape {shape}, i.e. {expected:,} bytes, "
            f"but it has {len(raw):,}. {advice}".rstrip()
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def read_idx_gz(path, sha256=None, size=None, name=None, advice=ADVICE):
    """Decompress and parse one .gz IDX file into a uint8 array: images (m, 28, 28) or labels (m,).
    Checks its SHA-256 when given.

    size: the decompressed size expected (default: the official one, for a file named like
    an official MNIST file). The file is decompressed as a stream that stops early: after
    the header when it is wrong or promises more than ``size`` bytes, and in any case after
    the bytes the header promises plus one, so a gzip bomb is never expanded.
    ``name`` (default: the path) and ``advice`` go into the error messages.
    """
    path = Path(path)
    name = str(path) if name is None else name
    size = SIZE.get(path.name) if size is None else size
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(16)  # the longest IDX header: 4 + 4 * 3 bytes
            shape, header_len = parse_idx_header(head, name, advice)
            expected = header_len + math.prod(shape)
            if size is not None and expected > size:
                raise MNISTError(
                    f"{name} is not the MNIST file it is named after: its header promises shape {shape}, "
                    f"i.e. {expected:,} bytes, not {size:,}. {advice}".rstrip()
                )
            raw = head + f.read(max(expected + 1 - len(head), 0))  # one byte more reveals a file too long
    except PermissionError as e:
        raise MNISTError(
            f"cannot read {name}: permission denied. Ask the owner of the file to make it readable "
            f"(chmod a+r), or use a copy you can read (load_mnist(root=...) or MATHNN_DATA)"
        ) from e
    except (EOFError, OSError, zlib.error) as e:
        raise MNISTError(f"{name} is truncated or not a valid gzip file ({e}). {advice}".rstrip()) from e
    array = parse_idx(raw, name=name, advice=advice)
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise MNISTError(
            f"{name} fails its SHA-256 check: it is corrupt or not the official MNIST file. {advice}".rstrip()
        )
    return array


def cannot_write(folder, error):
    """The message for a download folder that cannot be written to."""
    if getattr(error, "errno", None) == errno.ENOSPC:
        return f"the disk holding {folder} is full: free some space, or set MATHNN_DATA to a folder on another disk"
    return (
        f"cannot write into the folder {folder} ({error.strerror or error}); download into a folder "
        f"you can write to: set MATHNN_DATA to it, or pass load_mnist(root=...)"
    )


def part_name(filename):
    """A new temporary name for filename: .FILENAME.PID-TOKEN.part (the PID tells whether its writer still runs)."""
    return f".{filename}.{os.getpid()}-{secrets.token_hex(4)}.part"


def writer_gone(part):
    """True when the .part file's name carries the PID of a process that no longer runs (on this machine)."""
    pid = part.name.rsplit(".", 2)[-2].split("-")[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs, as another user
        return False
    return False


def remove_stale_parts(dest_dir, filename):
    """Delete the .part files of filename that a killed download (or shared copy's write) left in dest_dir.

    Those whose writer (the PID in their name) no longer runs, at once; any other only when it is older
    than a download may take: it may belong to a download still running in another process (two
    notebooks started at once), or on another machine sharing the folder.
    """
    for part in dest_dir.glob(f".{filename}.*.part"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if writer_gone(part) or time.time() - part.stat().st_mtime > DOWNLOAD_DEADLINE + READ_TIMEOUT:
                part.unlink()


def fetch(url, out, desc, progress=True):
    """Copy the body at url into the binary file out, within DOWNLOAD_DEADLINE seconds.

    Raises MNISTError when the deadline passes or fewer bytes arrive than the server announced.
    """
    from tqdm.auto import tqdm

    start = time.monotonic()
    received = 0
    with urllib.request.urlopen(url, timeout=min(READ_TIMEOUT, DOWNLOAD_DEADLINE)) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        of_total = f" of {total:,}" if total else ""
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress) as bar:
            # read1 returns what has arrived, so a server trickling bytes cannot hold one read for long
            while chunk := response.read1(1 << 16):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if time.monotonic() - start > DOWNLOAD_DEADLINE:
                    raise MNISTError(
                        f"download too slow: {received:,}{of_total} bytes after {DOWNLOAD_DEADLINE:g} s"
                    )
    # urllib returns a short body without complaint when the connection drops
    if total is not None and received != total:
        raise MNISTError(f"download interrupted: received {received:,}{of_total} bytes")


def download(filename, dest_dir, mirrors=None, progress=True):
    """Fetch one file into dest_dir, trying each mirror in turn; return its path.

    The bytes go to a temporary file in dest_dir (created with the usual permissions, so a
    shared folder serves every user), are checked (all the bytes the server announced
    arrived; gzip, IDX header, SHA-256), and only then renamed into place. Raises MNISTError
    listing every mirror's failure when none works, or naming dest_dir when it is not writable.
    """
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MNISTError(cannot_write(dest_dir, e)) from e
    remove_stale_parts(dest_dir, filename)
    errors = []
    for mirror in mirrors or MIRRORS:
        url = mirror + filename
        tmp = dest_dir / part_name(filename)
        try:
            out = open(tmp, "xb")  # a new file, mode 0o666 minus the umask (0o644 under umask 022)
        except OSError as e:
            raise MNISTError(cannot_write(dest_dir, e)) from e
        try:
            with out:
                fetch(url, out, filename, progress)
            read_idx_gz(tmp, SHA256[filename], SIZE[filename], name="the downloaded file", advice="")
            os.replace(tmp, dest_dir / filename)
            return dest_dir / filename
        except urllib.error.HTTPError as e:  # the server answered: 404, 503, ...
            errors.append(f"{url}: {e}")
        except urllib.error.URLError as e:  # no network, no such host, refused: say so in words
            errors.append(f"{url}: cannot connect ({getattr(e, 'reason', e)}; no network?)")
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise MNISTError(f"the disk holding {dest_dir} is full: free some space, or set MATHNN_DATA to a "
                                 f"folder on another disk") from e
            errors.append(f"{url}: {e}")
        except Exception as e:  # network, slowness, truncation, corruption: try the next mirror
            errors.append(f"{url}: {e}")
        finally:
            tmp.unlink(missing_ok=True)
    raise MNISTError("; ".join(errors) + ("; without a network, copy the four MNIST .gz files into "
                                          f"{dest_dir} from a machine that has them"
                                          if all("no network?" in error for error in errors) else ""))


def find_or_download(filename, root=None, download_ok=True):
    """Path of one MNIST file: the first folder that has it, else a fresh download into the first folder."""
    try:
        dirs = locations.data_dirs(root)
    except NotADirectoryError as e:  # $MATHNN_DATA names a file or a broken link
        raise MNISTError(str(e)) from None
    for d in dirs:
        try:
            if (d / filename).is_file():
                return d / filename
        except PermissionError as e:
            raise MNISTError(
                f"cannot look into the folder {d}: permission denied. Ask its owner to open it "
                f"(chmod a+x), or use a folder you can read (load_mnist(root=...) or MATHNN_DATA)"
            ) from e
    where = ", ".join(str(d) for d in dirs) + locations.relative_data_note()
    fix = f"put the four files in {'data/' if locations.SOURCE_CHECKOUT else dirs[-1]} or set MATHNN_DATA"
    if not download_ok:
        raise MNISTError(f"MNIST not found in {where} (download=False); {fix}")
    try:
        return download(filename, dirs[0])
    except MNISTError as e:
        raise MNISTError(f"MNIST not found in {where}; download failed: {e}; {fix}") from None


def load_mnist(split="train", root=None, download=True, dtype=np.float32):
    """Load an MNIST split as float arrays in column layout.

    split: "train" (60,000 images) or "test" (10,000). dtype: a floating-point type, float32 by default.
    Returns X (784, m) of that dtype with pixels scaled to [0, 1], one image per column
    (stored column-major, so each image is contiguous), and y int64 (m,) labels 0-9.
    root: a folder searched first; download=False raises MNISTError instead of fetching.
    Each call decompresses the file into new arrays of the caller's own (writable, not shared
    with other processes); :func:`mathnn.data.load_mnist_splits` gives shared, read-only ones.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    dtype = validate_float_dtype(dtype, "load_mnist")
    image_file, label_file = FILES[split]
    images = read_idx_gz(find_or_download(image_file, root, download), SHA256[image_file], SIZE[image_file])
    labels = read_idx_gz(find_or_download(label_file, root, download), SHA256[label_file], SIZE[label_file])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MNISTError(f"{image_file} {images.shape} and {label_file} {labels.shape} do not match")
    m = len(labels)
    X = (images.reshape(m, 784).astype(dtype) / dtype.type(255)).T  # (784, m), Fortran order
    return X, labels.astype(np.int64)


def num_images(split):
    """How many images the official file of a split holds: 60,000 (train) or 10,000 (test)."""
    return (SIZE[FILES[split][0]] - 16) // 784
