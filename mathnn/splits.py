"""The one fixed split of MNIST's 60,000 training images: 55,000 to learn from, 5,000 to choose on.

The validation images are a random 5,000 of the official training set, drawn by
``np.random.default_rng(SPLIT_SEED)``: the same on every machine. The test set (the official
10,000) is not split; it is evaluated once, at the end.
"""

import numpy as np

from mathnn.mnist import num_images
from mathnn.validate import validate_rng

__all__ = ["NUM_VAL", "SPLIT_SEED", "split_train_val"]

NUM_VAL = 5000  # validation images held out of the 60,000 training images
SPLIT_SEED = 0  # the seed of the one fixed train/validation split everybody uses


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
    validate_rng(rng, "split_train_val")
    m = len(y)
    if not 0 < num_val < m:
        raise ValueError(f"num_val must lie between 1 and {m - 1} (the number of examples - 1), got {num_val}")
    train_idx, val_idx = split_indices(m, num_val, rng)
    X_rows = X.T  # (m, 784): gathering rows keeps every image contiguous
    return X_rows[train_idx].T, y[train_idx], X_rows[val_idx].T, y[val_idx]


def split_order(split):
    """Image numbers (m,) of a split's images, in the order the shared copy (:mod:`mathnn.shared`) stores them.

    test: the official order. train: the 55,000 training images, then the 5,000 validation
    images (each part in the official order, as :func:`split_train_val` with SPLIT_SEED gives
    them), so that X_train and X_val are two slices of one file rather than two copies.
    """
    m = num_images(split)
    if split == "test":
        return np.arange(m)
    return np.concatenate(split_indices(m, NUM_VAL, np.random.default_rng(SPLIT_SEED)))
