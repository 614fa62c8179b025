"""Lesson 00: the one-hot labels."""

import numpy as np

from mathnn import batches
from mathnn.check.core import _fmt, checker


@checker(lesson=0, fallback=batches.one_hot, signature="fn(y, num_classes) with labels y of shape (m,)")
def one_hot(c, fn):
    """Check ``fn(y, num_classes) -> Y`` of shape (num_classes, m).

    y (m,) holds integer labels; column j of Y is all 0 except a 1 in row y[j].
    """
    y = np.array([3, 0, 7, 3, 1, 5, 2])  # m = 7 labels, no 8 or 9 in this batch
    m = len(y)
    keep_y = ("the labels are still needed (to compare predictions with): build Y in a new array, "
              "np.zeros((num_classes, m)), and leave y as it is")
    out = c.call(fn, y, 10, on_error={IndexError: (
        " — rows are classes and columns are examples: index Y with (labels, column numbers), not the other way "
        "round«: Y[y, np.arange(m)] = 1»")},
        keep=("y",), fix=keep_y)
    Y = c.array(out)
    c.require_shape(Y, (10, m), {
        (m,): "your output has shape (m,) = (7,), the shape of the labels y: did you return y itself? "
              "Build a (num_classes, m) array of zeros and set one 1 per column«: Y[y, np.arange(m)] = 1»",
        (m, 10): "your output has shape (m, num_classes) = (7, 10); expected (num_classes, m) = (10, 7), "
                 "one column per example. Transpose it, or set the ones in "
                 "np.zeros((num_classes, m))",
        (8, m): "your output has 8 rows = y.max() + 1; expected num_classes = 10 rows: a batch need not "
                "contain every digit, so use the num_classes argument",
    })
    right = batches.one_hot(y, 10)
    whole_rows = np.zeros((10, m))
    whole_rows[y, :] = 1
    bad = int(np.argmax(np.any(Y != right, axis=0)))  # first wrong column, for the hint
    c.compare(Y, right, [
        ("your output is all zeros: set a 1 in row y[j] of every column j«: Y[y, np.arange(m)] = 1»",
         np.zeros((10, m))),
        ("some columns have more than one 1: Y[y, :] = 1 sets whole rows; set one entry per column with "
         "the labels together with the column numbers as the index«: Y[y, np.arange(m)] = 1»", whole_rows),
    ], otherwise=f"column {bad} (label y[{bad}] = {y[bad]}) should be 1 in row {y[bad]} and 0 elsewhere; "
                 f"yours is {_fmt(Y[:, bad])}")
    c.require(np.asarray(out).dtype.kind in "iuf",
              f"your output has dtype {np.asarray(out).dtype}; make it float (.astype(np.float32), as "
              f"mn.one_hot does): NumPy refuses arithmetic such as -Y on booleans")

    y3 = np.array([2, 0, 1, 2])  # 3 classes, m = 4
    Y3 = c.array(c.call(fn, y3, 3, keep=("y",), fix=keep_y))
    c.require_shape(Y3, (3, 4), {
        (10, 4): "with num_classes=3 your output has 10 rows: use the num_classes argument instead of a "
                 "hard-coded 10"}, what="with num_classes=3, your output")
    right3 = batches.one_hot(y3, 3)
    c.compare(Y3, right3, otherwise=(
        f"for y = [2, 0, 1, 2] and num_classes=3 your output is {_fmt(Y3)}; expected {_fmt(right3)}"))
