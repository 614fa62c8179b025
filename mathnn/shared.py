"""The shared copy: MNIST's images decompressed once, into files that every process maps.

``load_mnist_splits()`` does not decompress the images in every process. The first call writes
them, once, as float32 ``.npy`` files beside the ``.gz`` files (or in the per-user cache when that
folder is read-only), and every later call, in any process, maps those files read-only
(``np.load(..., mmap_mode="r")``): the operating system keeps one copy in memory for all the
notebook kernels of a machine, instead of one per kernel (a class on one JupyterHub).
``python -m mathnn data prepare DIR`` writes them into a class's shared folder in advance.

Each copy has a sidecar (``.npy.json``) that records what it was made from; every write goes
through a temporary file and an atomic rename, under a lock, and a folder nobody may write into
(chmod a-w) is only ever read.
"""

import contextlib
import errno
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

try:
    import fcntl  # Unix: a lock so that two kernels do not both build the shared copy
except ImportError:  # Windows: build_lock falls back to a lock file created exclusively
    fcntl = None

import numpy as np

from mathnn import locations
from mathnn.mnist import (
    FILES,
    SHA256,
    SIZE,
    MNISTError,
    cannot_write,
    download,
    find_or_download,
    num_images,
    part_name,
    read_idx_gz,
    remove_stale_parts,
)
from mathnn.splits import NUM_VAL, SPLIT_SEED, split_order

__all__ = ["prepare_shared_folder", "shared_images"]

SHARED_FORMAT = 1  # the layout of the shared files; a copy whose sidecar records another one is rebuilt
# SHA-256 of the shared copies' arrays (their float32 bytes, little-endian, rows in split_order), the
# same for every faithful copy: made from the official files (mnist.SHA256) as shared_rows_from_gz makes them.
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
        return None, (f"{npy} fails the SHA-256 of the official MNIST images (pinned in mathnn.shared): it is "
                      f"truncated, corrupt or was changed")
    return rows, ""


def shared_rows_from_gz(split, gz):
    """The rows (m, 784) float32 of the shared copy, made from the verified .gz file gz (a private array)."""
    images = read_idx_gz(gz, SHA256[gz.name], SIZE[gz.name])  # (m, 28, 28) uint8, SHA-256 checked
    rows = images.reshape(len(images), 784)[split_order(split)].astype(np.float32)
    rows /= np.float32(255)  # the same float32 division as load_mnist: bit for bit the same pixels
    return rows


def write_shared(folder, split, rows, record, mode=None):
    """Write rows (m, 784) float32 as folder/shared_name(split) and its sidecar (the record and the .npy's SHA-256).

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
    file (found as :func:`mathnn.mnist.load_mnist` finds it; root as there), then in the per-user cache
    (:func:`mathnn.locations.user_cache_dir`). Every call checks it against its sidecar (``.npy.json``), which
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

    Rows follow :func:`mathnn.splits.split_order` (train: the 55,000 training images, then the 5,000
    validation ones). The array is read-only: writing into it raises ValueError.
    """
    gz = find_or_download(FILES[split][0], root)
    record = shared_record(split, gz)
    folders = [gz.parent] + [folder for folder in [locations.user_cache_dir()] if folder != gz.parent]
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
