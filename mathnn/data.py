"""The course's data: MNIST in three parts, as the lessons load it (``mn.load_mnist_splits()``).

Built from the other data modules: :mod:`mathnn.mnist` (the files: found, downloaded, verified),
:mod:`mathnn.splits` (the fixed train/validation split) and :mod:`mathnn.shared` (the
decompressed copy every process maps); where the files live is decided in :mod:`mathnn.locations`.
"""

import functools
from typing import NamedTuple

import numpy as np

from mathnn.mnist import FILES, SHA256, find_or_download, load_mnist, read_idx_gz
from mathnn.shared import shared_images
from mathnn.splits import NUM_VAL, SPLIT_SEED, split_order, split_train_val

__all__ = ["MNISTSplits", "load_mnist_splits"]


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


@functools.lru_cache(maxsize=1)
def load_mnist_splits(dtype=np.float32):
    """MNIST as :class:`MNISTSplits`: 55,000 train, 5,000 validation, 10,000 test images.

    The validation images are a fixed random 5,000 of the official training set
    (``split_train_val`` with ``np.random.default_rng(SPLIT_SEED)``), the same on every
    machine. dtype: of the images X_* (784, m), as in :func:`mathnn.mnist.load_mnist`. Loaded once per
    process (again only after a call with another dtype).

    In float32 (the default, what the lessons use), X_train, X_val and X_test are views of
    memory maps of the shared copies (:func:`mathnn.shared.shared_images`): the operating system keeps one
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
        train_rows, order = shared_images("train"), split_order("train")
        m_train = len(order) - NUM_VAL
        splits = MNISTSplits(  # .view(np.ndarray): plain arrays, not np.memmap, viewing the maps (no copy)
            train_rows[:m_train].T.view(np.ndarray), labels["train"][order[:m_train]],  # (784, 55000), (55000,)
            train_rows[m_train:].T.view(np.ndarray), labels["train"][order[m_train:]],  # (784, 5000), (5000,)
            shared_images("test").T.view(np.ndarray), labels["test"],  # (784, 10000), (10000,)
        )
    for array in splits:
        array.flags.writeable = False
    return splits
