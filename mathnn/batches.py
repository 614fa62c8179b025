"""Targets and mini-batches: one-hot encoding and the shuffled batch iterator."""

import numpy as np

from mathnn.shapes import ShapeError, shapes


def one_hot(y, num_classes=10):
    """Labels y (m,) of ints in [0, num_classes) -> one-hot Y (num_classes, m), float32.

    Column j has a single 1, in row y[j].
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ShapeError(f"one_hot(): argument 'y' has shape {y.shape}, expected (m,)")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot(): labels must lie in [0, {num_classes}), got {y.min()}..{y.max()}")
    Y = np.zeros((num_classes, y.size), dtype=np.float32)
    Y[y, np.arange(y.size)] = 1
    return Y


@shapes(X="n0 m", Y="k m")
def minibatches(X, Y, batch_size, rng):
    """Shuffle once per epoch, then yield (X_batch (n0, B), Y_batch (k, B)) in that order.

    X (n0, m), Y (k, m); rng a ``np.random.Generator``. Each batch gathers whole
    examples (rows of X.T, contiguous when X is column-major as ``load_mnist``
    returns it) into a fresh contiguous array: no gathering along a strided axis,
    and the batch is still in cache when the matmuls read it. The last batch is
    smaller when batch_size does not divide m.
    """
    X_rows, Y_rows = X.T, Y.T  # (m, n0), (m, k): one example per row (views, no copy)
    perm = rng.permutation(X.shape[1])
    for start in range(0, len(perm), batch_size):
        idx = perm[start:start + batch_size]
        yield X_rows[idx].T, Y_rows[idx].T  # (n0, B), (k, B)
