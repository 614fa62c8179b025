"""Lesson 02: the mean cross-entropy loss, from the logits."""

import numpy as np

from mathnn import batches, layers, modules, network
from mathnn.check.core import _Fail, _fmt, checker


@checker(lesson=2, fallback=layers.cross_entropy, signature="fn(Z, Y) with logits Z and one-hot Y, both (k, m)",
         mathnn=(layers.cross_entropy_forward, modules.SoftmaxCrossEntropy, network.loss))
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
        "Z = Z - Z.max(...), not Z -= ...; Y * ..., not Y *= ..."))
    loss = _number(c, c.call(fn, Z, Y, **keep_ZY), layers.cross_entropy(Z, Y))
    shape = np.shape(loss)
    c.require(np.size(loss) == 1, {
        (m,): "you returned one loss per example (shape (m,)); return their mean, a single number",
        (1, m): "you returned one loss per example (shape (1, m)); return their mean, a single number",
        (k, m): "you returned a (k, m) array; sum over the classes and average over the examples",
    }.get(shape, f"you returned an array of shape {shape}; the loss is a single number"))
    try:
        loss = float(np.asarray(loss, dtype=np.float64).item())
    except (TypeError, ValueError):
        raise _Fail(f"your loss is a {type(loss).__name__}, not a number") from None
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
         "over the m examples (eq. 5)«: -(Y * log_softmax(Z)).sum() / m»", right / k),
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
    loss_big = _number(c, c.call(fn, big, Y_big, **keep_ZY), layers.cross_entropy(big, Y_big))
    c.require(np.all(np.isfinite(loss_big)),
              "your loss is nan/inf for logits z = [1000, 1001, 1002] (true class 2): exp(1000) overflows. "
              "Subtract the column max first: log-softmax by log-sum-exp (eq. 4)")
    c.compare(loss_big, layers.cross_entropy(big, Y_big), otherwise=(
        f"for logits [1000, 1001, 1002], true class 2, your loss is {_fmt(loss_big)}; "
        f"expected {layers.cross_entropy(big, Y_big):.4f}, the loss of [0, 1, 2]"))
    wrong, Y_wrong = np.array([[1000.0], [0.0], [0.0]]), np.array([[0.0], [1.0], [0.0]])
    loss_wrong = _number(c, c.call(fn, wrong, Y_wrong, **keep_ZY), layers.cross_entropy(wrong, Y_wrong))
    c.require(np.all(np.isfinite(loss_wrong)),
              "your loss is inf for a confidently wrong prediction (logits [1000, 0, 0], true class 1; the "
              "exact loss is 1000): softmax rounds the true class's probability to 0, and log(0) = -inf. "
              "Compute log A by log-sum-exp instead of log(softmax(Z)) (eq. 4)")
    c.compare(loss_wrong, layers.cross_entropy(wrong, Y_wrong), otherwise=(
        f"your loss is {_fmt(loss_wrong)} for logits [1000, 0, 0], true class 1; expected 1000. Clipping "
        f"the probability (np.clip, or + eps) before the log caps the loss: use log-sum-exp (eq. 4)"))

    # Columns spread wide (a shift by the column's min or mean overflows), two examples at once.
    wide = np.array([[-1e4, 0.0], [0.0, 800.0], [1e4, 400.0]])  # (3, 2): columns [-1e4, 0, 1e4], [0, 800, 400]
    for Y_wide in (np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])):
        right_wide = layers.cross_entropy(wide, Y_wide)
        got = _number(c, c.call(fn, wide, Y_wide, **keep_ZY), right_wide)
        c.compare(got, right_wide, otherwise=(
            f"for logits with columns [-1e4, 0, 1e4] and [0, 800, 400] (true classes {Y_wide.argmax(axis=0)}) your "
            f"loss is {_fmt(got)}; expected {right_wide:.6g}: shift each column by its own max before exp, then "
            f"log-sum-exp (eq. 4) — a shift by the min or the mean still overflows"))


def _number(c, loss, right):
    """Your loss as a float64 number; a one-element array or a float32 is told precisely, a 0-d array accepted."""
    if isinstance(loss, (list, tuple)) or isinstance(loss, np.matrix):
        raise _Fail(f"your loss is a {type(loss).__name__}: return a single number, a float")
    if isinstance(loss, np.ndarray) and loss.ndim > 0 and loss.size == 1:
        value = float(loss.ravel()[0])
        raise _Fail(f"your loss is an array of shape {loss.shape} holding {value:.6g}"
                    + (" (the right value)" if np.isclose(value, right, rtol=1e-8) else f" (expected {right:.6g})")
                    + ": return a single number (float(...) or .item()); an array of shape (1,) breaks "
                      "f\"{loss:.4f}\" and comparisons later in the lesson")
    if isinstance(loss, (np.ndarray, np.generic)) and loss.dtype.kind == "f" and loss.dtype != np.float64:
        raise _Fail(f"your loss has dtype {loss.dtype}; for float64 logits it must be a float64 (or a Python float): "
                    f"don't convert to {loss.dtype}")
    return loss
