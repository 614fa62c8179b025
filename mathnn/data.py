"""MNIST: find it, download and verify it, and parse its IDX files.

The four official files (gzip-compressed IDX) are looked for in ``root``, then in
``$MATHNN_DATA``, then in the default folder: the repository's ``data/`` in a source
checkout, or the per-user cache ``$XDG_CACHE_HOME/mathnn`` (``~/.cache/mathnn``) when
mathnn is installed as a package. When they are missing and ``download=True``, they are
fetched from public mirrors into the first of those folders, checked against the SHA-256
of their decompressed bytes, and written through a temporary file and an atomic rename,
so the cache never holds half a file.

IDX format: a 4-byte magic number (0, 0, type code 0x08 = unsigned byte, number of
dimensions), then each dimension as a big-endian 32-bit integer, then the data, row-major.

The shared copy: ``load_mnist_splits()`` does not decompress the images in every process.
The first call writes them, once, as float32 ``.npy`` files beside the ``.gz`` files (or in
the per-user cache when that folder is read-only), and every later call, in any process,
maps those files read-only (``np.load(..., mmap_mode="r")``): the operating system keeps one
copy in memory for all the notebook kernels of a machine, instead of one per kernel.
``python -m mathnn data prepare DIR`` writes them into a class's shared folder in advance.
"""

import contextlib
import errno
import functools
import gzip
import hashlib
import json
import math
import os
import secrets
import time
import urllib.error
import urllib.request
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple

try:
    import fcntl  # Unix: a lock so that two kernels do not both build the shared copy
except ImportError:  # Windows: build_lock falls back to a lock file created exclusively
    fcntl = None

import numpy as np

from mathnn.shapes import check_float_dtype, check_rng

__all__ = ["MNISTError", "MNISTSplits", "NUM_VAL", "SPLIT_SEED", "find_or_download", "load_mnist", "load_mnist_splits",
           "prepare_shared_folder", "read_idx_gz", "shared_images", "split_train_val"]

CHECKOUT = Path(__file__).resolve().parent.parent  # the repository, when mathnn runs from a source checkout
REPO_DATA = CHECKOUT / "data"


def is_source_checkout(folder):
    """True when folder is a checkout of the mathnn repository (it has pyproject.toml and data/README.md)."""
    return (folder / "pyproject.toml").is_file() and (folder / "data" / "README.md").is_file()


SOURCE_CHECKOUT = is_source_checkout(CHECKOUT)  # False when mathnn is installed into site-packages

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


ADVICE = "Delete it and download it again."  # what to do about a bad file in the cache


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
    """Decompress and parse one .gz IDX file; check its SHA-256 when given.

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


def user_cache_dir():
    """The per-user cache: $XDG_CACHE_HOME/mathnn, or ~/.cache/mathnn when XDG_CACHE_HOME is unset or relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "mathnn"


def default_dir():
    """The folder searched last: the repository's data/ in a source checkout, else the per-user
    cache (:func:`user_cache_dir`), never the installed package's folder."""
    return REPO_DATA if SOURCE_CHECKOUT else user_cache_dir()


def search_dirs(root=None):
    """The folders looked in, in order: root, $MATHNN_DATA, default_dir().

    A relative $MATHNN_DATA is taken from the current working folder and returned absolute.
    """
    dirs = [Path(root)] if root is not None else []
    if os.environ.get("MATHNN_DATA"):
        env = Path(os.path.abspath(os.environ["MATHNN_DATA"]))
        if env.exists() and not env.is_dir():
            raise MNISTError(f"MATHNN_DATA={os.environ['MATHNN_DATA']} is a file, not a folder: set MATHNN_DATA to "
                             f"the folder that holds (or will hold) MNIST's four .gz files")
        if env.is_symlink() and not env.exists():
            raise MNISTError(f"MATHNN_DATA={os.environ['MATHNN_DATA']} is a symbolic link that leads nowhere (a "
                             f"broken link, or a loop): point MATHNN_DATA at a real folder")
        dirs.append(env)
    dirs.append(default_dir())
    return dirs


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


def relative_env_note():
    """A warning for the error message when $MATHNN_DATA is a relative path, else ''."""
    value = os.environ.get("MATHNN_DATA", "")
    if not value or os.path.isabs(value):
        return ""
    return (
        f" (MATHNN_DATA={value} is a relative path, so it was read from the working folder {os.getcwd()}; "
        f"a notebook's kernel works in notebooks/: set MATHNN_DATA to an absolute path)"
    )


def find_or_download(filename, root=None, download_ok=True):
    """Path of one MNIST file: the first folder that has it, else a fresh download into the first folder."""
    dirs = search_dirs(root)
    for d in dirs:
        try:
            if (d / filename).is_file():
                return d / filename
        except PermissionError as e:
            raise MNISTError(
                f"cannot look into the folder {d}: permission denied. Ask its owner to open it "
                f"(chmod a+x), or use a folder you can read (load_mnist(root=...) or MATHNN_DATA)"
            ) from e
    where = ", ".join(str(d) for d in dirs) + relative_env_note()
    fix = f"put the four files in {'data/' if SOURCE_CHECKOUT else dirs[-1]} or set MATHNN_DATA"
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
    with other processes); :func:`load_mnist_splits` gives shared, read-only ones.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    dtype = check_float_dtype(dtype, "load_mnist")
    image_file, label_file = FILES[split]
    images = read_idx_gz(find_or_download(image_file, root, download), SHA256[image_file], SIZE[image_file])
    labels = read_idx_gz(find_or_download(label_file, root, download), SHA256[label_file], SIZE[label_file])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise MNISTError(f"{image_file} {images.shape} and {label_file} {labels.shape} do not match")
    m = len(labels)
    X = (images.reshape(m, 784).astype(dtype) / dtype.type(255)).T  # (784, m), Fortran order
    return X, labels.astype(np.int64)


NUM_VAL = 5000  # validation images held out of the 60,000 training images
SPLIT_SEED = 0  # the seed of the one fixed train/validation split everybody uses


class MNISTSplits(NamedTuple):
    """MNIST in three parts. X_* (784, m) float column layout (float32 by default), y_* (m,) int64 labels.

    train: 55,000 images to learn from; val: 5,000 held-out training images to choose
    settings on (lr, init, number of epochs); test: the official 10,000, evaluated once, at the end.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split_indices(m, num_val, rng):
    """Column numbers (train_idx (m - num_val,), val_idx (num_val,)) of a random split of m examples.

    A permutation of range(m) drawn by rng; its first num_val numbers, sorted, are the validation
    examples, the others, sorted, the training examples.
    """
    perm = rng.permutation(m)
    return np.sort(perm[num_val:]), np.sort(perm[:num_val])


def split_train_val(X, y, num_val=NUM_VAL, rng=None):
    """Split X (784, m), y (m,) at random into (X_train, y_train, X_val, y_val).

    rng: a ``np.random.Generator``; the num_val validation examples are drawn without
    replacement, and both parts keep the original order of the examples. Returns
    X_train (784, m - num_val), y_train (m - num_val,), X_val (784, num_val), y_val (num_val,),
    column-major like X (each image contiguous).
    """
    check_rng(rng, "split_train_val")
    m = len(y)
    if not 0 < num_val < m:
        raise ValueError(f"num_val must lie between 1 and {m - 1} (the number of examples - 1), got {num_val}")
    train_idx, val_idx = split_indices(m, num_val, rng)
    X_rows = X.T  # (m, 784): gathering rows keeps every image contiguous
    return X_rows[train_idx].T, y[train_idx], X_rows[val_idx].T, y[val_idx]


# ---------------------------------------------------------------------------------------------
# The shared copy: the images decompressed once into .npy files that every process maps
# ---------------------------------------------------------------------------------------------

SHARED_FORMAT = 1  # the layout of the shared files; a copy whose sidecar records another one is rebuilt
# SHA-256 of the shared copies' arrays (their float32 bytes, little-endian, rows in shared_row_order), the
# same for every faithful copy: made from the official files (SHA256 above) as shared_rows_from_gz makes them.
# A copy is checked against these, not only against its sidecar, which anyone who can replace the .npy in a
# writable folder can rewrite too.
SHARED_SHA256 = {
    "train-images-idx3-ubyte.gz": "133a9295f63da39943a7466bb500c728b0693e11aba5a4fddc92955d69244e9d",
    "t10k-images-idx3-ubyte.gz": "bc9f8f501f39b3ca61f899a2f402edf2024bde012b73223431b6bd735e47a165",
}


def shared_name(split):
    """File name of the shared float32 copy of a split's images; its sidecar is this name + '.json'."""
    return f"mnist-{split}-images-float32.npy"


def file_sha256(path):
    """SHA-256 (hex) of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def num_images(split):
    """How many images the official file of a split holds: 60,000 (train) or 10,000 (test)."""
    return (SIZE[FILES[split][0]] - 16) // 784


def shared_row_order(split):
    """Image numbers (m,) in the order of the shared copy's rows.

    test: the official order. train: the 55,000 training images, then the 5,000 validation
    images (each part in the official order, as :func:`split_train_val` with SPLIT_SEED gives
    them), so that X_train and X_val are two slices of one file rather than two copies.
    """
    m = num_images(split)
    if split == "test":
        return np.arange(m)
    return np.concatenate(split_indices(m, NUM_VAL, np.random.default_rng(SPLIT_SEED)))


def shared_record(split, gz):
    """What the sidecar of a valid shared copy made from the .gz file gz records, besides the copy's own SHA-256."""
    return {
        "format": SHARED_FORMAT,
        "source": gz.name,
        "source_gz_sha256": file_sha256(gz),  # the very file it was made from (about 10 ms to check)
        "source_idx_sha256": SHA256[gz.name],  # the official content, checked when the copy was made
        "rows": "official order" if split == "test" else {"split_seed": SPLIT_SEED, "num_val": NUM_VAL},
        "dtype": "float32",
        "shape": [num_images(split), 784],
    }


def open_shared(npy, record):
    """Map npy read-only after checking it against its sidecar: (rows (m, 784) float32 memmap, '') when
    it is valid, (None, '') when there is no copy, (None, what is wrong) when it may not be used."""
    sidecar = npy.with_name(npy.name + ".json")
    if not npy.exists() and not sidecar.exists():
        return None, ""
    try:
        recorded = json.loads(sidecar.read_text())
        sha256 = recorded.pop("sha256")
        if recorded != record:
            changed = sorted(key for key in record.keys() | recorded.keys() if record.get(key) != recorded.get(key))
            return None, f"{sidecar} does not match (it records other {', '.join(changed)})"
        if not isinstance(sha256, str):
            return None, f"{sidecar} records no SHA-256 of the copy"
        try:
            rows = np.load(npy, mmap_mode="r")
        except ValueError as e:  # shorter than its header says, or not a .npy file
            return None, f"{npy} is truncated or corrupt ({e})"
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as e:
        return None, f"the shared copy {npy} or its sidecar is missing or unreadable ({type(e).__name__}: {e})"
    if rows.dtype != np.dtype("<f4") or list(rows.shape) != record["shape"] or not rows.flags.c_contiguous:
        return None, f"{npy} holds {rows.dtype} {rows.shape}, not C-ordered float32 {tuple(record['shape'])}"
    if hashlib.sha256(rows).hexdigest() != SHARED_SHA256.get(record["source"]):  # the array's bytes, not the sidecar's
        return None, (f"{npy} fails the SHA-256 of the official MNIST images (pinned in mathnn.data): it is "
                      f"truncated, corrupt or was changed")
    return rows, ""


def shared_rows_from_gz(split, gz):
    """The rows (m, 784) float32 of the shared copy, made from the verified .gz file gz (a private array)."""
    images = read_idx_gz(gz, SHA256[gz.name], SIZE[gz.name])  # (m, 28, 28) uint8, SHA-256 checked
    rows = images.reshape(len(images), 784)[shared_row_order(split)].astype(np.float32)
    rows /= np.float32(255)  # the same float32 division as load_mnist: bit for bit the same pixels
    return rows


def write_shared(folder, split, rows, record, mode=None):
    """Write rows as folder/shared_name(split) and its sidecar (the record and the .npy's SHA-256).

    Each file is written to a temporary file in folder and renamed into place (os.replace), so a
    reader finds the old file, the new one, or none, never half a file. mode: the files' permission
    bits (default: 0o666 minus the umask). Raises OSError when folder cannot be written to.
    """
    folder.mkdir(parents=True, exist_ok=True)
    npy = folder / shared_name(split)
    remove_stale_parts(folder, npy.name)  # what a killed writer left: 188 MB for train
    tmp_npy, tmp_json = folder / part_name(npy.name), folder / part_name(npy.name + ".json")
    try:
        with open(tmp_npy, "xb") as f:
            np.save(f, rows)
        with open(tmp_json, "x") as f:
            json.dump({**record, "sha256": file_sha256(tmp_npy)}, f, indent=1)
        if mode is not None:
            os.chmod(tmp_npy, mode)
            os.chmod(tmp_json, mode)
        os.replace(tmp_npy, npy)  # the .npy first: until the sidecar follows, readers see a mismatch and rebuild
        os.replace(tmp_json, folder / f"{npy.name}.json")
    finally:
        tmp_npy.unlink(missing_ok=True)
        tmp_json.unlink(missing_ok=True)
    return npy


@contextlib.contextmanager
def build_lock(folder, split, stale_seconds=120):
    """Hold an exclusive lock on folder/.mnist-{split}.lock while one process checks and builds the
    shared copy: another process that finds no valid copy waits, then finds the one just made.
    Raises OSError when folder cannot be written to.

    Where there is no fcntl (Windows), the lock is the file itself, created exclusively and deleted
    afterwards; a lock file older than stale_seconds (a build takes a few seconds) is taken to be
    left by a process that died, and is taken over. The lock only saves building a copy twice:
    every write is atomic, so two processes that both build one still leave a valid copy."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".mnist-{split}.lock"
    if fcntl is not None:
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    while True:
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            try:
                if time.time() - path.stat().st_mtime > stale_seconds:
                    path.unlink()
            except FileNotFoundError:
                pass  # released meanwhile
            time.sleep(0.1)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def read_only_by_mode(folder):
    """True when nobody may write into folder by its permission bits (chmod a-w): an instructor's shared
    folder. It is left alone even by root, who could write into it anyway."""
    try:
        return folder.stat().st_mode & 0o222 == 0
    except FileNotFoundError:
        return False  # not created yet (the per-user cache, the first time)


def shared_images(split, root=None):
    """A split's images as rows (m, 784) float32 in [0, 1]: a read-only memory map of its shared copy.

    The copy, ``mnist-{split}-images-float32.npy``, is looked for beside the split's images .gz
    file (found as :func:`load_mnist` finds it; root as there), then in the per-user cache
    (:func:`user_cache_dir`). Every call checks it against its sidecar (``.npy.json``), which
    records the SHA-256 of the .gz file it was made from (checked again: about 10 ms), the
    official SHA-256 of the decompressed content (checked once, when the copy was made), the
    row order, dtype and shape, and the SHA-256 of the .npy; on every call the array's bytes are checked
    against the SHA-256 pinned in the code (``SHARED_SHA256``), which no writer of the folder can change:
    we measured 0.1-0.2 s for the 220 MB of both splits (a CPU with SHA instructions, busy),
    for a whole load_mnist_splits() of 0.13-0.25 s, against 0.5-0.7 s for decompressing the
    .gz files as before. load_mnist_splits calls this once per process.

    A missing, truncated, corrupt or outdated copy is never used: it is rebuilt from the verified
    .gz file, beside it when that folder can be written to (a real attempt; a folder that nobody
    may write into by its permission bits is left alone), else in the per-user cache, with a
    warning when a copy was there but bad, or when a copy for this user alone was just made there
    (an instructor's shared folder that lacks its copies: ``python -m mathnn data prepare``). A valid
    copy in a read-only folder is used as it is, without writing anything. Raises MNISTError when no
    folder can hold a new copy.

    Rows follow :func:`shared_row_order` (train: the 55,000 training images, then the 5,000
    validation ones). The array is read-only: writing into it raises ValueError.
    """
    gz = find_or_download(FILES[split][0], root)
    record = shared_record(split, gz)
    folders = [gz.parent] + [folder for folder in [user_cache_dir()] if folder != gz.parent]
    rows, bad, unwritable = None, [], []
    for folder in folders:
        shared, problem = open_shared(folder / shared_name(split), record)
        bad += [problem] if problem else []
        if shared is None and read_only_by_mode(folder):
            unwritable.append(f"{folder} is read-only")
        elif shared is None:
            try:
                with build_lock(folder, split):
                    shared, _ = open_shared(folder / shared_name(split), record)  # made while we waited?
                    if shared is None:
                        rows = shared_rows_from_gz(split, gz) if rows is None else rows
                        shared = np.load(write_shared(folder, split, rows, record), mmap_mode="r")
            except OSError as e:
                full = " (free some space there)" if e.errno == errno.ENOSPC else ""
                unwritable.append(f"cannot write into {folder} ({e.strerror or e}){full}")
        if shared is not None:
            if bad:
                warnings.warn(f"{'; '.join(bad)}: not used; MNIST's {split} images now come from "
                              f"{folder / shared_name(split)}", stacklevel=2)
            elif folder != gz.parent and rows is not None:  # just made a copy of this user's own
                warnings.warn(f"MNIST's folder {gz.parent} has no shared copy of the {split} images and cannot be "
                              f"written to ({'; '.join(unwritable)}): made one for this user only, in {folder} "
                              f"(about {rows.nbytes >> 20} MB). For a class, run `python -m mathnn data prepare "
                              f"{gz.parent}` once, so that every user maps one copy", stacklevel=2)
            return shared
    raise MNISTError(f"no usable shared copy of MNIST's {split} images: {'; '.join(bad + unwritable)}. Make one of "
                     f"those folders writable, or set XDG_CACHE_HOME to a folder you can write to")


@functools.lru_cache(maxsize=1)
def load_mnist_splits(dtype=np.float32):
    """MNIST as :class:`MNISTSplits`: 55,000 train, 5,000 validation, 10,000 test images.

    The validation images are a fixed random 5,000 of the official training set
    (``split_train_val`` with ``np.random.default_rng(SPLIT_SEED)``), the same on every
    machine. dtype: of the images X_* (784, m), as in :func:`load_mnist`. Loaded once per
    process (again only after a call with another dtype).

    In float32 (the default, what the lessons use), X_train, X_val and X_test are views of
    memory maps of the shared copies (:func:`shared_images`): the operating system keeps one
    copy of their 220 MB for every process on the machine, and none of them is private. They
    are read-only: writing into one raises ``ValueError: assignment destination is read-only``;
    take a ``.copy()`` to change it. Each is column-major (each image contiguous), as
    load_mnist returns it. In another dtype they are private arrays, read-only too. The labels
    y_* are small private arrays, read-only as well.
    """
    if np.dtype(dtype) != np.float32:
        X, y = load_mnist("train", dtype=dtype)
        X_test, y_test = load_mnist("test", dtype=dtype)
        splits = MNISTSplits(*split_train_val(X, y, NUM_VAL, np.random.default_rng(SPLIT_SEED)), X_test, y_test)
    else:
        labels = {split: read_idx_gz(find_or_download(FILES[split][1]), SHA256[FILES[split][1]]).astype(np.int64)
                  for split in FILES}
        train_rows, order = shared_images("train"), shared_row_order("train")
        m_train = len(order) - NUM_VAL
        splits = MNISTSplits(  # .view(np.ndarray): plain arrays, not np.memmap, viewing the maps (no copy)
            train_rows[:m_train].T.view(np.ndarray), labels["train"][order[:m_train]],  # (784, 55000), (55000,)
            train_rows[m_train:].T.view(np.ndarray), labels["train"][order[m_train:]],  # (784, 5000), (5000,)
            shared_images("test").T.view(np.ndarray), labels["test"],  # (784, 10000), (10000,)
        )
    for array in splits:
        array.flags.writeable = False
    return splits


def prepare_shared_folder(folder, download_ok=True):
    """For an instructor: make folder a shared MNIST folder for a class, once; return the paths it holds.

    Checks the four .gz files in folder (downloads the missing ones when download_ok), checks
    that every user may read them, and writes the shared float32 copies with their sidecars
    (readable by everyone; a valid copy already there is kept). Afterwards learners set
    MATHNN_DATA to folder, which may then be made read-only (chmod -R a-w): loading from it
    maps the copies and writes nothing. Raises MNISTError (what is wrong, what to do).
    """
    folder = Path(folder).absolute()
    if not folder.is_dir():
        raise MNISTError(f"{folder} is not a folder: create it (mkdir -p {folder}) and run this again")
    paths = []
    for name in SHA256:
        path = folder / name
        if not path.is_file():
            if not download_ok:
                raise MNISTError(f"{path} is missing: copy the four MNIST .gz files into {folder}, or let this "
                                 f"command download them")
            download(name, folder)
        read_idx_gz(path, SHA256[name], SIZE[name])
        paths.append(path)
    for split in FILES:
        gz = folder / FILES[split][0]
        record = shared_record(split, gz)
        if open_shared(folder / shared_name(split), record)[0] is None:
            try:
                write_shared(folder, split, shared_rows_from_gz(split, gz), record, mode=0o644)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise MNISTError(cannot_write(folder, e)) from e
                raise MNISTError(f"cannot write into {folder} ({e.strerror or e}): make it writable for this "
                                 f"step (chmod u+w {folder}), then read-only again") from e
        paths += [folder / shared_name(split), folder / f"{shared_name(split)}.json"]
    unreadable = [folder] if folder.stat().st_mode & 0o005 != 0o005 else []  # others need r and x on the folder
    unreadable += [path for path in paths if path.stat().st_mode & 0o004 == 0]  # and r on every file
    if unreadable:
        raise MNISTError(f"learners could not read {', '.join(map(str, unreadable))}: "
                         f"chmod a+rX {' '.join(map(str, unreadable))}")
    return paths
