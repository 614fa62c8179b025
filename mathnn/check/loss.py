"""Lesson 02: the mean cross-entropy loss, from the logits."""

import numpy as np

from mathnn import batches, layers
from mathnn.check.core import _fmt, checker


@checker(lesson=2, fallback=layers.cross_entropy, signature="fn(Z, Y) with logits Z and one-hot Y, both (k, m)")
def cross_entropy(c, fn):
    """Check ``fn(Z, Y) -> float``: the mean cross-entropy of logits Z (k, m) against one-hot Y (k, m).

    L = -(1/m) sum_j sum_i Y_ij log softmax(Z)_ij  (eq. 5), finite even for huge logits (eq. 4).
    """
    rng = np.random.default_rng(0)
    k, m = 10, 7
    Z = 3 * rng.standard_normal((k, m))  # (10, m) logits: any real numbers
    y = rng.integers(0, k, m)
    Z[y[0], 0] = -1.0  # a negative logit on a true class: log(Z) would be nan
    Y = batches.one_hot(y, k).astype(np.float64)  # (10, m)
    keep_ZY = dict(keep=("Z", "Y"), fix=(
        "the caller's logits and labels must stay as they were. Make new arrays: "
        "Z = Z - Z.max(axis=0, keepdims=True), not Z -= ...; -(Y * log_softmax(Z)).sum() / m, not Y *= log_softmax(Z)"))
    loss = c.call(fn, Z, Y, **keep_ZY)
    shape = np.shape(loss)
    c.require(np.size(loss) == 1, {
        (m,): "you returned one loss per example (shape (m,)); return their mean, a single number",
        (1, m): "you returned one loss per example (shape (1, m)); return their mean, a single number",
        (k, m): "you returned a (k, m) array; sum over the classes and average over the examples",
    }.get(shape, f"you returned an array of shape {shape}; the loss is a single number"))
    loss = float(np.asarray(loss, dtype=np.float64).item())
    c.require(np.isfinite(loss),
              "your loss is nan/inf for ordinary logits, some of them negative: did you take the log of Z "
              "itself? fn receives logits (any real numbers), not probabilities: take "
              "log softmax(Z) = Z - c - log(sum(exp(Z - c))) first (eq. 4)")
    right = layers.cross_entropy(Z, Y)
    log_softmax_rows = Z - Z.max(axis=1, keepdims=True)  # log-softmax over the wrong axis
    log_softmax_rows -= np.log(np.exp(log_softmax_rows).sum(axis=1, keepdims=True))
    c.compare(loss, right, [
        ("you forgot the 1/m: the loss is the mean over the m examples, not their sum", m * right),
        ("you divided by m * k (np.mean over every entry of Y * log A): sum over the classes, then average "
         "over the m examples: -(Y * log_softmax(Z)).sum() / m", right / k),
        ("you divided by Y.shape[0], the number of classes; m = Y.shape[1] is the number of examples",
         right * m / k),
        ("your loss has the wrong sign: L = -(1/m) Σ Y log A is ≥ 0 (did you drop the minus?)", -right),
        ("wrong axis: the softmax (log-sum-exp) runs over the classes of each column, axis=0, not axis=1",
         -(Y * log_softmax_rows).sum() / m),
        ("you left out the log-sum-exp: log softmax(z) = z - log(sum(exp(z))), not z",
         -(Y * Z).sum() / m),
        ("you used log10; cross-entropy uses the natural log, np.log", right / np.log(10)),
        ("you used log2; cross-entropy uses the natural log, np.log", right / np.log(2)),
        ("your loss is 0 for logits and labels that give a loss of about "
         f"{right:.2f}: did you return a placeholder? L = -(1/m) Σ Y log softmax(Z) (eq. 5)", 0.0),
    ], otherwise=f"your loss is {loss:.4f}; expected {right:.4f} (eq. 5)")

    # Stability: the same loss from huge logits, and a confidently wrong prediction.
    big, Y_big = np.array([[1000.0], [1001.0], [1002.0]]), np.array([[0.0], [0.0], [1.0]])
    loss_big = c.array(c.call(fn, big, Y_big, **keep_ZY))
    c.require(np.all(np.isfinite(loss_big)),
              "your loss is nan/inf for logits z = [1000, 1001, 1002] (true class 2): exp(1000) overflows. "
              "Subtract the column max first: log-softmax by log-sum-exp (eq. 4)")
    c.compare(loss_big, layers.cross_entropy(big, Y_big), otherwise=(
        f"for logits [1000, 1001, 1002], true class 2, your loss is {_fmt(loss_big)}; "
        f"expected {layers.cross_entropy(big, Y_big):.4f}, the loss of [0, 1, 2]"))
    wrong, Y_wrong = np.array([[1000.0], [0.0], [0.0]]), np.array([[0.0], [1.0], [0.0]])
    loss_wrong = c.array(c.call(fn, wrong, Y_wrong, **keep_ZY))
    c.require(np.all(np.isfinite(loss_wrong)),
              "your loss is inf for a confidently wrong prediction (logits [1000, 0, 0], true class 1; the "
              "exact loss is 1000): softmax rounds the true class's probability to 0, and log(0) = -inf. "
              "Compute log A by log-sum-exp instead of log(softmax(Z)) (eq. 4)")
    c.compare(loss_wrong, layers.cross_entropy(wrong, Y_wrong), otherwise=(
        f"your loss is {_fmt(loss_wrong)} for logits [1000, 0, 0], true class 1; expected 1000. Clipping "
        f"the probability (np.clip, or + eps) before the log caps the loss: use log-sum-exp (eq. 4)"))
