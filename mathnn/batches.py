"""Targets and mini-batches: one-hot encoding and the shuffled batch iterator."""

import numpy as np

from mathnn.shapes import shapes
from mathnn.validate import ShapeError, validate_labels, validate_positive_int, validate_rng

__all__ = ["one_hot", "minibatches"]


def one_hot(y, num_classes=10, dtype=np.float32):
    """Labels y (m,) of ints in [0, num_classes) -> one-hot Y (num_classes, m) of dtype dtype.

    float32 by default, like the images; dtype=np.float64 for a float64 network (gradient checks).

    Column j has a single 1, in row y[j]. An empty y (m = 0) gives Y of shape (num_classes, 0).
    Labels that are not integers (3.0, 2.5, True, NaN) are refused, not rounded.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        hint = " (a column or row of labels? pass y.ravel())" if y.ndim == 2 and 1 in y.shape else ""
        raise ShapeError(f"one_hot(): argument 'y' has shape {y.shape}, expected (m,){hint}")
    validate_positive_int("num_classes", num_classes, "one_hot", "e.g. 10")
    if y.size == 0:
        return np.zeros((num_classes, 0), dtype=dtype)
    validate_labels(y, num_classes, "one_hot")
    Y = np.zeros((num_classes, y.size), dtype=dtype)
    Y[y, np.arange(y.size)] = 1
    return Y


@shapes(X="n0 m", Y="k m")
def minibatches(X, Y, batch_size, rng):
    """Shuffle once per epoch, then yield (X_batch (n0, B), Y_batch (k, B)) in that order.

    X (n0, m), Y (k, m); batch_size a positive int; rng a ``np.random.Generator``
    (``np.random.default_rng(seed)``), which draws the order when minibatches is called.
    Each batch gathers whole examples (rows of X.T, contiguous when X is column-major as
    ``load_mnist`` returns it) into a fresh contiguous array: no gathering along a strided
    axis, and the batch is still in cache when the matmuls read it. The last batch is
    smaller when batch_size does not divide m; m = 0 gives no batches.
    """
    validate_positive_int("batch_size", batch_size, "minibatches", "e.g. 128")
    validate_rng(rng, "minibatches")
    X_rows, Y_rows = X.T, Y.T  # (m, n0), (m, k): one example per row (views, no copy)
    perm = rng.permutation(X.shape[1])
    batch_indices = (perm[start:start + batch_size] for start in range(0, len(perm), batch_size))
    return ((X_rows[idx].T, Y_rows[idx].T) for idx in batch_indices)  # (n0, B), (k, B)
