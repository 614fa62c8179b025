"""Lesson 01: ReLU, softmax and the whole forward pass of the 784-10-10 network."""

import numpy as np

from mathnn import layers, modules, network
from mathnn.check.core import _fmt, checker


def relu_mathnn(Z):
    """mathnn's relu, max(0, Z) elementwise (eq. 2), as ``mn.relu_forward`` computes it, for Z of any shape.

    (relu_forward itself insists on (n, m); lesson 01 also plots relu on a vector z.)
    """
    return np.maximum(Z, 0)


@checker(lesson=1, fallback=relu_mathnn, signature="fn(Z) with Z of shape (n, m)",
         mathnn=(layers.relu_forward, modules.ReLU))
def relu(c, fn):
    """Check ``fn(Z) -> A = max(0, Z)``, elementwise: Z (n, m) -> A (n, m), float64 in, float64 out, Z unchanged.

    Z mixes ordinary entries with large ones (up to +-300, as logits and pre-activations can be), and is
    tried square and non-square.
    """
    rng = np.random.default_rng(0)
    m = 7
    Z = rng.standard_normal((10, m))  # (10, m): about half the entries negative
    Z[0, :3] = 0.0  # a few exact zeros: relu(0) = 0
    Z[1] *= 100  # far outside N(0, 1): a relu that caps its output (np.clip(Z, 0, 10)) shows
    fix = ("e.g. Z[Z < 0] = 0, and the backward pass still needs the original Z. "
           "Return a new array«: np.maximum(Z, 0)»")
    A = c.array(c.call(fn, Z, keep=("Z",), fix=fix), dtype=np.float64)
    c.require_shape(A, (10, m), {
        (m,): "your output has shape (m,) = (7,): np.max(Z, 0) takes the largest entry along axis 0. "
              "relu is an elementwise maximum (eq. 2)«: np.maximum(Z, 0)»",
        (10,): "your output has shape (10,): np.max(Z, axis=1) reduces along an axis. "
               "relu is an elementwise maximum (eq. 2)«: np.maximum(Z, 0)»",
        (): "your output is a single number: np.max(Z) is the largest entry of Z. "
            "relu is an elementwise maximum (eq. 2)«: np.maximum(Z, 0)»",
    })
    right = np.maximum(Z, 0)
    c.compare(A, right, [
        ("you returned the 0/1 mask (Z > 0), which is ReLU's derivative; relu returns the values max(0, Z)",
         Z > 0),
        ("you returned min(0, Z): negatives kept, positives zeroed; relu is max(0, Z)", np.minimum(Z, 0)),
        ("you returned |Z|: relu sets negative entries to 0, it doesn't flip their sign", np.abs(Z)),
        ("your output equals Z: relu sets the negative entries to 0 (eq. 2)", Z),
    ], otherwise=_relu_hint(A, Z))
    square = 50 * rng.standard_normal((6, 6))  # (6, 6): square, and large
    A_square = c.array(c.call(fn, square, keep=("Z",), fix=fix), what="for a (6, 6) Z your output",
                       dtype=np.float64)
    c.require_shape(A_square, (6, 6), what="for a (6, 6) Z your output")
    c.compare(A_square, np.maximum(square, 0), otherwise=_relu_hint(A_square, square))


def _relu_hint(A, Z):
    """Which half of relu is wrong: the negative inputs or the positive ones?"""
    positive = Z > 0
    if np.allclose(A[positive], Z[positive]):
        j = np.argmax(~positive & (A != 0))
        return (f"positive entries are right, but negative inputs must give exactly 0; yours gives "
                f"{A.flat[j]:.3g} for z = {Z.flat[j]:.3g} (a leaky ReLU?)")
    if np.allclose(A[~positive], 0):
        j = int(np.argmax(positive & ~np.isclose(A, Z)))
        return (f"negative inputs give 0 as they should, but positive entries must pass through unchanged, "
                f"however large: yours gives {A.flat[j]:.4g} for z = {Z.flat[j]:.4g} (a cap, np.clip?)")
    return "wrong values: relu(z) = max(0, z) for every entry (eq. 2)"


@checker(lesson=1, fallback=layers.softmax, signature="fn(Z) with logits Z of shape (k, m)",
         mathnn=(layers.softmax_forward, layers.log_softmax))
def softmax(c, fn):
    """Check ``fn(Z) -> A``, the column-wise softmax (eq. 3): Z (k, m) -> A (k, m), float64 in and out.

    Every column of A must be positive and sum to 1, also for huge logits like [1000, 1001, 1002] and
    for columns on very different scales ([-1e4, 0, 1e4], [0, 800]), which only a shift by each
    column's max survives.
    """
    rng = np.random.default_rng(0)
    m = 7
    Z = 3 * rng.standard_normal((10, m))  # (10, m): 10 classes, one example per column
    keep_Z = dict(keep=("Z",), fix=("e.g. Z -= Z.max(...), so the caller's Z is now different. "
                                    "Shift into a new array«: Z = Z - Z.max(axis=0, keepdims=True)»"))
    A = c.array(c.call(fn, Z, **keep_Z), dtype=np.float64)
    c.require_shape(A, (10, m), {
        (m, 10): "your output has shape (m, 10) = (7, 10); expected (10, m) = (10, 7) — did you transpose, "
                 "or normalize over the wrong axis?",
        (m,): "your output has shape (m,) = (7,): softmax returns a probability for every class of every "
              "example, the same shape as Z",
    })
    c.require(np.all(np.isfinite(A)), "your softmax returns nan/inf for ordinary logits (3 * standard normal)")
    E = np.exp(Z)
    E_rowmax = np.exp(Z - Z.max(axis=1, keepdims=True))
    c.compare(A, layers.softmax(Z), [
        ("your columns don't sum to 1 — did you sum over axis=1 instead of axis=0? Each column is one example",
         E / E.sum(axis=1, keepdims=True)),
        ("your whole matrix sums to 1, not each column: sum over axis=0 only, keeping the axis (keepdims)",
         E / E.sum()),
        ("you subtracted each row's max (axis=1); subtract each column's max (axis=0, eq. 3)",
         E_rowmax / E_rowmax.sum(axis=0, keepdims=True)),
        ("you returned exp(Z) without dividing by the column sums", E),
        ("your output equals Z, the logits: softmax exponentiates them and divides each column by its sum",
         Z),
    ], otherwise=_softmax_hint(A, layers.softmax(Z)))

    # Stability: exp(1000) overflows to inf, exp(-1000) underflows to 0 (eq. 3 shifts by the column max);
    # a shift by the column's min or mean overflows on columns spread wide.
    shift = "shift each column by its max before exp (eq. 3): then the largest exponent is exp(0) = 1"
    for z in ([1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0], [-1e4, 0.0, 1e4], [0.0, 800.0],
              [5.0, -700.0, 3.0, 750.0]):
        column = np.array(z).reshape(-1, 1)  # (k, 1): one example
        A1 = c.array(c.call(fn, column, **keep_Z), what=f"for z = {z} your output", dtype=np.float64)
        right = layers.softmax(column)
        c.require(A1.shape == column.shape and np.all(np.isfinite(A1)),
                  f"your softmax returns nan/inf (or the wrong shape) for the column z = {z}: {shift}. A shift by "
                  f"the min or the mean still leaves exp of a huge number")
        c.compare(A1, right, otherwise=f"for z = {z} your softmax gives {_fmt(A1.ravel())}; expected "
                                       f"{_fmt(right.ravel())}: {shift}")

    two = np.array([[1000.0, 0.0], [1001.0, 1.0], [1002.0, 2.0]])  # (3, 2): columns on very different scales
    A2 = c.array(c.call(fn, two, **keep_Z), dtype=np.float64)
    c.require(A2.shape == (3, 2) and np.all(np.isfinite(A2)),
              "your softmax returns nan/inf for Z with columns [1000, 1001, 1002] and [0, 1, 2]: subtract "
              "each column's own max (axis=0, eq. 3), not the max of the whole matrix")
    c.compare(A2, layers.softmax(two), otherwise=(
        f"for Z with columns [1000, 1001, 1002] and [0, 1, 2] your softmax gives {_fmt(A2)}; "
        f"expected {_fmt(layers.softmax(two))}: each column shifted by its own max (eq. 3)"))


def _softmax_hint(A, right):
    """What is wrong with a softmax A (k, m) that differs from the right one (k, m)."""
    sums = A.sum(axis=0)
    if not np.allclose(sums, 1):
        return f"your columns don't sum to 1 (they sum to {_fmt(sums)}): divide each column by its own sum"
    return (f"your columns sum to 1 but the values are wrong (largest difference {np.abs(A - right).max():.3g}): "
            f"softmax is exp(Z - c) / sum(exp(Z - c)) with c the column max (eq. 3)")


def forward_mathnn(X, W1, b1, W2, b2):
    """mathnn's forward pass of the 784-10-10 network: X (784, m) -> A2 (10, m) (eqs. 1-3), via ``mn.forward``."""
    return network.forward({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X)[0]


@checker(lesson=1, fallback=forward_mathnn, signature="fn(X, W1, b1, W2, b2) with X (784, m), W1 (10, 784), "
                                                      "b1 (10, 1), W2 (10, 10), b2 (10, 1)",
         mathnn=(network.forward, network.predict))
def forward(c, fn):
    """Check ``fn(X, W1, b1, W2, b2) -> A2``, the forward pass of the 784-10-10 network (eqs. 1-3).

    X (784, m), W1 (10, 784), b1 (10, 1), W2 (10, 10), b2 (10, 1)  ->  A2 (10, m):
    Z1 = W1 @ X + b1, A1 = relu(Z1), Z2 = W2 @ A1 + b2, A2 = softmax(Z2). The inputs stay unchanged.
    """
    rng = np.random.default_rng(0)
    m = 7  # not 10, so that a transposed X or W1 cannot hide behind a square shape
    X = rng.random((784, m))  # (784, m) "pixels" in [0, 1)
    W1 = np.sqrt(2 / 784) * rng.standard_normal((10, 784))  # (10, 784), He (eq. 11)
    W2 = np.sqrt(2 / 10) * rng.standard_normal((10, 10))  # (10, 10)
    b1, b2 = rng.standard_normal((10, 1)), rng.standard_normal((10, 1))  # (10, 1) each, large enough to matter
    out = c.call(fn, X, W1, b1, W2, b2, keep=("X", "W1", "b1", "W2", "b2"), on_error={ValueError: (
        " — write every product as (rows, inner) @ (inner, columns): W1 @ X is (10, 784) @ (784, m), "
        "W2 @ A1 is (10, 10) @ (10, m)")}, fix="compute new arrays, not += ... on an input")
    A2 = c.array(out, dtype=np.float64)
    c.require_shape(A2, (10, m), {
        (m, 10): f"your output has shape (m, 10) = ({m}, 10): one example per row. Keep one example per column: "
                 f"W1 @ X is (10, 784) @ (784, m) -> (10, m) (eq. 1)",
    }, what="your output")
    c.require(np.all(np.isfinite(A2)), "your output holds nan/inf for ordinary inputs: is your softmax the stable "
                                       "one (subtract each column's max, eq. 3)?")

    def through(Z1, *, act=lambda Z: np.maximum(Z, 0), W2_=W2, b2_=b2, out=layers.softmax):
        """The rest of the pass after Z1 (10, m), with one piece swapped for a mistake's."""
        return out(W2_ @ act(Z1) + b2_)  # (10, 10) @ (10, m) + (10, 1) -> (10, m)

    E_rows = np.exp(W2 @ np.maximum(W1 @ X + b1, 0) + b2)  # (10, m)
    c.compare(A2, through(W1 @ X + b1), [
        ("you left out the bias b1 (eq. 1)", through(W1 @ X)),
        ("you left out the bias b2 (eq. 1)", through(W1 @ X + b1, b2_=0)),
        ("you left out both biases b1 and b2 (eq. 1)", through(W1 @ X, b2_=0)),
        ("you left out the ReLU after the first layer (eq. 2); without it the two layers are one linear layer",
         through(W1 @ X + b1, act=lambda Z: Z)),
        ("you used W2.T where W2 belongs: the second layer is W2 times A1 (eq. 1), (10, 10) @ (10, m) — W2 is "
         "square, so the shape can't tell", through(W1 @ X + b1, W2_=W2.T)),
        ("your softmax runs over axis=1, across the examples: each column (one example) must sum to 1, "
         "so normalize over axis 0 (eq. 3)", E_rows / E_rows.sum(axis=1, keepdims=True)),
        ("you returned the logits Z2: apply the softmax to them (eq. 3)",
         through(W1 @ X + b1, out=lambda Z: Z)),
        ("you applied the ReLU to the output too: the softmax takes the logits Z2 as they are, no ReLU (eqs. 2-3)",
         through(W1 @ X + b1, out=lambda Z: layers.softmax(np.maximum(Z, 0)))),
    ], otherwise=_forward_hint(A2, through(W1 @ X + b1)))


def _forward_hint(A2, right):
    """Columns that don't sum to 1 point at the softmax; otherwise say how far off it is."""
    sums = A2.sum(axis=0)
    if not np.allclose(sums, 1):
        return (f"the columns of your A2 sum to {_fmt(sums)}, not 1: the softmax runs over axis 0, the classes of "
                f"each example (eq. 3)")
    return (f"wrong values (largest difference {np.abs(A2 - right).max():.3g}): the pass is linear, relu, linear, "
            f"softmax (eqs. 1-3)")
