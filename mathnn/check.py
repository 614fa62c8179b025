"""Self-checks for the exercises: run *your* function, compare it with mathnn's, get a hint.

    from mathnn import check
    check.softmax(my_softmax)  # prints "✓ softmax: all 10 checks passed" or "✗ softmax: <what to fix>"

Each checker feeds your function a few crafted inputs (random ones from
``np.random.default_rng(0)`` and edge cases such as huge logits) and compares its answer
with the reference in mathnn. When they differ, it also compares your answer with the
answers of the classic mistakes (wrong axis, forgotten 1/m, missing ReLU mask, ...) and
tells you which one you made. A function that changes an input it should leave alone
(Z -= ..., cache.clear(), g *= lr) is told so, even when its answer is right: the caller
still needs that input. It returns True or False, so a notebook can write
``assert check.softmax(my_softmax)``. It never raises because of your code: an exception
in your function is reported as a hint too.

Equation numbers refer to the notation page (notebooks/notation.md).
"""

import warnings

import numpy as np

from mathnn import batches, layers, network

# ---------------------------------------------------------------------------------------
# The machinery: a small "checker" that counts passed checks and prints the verdict.
# ---------------------------------------------------------------------------------------


class _Fail(Exception):
    """Raised inside a checker at the first problem found; its message is the hint."""


class _Checker:
    """Use as ``with _Checker(name, signature) as c:``; prints ✓ or ✗ when the block ends.

    ``c.require(condition, hint)`` is one check: it counts if the condition holds and
    stops the block with the hint if not. ``c.ok`` is the verdict.
    """

    def __init__(self, name, signature):
        self.name = name
        self.signature = signature  # how your function is called, for error messages
        self.passed = 0
        self.ok = False

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            self.ok = True
            print(f"✓ {self.name}: all {self.passed} checks passed")
        elif isinstance(error, _Fail):
            print(f"✗ {self.name}: {error}")
        elif isinstance(error, Exception):  # your output was too odd to even compare
            print(f"✗ {self.name}: could not check your output ({type(error).__name__}: {error}); "
                  f"it is called as {self.signature}")
        else:
            return False  # KeyboardInterrupt and the like go through
        return True  # swallow the exception: a checker never raises because of your code

    def require(self, condition, hint):
        """One check: count it if it holds, else stop with the hint."""
        if not condition:
            raise _Fail(hint)
        self.passed += 1

    def call(self, fn, *args, returns=True, on_error=None, keep=(), fix=""):
        """Run your function without NumPy warnings; turn its exceptions into hints.

        on_error: optional {exception type: extra hint}.
        keep: the names of the leading args your function must leave alone (arrays, or dicts of
        them). It gets copies of those; if it changes one (Z -= ..., cache.clear()), the hint says
        which and adds ``fix``, how to do it without changing the input.
        """
        originals = args[:len(keep)]
        args = tuple(_copy(arg) for arg in originals) + args[len(keep):]
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(*args)
        except Exception as e:
            extra = next((text for kind, text in (on_error or {}).items() if isinstance(e, kind)), "")
            if isinstance(e, KeyError):
                keys = "; ".join(", ".join(map(str, arg)) for arg in args if isinstance(arg, dict))
                extra = extra or f" — the dicts passed to it have the keys: {keys}"
            if isinstance(e, ValueError) and "broadcast" in str(e):
                extra = extra or (" — check the axis you reduce over (axis=0 runs down each column) "
                                  "and keep it with keepdims=True")
            raise _Fail(f"your function raised {type(e).__name__}: {str(e).strip()}{extra} "
                        f"(it is called as {self.signature})") from None
        changes = [change for name, before, after in zip(keep, originals, args)
                   for change in _changes(name, before, after)]
        if changes:
            raise _Fail(f"your {self.name} {' and '.join(changes)}: {fix}")
        if returns and out is None:
            raise _Fail("your function returned None: did you forget the `return`?")
        return out

    def array(self, out):
        """Your output as a float64 array (for comparing), or a hint if it isn't numbers."""
        try:
            return np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise _Fail(f"your function returned a {type(out).__name__}, not an array of numbers") from None

    def require_shape(self, got, shape, hints=None, what="your output"):
        """Check got.shape == shape; a shape listed in ``hints`` gets its own message."""
        hint = (hints or {}).get(got.shape, f"{what} has shape {got.shape}; expected {shape}")
        self.require(got.shape == shape, hint)

    def compare(self, got, right, mistakes=(), otherwise="wrong values"):
        """One check: got ≈ right. If not, name the first known mistake that got matches.

        mistakes: (hint, what that mistake would have returned) pairs.
        otherwise: the hint when no known mistake matches.
        """
        if _close(got, right):
            self.passed += 1
            return
        for hint, wrong in mistakes:
            if _close(got, wrong):
                raise _Fail(hint)
        raise _Fail(otherwise)


def _close(got, want, rtol=1e-5, atol=1e-7):
    """Same shape and allclose (nan never matches)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _copy(x):
    """A copy of an array, or of a dict or tuple of arrays (copied all the way down)."""
    if isinstance(x, dict):
        return {key: _copy(v) for key, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return x.copy() if isinstance(x, np.ndarray) else x


def _same(a, b):
    """a and b hold the same values: equal arrays of the same shape, or dicts/tuples of them."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return a is b


def _changes(name, before, after):
    """What your function did to its input ``name`` (before: a copy, after: what it holds now).

    A list such as ["changed cache['A2'] in place"]; empty if nothing changed.
    """
    if isinstance(before, dict):
        if before and not after:
            return [f"emptied the dict {name} ({name}.clear()?)"]
        groups = (("deleted {}", [key for key in before if key not in after]),
                  ("added {}", [key for key in after if key not in before]),
                  ("changed {} in place", [key for key in before
                                           if key in after and not _same(before[key], after[key])]))
        return [what.format(", ".join(f"{name}[{key!r}]" for key in keys)) for what, keys in groups if keys]
    if _same(before, after):
        return []
    return [f"changed its input {name} in place (a {name} of shape {np.shape(before)})"]


def _fmt(a):
    """A small array or number, printed compactly for a hint."""
    return np.array2string(np.asarray(a, dtype=np.float64), precision=3, suppress_small=True, separator=", ")


# ---------------------------------------------------------------------------------------
# Lesson 00: data
# ---------------------------------------------------------------------------------------


def one_hot(fn):
    """Check ``fn(y, num_classes) -> Y`` of shape (num_classes, m).

    y (m,) holds integer labels; column j of Y is all 0 except a 1 in row y[j].
    """
    with _Checker("one_hot", "fn(y, num_classes) with labels y of shape (m,)") as c:
        y = np.array([3, 0, 7, 3, 1, 5, 2])  # m = 7 labels, no 8 or 9 in this batch
        m = len(y)
        keep_y = ("the labels are still needed (to compare predictions with): build Y in a new array, "
                  "np.zeros((num_classes, m)), and leave y as it is")
        out = c.call(fn, y, 10, on_error={IndexError: (
            " — rows are classes and columns are examples: Y[y, np.arange(m)] = 1, not Y[np.arange(m), y]")},
            keep=("y",), fix=keep_y)
        Y = c.array(out)
        c.require_shape(Y, (10, m), {
            (m,): "your output has shape (m,) = (7,), the shape of the labels y: did you return y itself? "
                  "Build Y = np.zeros((num_classes, m)) and set Y[y, np.arange(m)] = 1",
            (m, 10): "your output has shape (m, num_classes) = (7, 10); expected (num_classes, m) = (10, 7), "
                     "one column per example. Transpose it, or set Y[y, np.arange(m)] = 1 in "
                     "np.zeros((num_classes, m))",
            (8, m): "your output has 8 rows = y.max() + 1; expected num_classes = 10 rows: a batch need not "
                    "contain every digit, so use the num_classes argument",
        })
        right = batches.one_hot(y, 10)
        whole_rows = np.zeros((10, m))
        whole_rows[y, :] = 1
        bad = int(np.argmax(np.any(Y != right, axis=0)))  # first wrong column, for the hint
        c.compare(Y, right, [
            ("your output is all zeros: set the ones with Y[y, np.arange(m)] = 1", np.zeros((10, m))),
            ("some columns have more than one 1: Y[y, :] = 1 sets whole rows; set one entry per column with "
             "Y[y, np.arange(m)] = 1", whole_rows),
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
    return c.ok


# ---------------------------------------------------------------------------------------
# Lesson 01: forward pass
# ---------------------------------------------------------------------------------------


def relu(fn):
    """Check ``fn(Z) -> A = max(0, Z)``, elementwise: Z (n, m) -> A (n, m), Z itself left unchanged."""
    with _Checker("relu", "fn(Z) with Z of shape (n, m)") as c:
        rng = np.random.default_rng(0)
        m = 7
        Z = rng.standard_normal((10, m))  # (10, m): about half the entries negative
        Z[0, :3] = 0.0  # a few exact zeros: relu(0) = 0
        A = c.array(c.call(fn, Z, keep=("Z",), fix=(
            "e.g. Z[Z < 0] = 0, and the backward pass still needs the original Z. "
            "Return a new array: np.maximum(Z, 0)")))
        c.require_shape(A, (10, m), {
            (m,): "your output has shape (m,) = (7,): np.max(Z, 0) takes the largest entry along axis 0. "
                  "Use np.maximum(Z, 0), the elementwise maximum",
            (10,): "your output has shape (10,): np.max(Z, axis=1) reduces along an axis. "
                   "Use np.maximum(Z, 0), the elementwise maximum",
            (): "your output is a single number: np.max(Z) is the largest entry of Z. "
                "Use np.maximum(Z, 0), the elementwise maximum",
        })
        c.compare(A, np.maximum(Z, 0), [
            ("you returned the 0/1 mask (Z > 0), which is ReLU's derivative; relu returns the values max(0, Z)",
             Z > 0),
            ("you returned min(0, Z): negatives kept, positives zeroed; relu is max(0, Z)", np.minimum(Z, 0)),
            ("you returned |Z|: relu sets negative entries to 0, it doesn't flip their sign", np.abs(Z)),
            ("your output equals Z: relu sets the negative entries to 0 (np.maximum(Z, 0))", Z),
        ], otherwise=_relu_hint(A, Z))
    return c.ok


def _relu_hint(A, Z):
    """Which half of relu is wrong: the negative inputs or the positive ones?"""
    positive = Z > 0
    if np.allclose(A[positive], Z[positive]):
        j = np.argmax(~positive & (A != 0))
        return (f"positive entries are right, but negative inputs must give exactly 0; yours gives "
                f"{A.flat[j]:.3g} for z = {Z.flat[j]:.3g} (a leaky ReLU?)")
    if np.allclose(A[~positive], 0):
        return "negative inputs give 0 as they should, but positive entries must pass through unchanged"
    return "wrong values: relu(z) = max(0, z) for every entry (np.maximum(Z, 0))"


def softmax(fn):
    """Check ``fn(Z) -> A``, the column-wise softmax (eq. 3): Z (k, m) -> A (k, m).

    Every column of A must be positive and sum to 1, also for huge logits like [1000, 1001, 1002].
    """
    with _Checker("softmax", "fn(Z) with logits Z of shape (k, m)") as c:
        rng = np.random.default_rng(0)
        m = 7
        Z = 3 * rng.standard_normal((10, m))  # (10, m): 10 classes, one example per column
        keep_Z = dict(keep=("Z",), fix=("e.g. Z -= Z.max(...), so the caller's Z is now different. "
                                        "Write Z = Z - Z.max(axis=0, keepdims=True), which makes a new array"))
        A = c.array(c.call(fn, Z, **keep_Z))
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
            ("your columns don't sum to 1 — did you sum over axis=1 instead of axis=0?",
             E / E.sum(axis=1, keepdims=True)),
            ("your whole matrix sums to 1, not each column: sum over axis=0 with keepdims=True", E / E.sum()),
            ("you subtracted each row's max (axis=1); subtract each column's max: Z.max(axis=0, keepdims=True)",
             E_rowmax / E_rowmax.sum(axis=0, keepdims=True)),
            ("you returned exp(Z) without dividing by the column sums", E),
            ("your output equals Z, the logits: softmax exponentiates them and divides each column by its sum",
             Z),
        ], otherwise=_softmax_hint(A, layers.softmax(Z)))

        # Stability: exp(1000) overflows to inf, exp(-1000) underflows to 0 (eq. 3 shifts by the column max).
        for z, hint in (
            ([1000.0, 1001.0, 1002.0], "your softmax returns nan/inf for z = [1000, 1001, 1002] — subtract "
                                       "the column max before exp (eq. 3)"),
            ([-1000.0, -1001.0, -1002.0], "your softmax returns nan/inf for z = [-1000, -1001, -1002]: every "
                                          "exp underflows to 0 and 0/0 = nan — subtract the column max before exp"),
        ):
            column = np.array(z).reshape(3, 1)  # (3, 1): k = 3 classes, one example
            A1 = c.array(c.call(fn, column, **keep_Z))
            c.require(A1.shape == (3, 1) and np.all(np.isfinite(A1)), hint)
            c.compare(A1, layers.softmax(column), otherwise=(
                f"for z = {z} your softmax gives {_fmt(A1.ravel())}; expected {_fmt(layers.softmax(column).ravel())}"))

        two = np.array([[1000.0, 0.0], [1001.0, 1.0], [1002.0, 2.0]])  # (3, 2): columns on very different scales
        A2 = c.array(c.call(fn, two, **keep_Z))
        c.require(A2.shape == (3, 2) and np.all(np.isfinite(A2)),
                  "your softmax returns nan/inf for Z with columns [1000, 1001, 1002] and [0, 1, 2]: subtract "
                  "each column's own max (Z.max(axis=0, keepdims=True)), not the max of the whole matrix")
        c.compare(A2, layers.softmax(two), otherwise=(
            f"for Z with columns [1000, 1001, 1002] and [0, 1, 2] your softmax gives {_fmt(A2)}; "
            f"expected {_fmt(layers.softmax(two))}"))
    return c.ok


def _softmax_hint(A, right):
    sums = A.sum(axis=0)
    if not np.allclose(sums, 1):
        return f"your columns don't sum to 1 (they sum to {_fmt(sums)}): divide each column by its own sum"
    return (f"your columns sum to 1 but the values are wrong (largest difference {np.abs(A - right).max():.3g}): "
            f"softmax is exp(Z - c) / sum(exp(Z - c)) with c the column max (eq. 3)")


# ---------------------------------------------------------------------------------------
# Lesson 02: loss
# ---------------------------------------------------------------------------------------


def cross_entropy(fn):
    """Check ``fn(Z, Y) -> float``: the mean cross-entropy of logits Z (k, m) against one-hot Y (k, m).

    L = -(1/m) sum_j sum_i Y_ij log softmax(Z)_ij  (eq. 5), finite even for huge logits (eq. 4).
    """
    with _Checker("cross_entropy", "fn(Z, Y) with logits Z and one-hot Y, both (k, m)") as c:
        rng = np.random.default_rng(0)
        k, m = 10, 7
        Z = 3 * rng.standard_normal((k, m))  # (10, m) logits: any real numbers
        y = rng.integers(0, k, m)
        Z[y[0], 0] = -1.0  # a negative logit on a true class: log(Z) would be nan
        Y = batches.one_hot(y, k).astype(np.float64)  # (10, m)
        keep_ZY = dict(keep=("Z", "Y"), fix=(
            "the caller's logits and labels must stay as they were. Make new arrays: "
            "Z = Z - Z.max(axis=0, keepdims=True), not Z -= ...; -(Y * log_A).sum() / m, not Y *= log_A"))
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
        log_A_rows = Z - Z.max(axis=1, keepdims=True)  # log-softmax over the wrong axis
        log_A_rows -= np.log(np.exp(log_A_rows).sum(axis=1, keepdims=True))
        c.compare(loss, right, [
            ("you forgot the 1/m: the loss is the mean over the m examples, not their sum", m * right),
            ("you divided by m * k (np.mean over every entry of Y * log A): sum over the classes, then average "
             "over the m examples: -(Y * log_A).sum() / m", right / k),
            ("you divided by Y.shape[0], the number of classes; m = Y.shape[1] is the number of examples",
             right * m / k),
            ("your loss has the wrong sign: L = -(1/m) Σ Y log A is ≥ 0 (did you drop the minus?)", -right),
            ("wrong axis: the softmax (log-sum-exp) runs over the classes of each column, axis=0, not axis=1",
             -(Y * log_A_rows).sum() / m),
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
    return c.ok


# ---------------------------------------------------------------------------------------
# Lesson 03: backprop
# ---------------------------------------------------------------------------------------


def backward(fn):
    """Check ``fn(params, cache, Y) -> grads``, the signature of ``mathnn.backward``.

    params: {"W1" (10, 784), "b1" (10, 1), "W2" (10, 10), "b2" (10, 1)}; cache: from
    ``mathnn.forward(params, X)``, with keys "A0" (= X), "Z1", "A1", "Z2", "A2"; Y: one-hot (10, m).
    grads: {"dW1", "db1", "dW2", "db2"}, each the shape of its parameter (eq. 5'-9).
    """
    with _Checker("backward", "fn(params, cache, Y) with cache from mn.forward(params, X)") as c:
        rng = np.random.default_rng(0)
        m = 8
        params = network.init_params((784, 10, 10), "he", rng, dtype=np.float64)
        params["b1"] = 0.1 * rng.standard_normal((10, 1))
        params["b2"] = 0.1 * rng.standard_normal((10, 1))
        X = rng.random((784, m))  # (784, m) "pixels" in [0, 1)
        Y = batches.one_hot(rng.integers(0, 10, m)).astype(np.float64)  # (10, m)
        _, cache = network.forward(params, X)
        right = network.backward(params, cache, Y)

        grads = c.call(fn, params, cache, Y, keep=("params", "cache", "Y"), fix=(
            "the caller still needs params, cache and Y as they were. Compute new arrays "
            "(dZ2 = (A2 - Y) / m, not dZ2 = A2; dZ2 -= Y, which changes A2 too) and return them in a new dict"))
        c.require(isinstance(grads, dict), f"your function returned a {type(grads).__name__}; expected a dict "
                                           f"{{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...}}")
        missing = [key for key in right if key not in grads]
        c.require(not missing, f"your grads dict has no key {', '.join(map(repr, missing))} "
                               f"(its keys: {', '.join(map(repr, grads))})")

        # What the classic mistakes would give, step by step through eq. 5'-9.
        W2, A1, Z1, A2 = params["W2"], cache["A1"], cache["Z1"], cache["A2"]
        dZ2 = (A2 - Y) / m  # (10, m)  (eq. 5')
        dA1 = W2.T @ dZ2  # (10, 10) @ (10, m) -> (10, m)  (eq. 8)
        dA1_untransposed = W2 @ dZ2  # (10, 10) @ (10, m) -> (10, m): W2 where W2.T belongs
        mask = Z1 > 0  # (10, m)
        dZ1_variants = [  # (hint, the dZ1 this mistake gives)
            ("did you forget the ReLU mask (Z1 > 0)? dZ1 = dA1 * (Z1 > 0) (eq. 9)", dA1),
            ("you multiplied by Z1 itself; ReLU's derivative is the 0/1 mask (Z1 > 0) (eq. 9)", dA1 * Z1),
            ("you multiplied by A1 = relu(Z1); ReLU's derivative is the 0/1 mask (Z1 > 0) (eq. 9)", dA1 * A1),
            ("dA1 = W2.T @ dZ2 (eq. 8): did you use W2 without the transpose?", dA1_untransposed * mask),
        ]
        dW2_from_Z1 = dZ2 @ Z1.T  # (10, m) @ (m, 10) -> (10, 10): Z1 where A1 belongs
        dW2_transposed = (dZ2 @ A1.T).T  # ((10, m) @ (m, 10)).T -> (10, 10): A1 @ dZ2.T
        dW2_without_Y = A2 @ A1.T / m  # (10, m) @ (m, 10) -> (10, 10): dZ2 without '- Y'
        mistakes = {
            "dW2": [("uses Z1; it should use the activation A1 = relu(Z1): dW2 = dZ2 @ A1.T (eq. 6)", dW2_from_Z1),
                    ("is transposed: dW2 = dZ2 @ A1.T (eq. 6), not A1 @ dZ2.T", dW2_transposed),
                    ("is wrong: did you forget '- Y'? dZ2 = (A2 - Y) / m (eq. 5')", dW2_without_Y)],
            "db2": [],
            "dW1": [("has the right shape but wrong values: " + hint,
                     dZ1 @ X.T)  # (10, m) @ (m, 784) -> (10, 784), one per mistaken dZ1
                    for hint, dZ1 in dZ1_variants],
            "db1": [("has the right shape but wrong values: " + hint, dZ1.sum(axis=1, keepdims=True))
                    for hint, dZ1 in dZ1_variants],
        }
        hints = []
        for key in ("dW2", "db2", "dW1", "db1"):  # in the order backprop computes them
            hint = _gradient_hint(key, c.array(grads[key]), right[key], m, mistakes[key])
            if hint:
                hints.append(hint)
            else:
                c.passed += 1
        if hints:
            c.require(False, hints[0] if len(hints) == 1 else
                      f"{len(hints)} of 4 gradients are wrong:\n  - " + "\n  - ".join(hints))
    return c.ok


def _gradient_hint(key, got, right, m, mistakes):
    """None if the gradient `key` is right, else a hint naming the mistake."""
    name, n = key[1:], right.shape[0]  # "W2", 10
    if got.shape != right.shape:
        if key.startswith("db"):
            dZ = "dZ" + key[-1]
            shape_hints = {
                (n, m): f"has shape ({n}, m): sum {dZ} over the batch axis, {dZ}.sum(axis=1, keepdims=True) (eq. 7)",
                (n,): f"has shape ({n},): keep it a column like {name} ({n}, 1) — sum with keepdims=True",
                (1, m): "has shape (1, m): you summed over axis=0 (the units); sum over axis=1 (the examples)",
                (m,): "has shape (m,): you summed over axis=0 (the units); sum over axis=1 (the examples), "
                      "keepdims=True",
            }
        else:
            shape_hints = {right.shape[::-1]: f"has shape {right.shape[::-1]}, the transpose of {name}'s: "
                                              f"d{name} = dZ @ A_prev.T (eq. 6) has {name}'s shape {right.shape}"}
        return f"{key} " + shape_hints.get(got.shape, f"has shape {got.shape}; expected {right.shape}, "
                                                      f"the shape of {name}")
    if _close(got, right):
        return None
    for hint, wrong in [
        ("is m times too large: did you forget the 1/m in dZ2 = (A2 - Y) / m (eq. 5')?", m * right),
        (f"is m times too small: you divided by m twice (dZ2 = (A2 - Y) / m already holds the 1/m; "
         f"{key} is a sum over the examples, not a mean)", right / m),
        ("has the wrong sign: dZ2 = (A2 - Y) / m, not (Y - A2) / m", -right),
        ("is all zeros: did you return a placeholder (np.zeros_like)? Compute it (eq. 5'-9)", np.zeros_like(right)),
        *mistakes,
    ]:
        if _close(got, wrong):
            return f"{key} {hint}"
    return f"{key} has the right shape but wrong values (largest difference {np.abs(got - right).max():.3g})"


# ---------------------------------------------------------------------------------------
# Lesson 04: training
# ---------------------------------------------------------------------------------------


def sgd_step(fn):
    """Check ``fn(params, grads, lr)``: one gradient-descent step p <- p - lr * dp (eq. 12), IN PLACE.

    params {"W1", "b1", ...}, grads {"dW1", "db1", ...}. The arrays inside params must change
    in place (p -= lr * g), so that everyone holding them sees the update; the return value is ignored.
    """
    with _Checker("sgd_step", "fn(params, grads, lr)") as c:
        rng = np.random.default_rng(0)
        params = network.init_params((6, 4, 3), "he", rng)  # float32, small: any sizes must work
        params["b1"] += 0.1 * rng.standard_normal((4, 1)).astype(np.float32)
        grads = {"d" + key: rng.standard_normal(p.shape).astype(np.float32) for key, p in params.items()}
        lr = 0.05
        arrays = dict(params)  # the array objects themselves: they must be the ones that change
        before = {key: p.copy() for key, p in params.items()}
        grads_before = _copy(grads)
        grads = _ReadLog(grads)  # notes whether your function reads the gradients at all

        result = c.call(fn, params, grads, lr, returns=False)
        read_grads = grads.read  # (before the checks below read them too)

        c.require(params, "your sgd_step emptied the dict params (params.clear()?), which the training loop "
                          "still needs: update the arrays inside it, p -= lr * grads['d' + key] for every "
                          "key, p in params.items()")
        lost, added = [key for key in before if key not in params], [key for key in params if key not in before]
        c.require(not lost and not added, f"your sgd_step {'deleted' if lost else 'added'} "
                                          f"{', '.join(f'params[{key!r}]' for key in lost or added)}: params must "
                                          f"keep exactly its keys {', '.join(map(repr, before))}; update the "
                                          f"arrays in place (p -= lr * g)")
        changes = _changes("grads", grads_before, grads)
        c.require(not changes, f"your sgd_step {' and '.join(changes)}: e.g. g *= lr; leave the gradients as "
                               f"they are and compute lr * g as a new array: p -= lr * g")
        stale = [key for key in params if np.array_equal(arrays[key], before[key])]
        c.require(stale != list(params) or result is not None or read_grads,
                  "your sgd_step did nothing: params are unchanged, and it never read grads. Update every "
                  "parameter in place: for key, p in params.items(): p -= lr * grads['d' + key]")
        if stale and len(stale) < len(params):
            c.require(False, f"{', '.join(f'params[{key!r}]' for key in stale)} did not change: update every "
                             f"parameter (loop over params.items())")
        for key in params:
            expected = before[key] - lr * grads_before["d" + key]
            if key in stale:  # nothing changed in place: where did the update go?
                if params[key] is not arrays[key] and _close(params[key], expected):
                    c.require(False, f"params[{key!r}] was replaced by a new array (params[key] = params[key] - "
                                     f"lr * g) instead of being updated in place, so code holding the old array "
                                     f"won't see the change: write params[key] -= lr * g")
                if isinstance(result, dict) and _close(result.get(key, np.nan), expected):
                    c.require(False, "you returned new parameters but left the ones passed in unchanged: update "
                                     "them in place (p -= lr * g); the training loop ignores the return value")
                c.require(False, "params not changed in place (you rebound a local name: use p -= lr * g or "
                                 "p[...] = ...): p = p - lr * g makes a new array and leaves params alone")
            c.compare(arrays[key], expected, otherwise=_step_hint(key, arrays[key], before[key],
                                                                  grads_before["d" + key], lr))
    return c.ok


class _ReadLog(dict):
    """A dict that notes (in ``.read``) whether anyone read its values: to tell "did nothing" apart."""

    read = False

    def __getitem__(self, key):
        self.read = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read = True
        return super().get(key, default)

    def items(self):
        self.read = True
        return super().items()

    def values(self):
        self.read = True
        return super().values()


def _step_hint(key, after, before, g, lr):
    """The step was p <- p - s * g for which s? Name the mistake from s."""
    g = g.astype(np.float64)
    s = float(np.sum((before - after) * g) / np.sum(g * g))  # least-squares fit of after = before - s * g
    if not _close(after, before - s * g):
        return f"params[{key!r}] changed, but not to p - lr * g (eq. 12)"
    if np.isclose(s, -lr):
        return f"params[{key!r}] moved uphill: gradient descent subtracts, p -= lr * g, not p += lr * g"
    if np.isclose(s, 1):
        return f"the step ignores lr: params[{key!r}] moved by g, not lr * g (p -= lr * g)"
    if np.isclose(s, -1):
        return f"params[{key!r}] moved by +g: subtract, and scale by lr: p -= lr * g"
    return (f"params[{key!r}] moved by {s:.3g} * g instead of lr * g = {lr} * g: "
            f"did you hard-code a learning rate instead of using the lr argument?")
