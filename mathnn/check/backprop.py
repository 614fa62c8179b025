"""Lesson 03: the backward pass (every gradient, dZ2 to db1) and the numerical gradient."""

import numpy as np

from mathnn import batches, gradcheck, network
from mathnn.check.core import _close, _fmt, _names, checker


@checker(lesson=3, fallback=network.backward, signature="fn(params, cache, Y) with cache from mn.forward(params, X)",
         mathnn=(network.loss_and_grads,))
def backward(c, fn):
    """Check ``fn(params, cache, Y) -> grads``, the signature of ``mathnn.backward``.

    params: {"W1" (10, 784), "b1" (10, 1), "W2" (10, 10), "b2" (10, 1)}; cache: from
    ``mathnn.forward(params, X)``, with keys "A0" (= X), "Z1", "A1", "Z2", "A2"; Y: one-hot (10, m).
    grads: {"dW1", "db1", "dW2", "db2"}, each the shape of its parameter (eqs. 5'-9). If grads also
    holds the intermediates "dZ2" (10, m), "dA1" (10, m) or "dZ1" (10, m), they are checked too.
    Every gradient is checked, in the order backprop computes them; the hint names the first wrong
    one (later ones are built from it) and lists the others.
    """
    rng = np.random.default_rng(0)
    m = 8
    params = network.init_params((784, 10, 10), "he", rng, dtype=np.float64)
    params["b1"] = 0.1 * rng.standard_normal((10, 1))
    params["b2"] = 0.1 * rng.standard_normal((10, 1))
    X = rng.random((784, m))  # (784, m) "pixels" in [0, 1)
    Y = batches.one_hot(rng.integers(0, 10, m)).astype(np.float64)  # (10, m)
    _, cache = network.forward(params, X)

    grads = c.call(fn, params, cache, Y, keep=("params", "cache", "Y"), fix=(
        "the caller still needs params, cache and Y as they were. Compute new arrays "
        "(dZ2 = A2; dZ2 -= Y changes A2 too) and return them in a new dict"))
    c.require(isinstance(grads, dict), f"your function returned a {type(grads).__name__}; expected a dict "
                                       f"{{'dW1': ..., 'db1': ..., 'dW2': ..., 'db2': ...}}")
    missing = [key for key in ("dW2", "db2", "dW1", "db1") if key not in grads]  # in backprop order
    c.require(not missing, f"your grads dict has no key {', '.join(map(repr, missing))} "
                           f"(its keys: {', '.join(map(repr, grads))})")

    # The right gradients (eqs. 5'-9), and what the classic mistakes would give instead.
    W2, A1, Z1, A2 = params["W2"], cache["A1"], cache["Z1"], cache["A2"]
    dZ2 = (A2 - Y) / m  # (10, m)  (eq. 5')
    dA1 = W2.T @ dZ2  # (10, 10) @ (10, m) -> (10, m)  (eq. 8)
    dZ1 = dA1 * (Z1 > 0)  # (10, m)  (eq. 9)
    right = {"dZ2": dZ2, "dW2": dZ2 @ A1.T, "db2": dZ2.sum(axis=1, keepdims=True), "dA1": dA1, "dZ1": dZ1,
             "dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True)}  # in the order backprop computes them
    dZ1_variants = [  # (hint, the dZ1 this mistake gives)
        ("did you forget the ReLU mask (Z1 > 0)? (eq. 9)«: dZ1 = dA1 * (Z1 > 0)»", dA1),
        ("you multiplied by Z1 itself; ReLU's derivative is the 0/1 mask (Z1 > 0) (eq. 9)", dA1 * Z1),
        ("you multiplied by the activation A1; ReLU's derivative is the 0/1 mask (Z1 > 0) (eq. 9)", dA1 * A1),
        ("did you use W2 without the transpose? The way back goes through W2's transpose (eq. 8)",
         (W2 @ dZ2) * (Z1 > 0)),
    ]
    forgot_Y = "is wrong: did you forget '- Y'? (eq. 5')«: dZ2 = (A2 - Y) / m»"
    mistakes = {
        "dZ2": [(forgot_Y, A2 / m)],
        "dW2": [("uses Z1; it should use the activation A1, after the ReLU (eq. 6)«: dW2 = dZ2 @ A1.T»",
                 dZ2 @ Z1.T),  # (10, m) @ (m, 10) -> (10, 10): Z1 where A1 belongs
                ("is transposed: it must have W2's shape, (10, m) times (m, 10) (eq. 6)«: dW2 = dZ2 @ A1.T»",
                 (dZ2 @ A1.T).T),
                (forgot_Y, A2 @ A1.T / m)],  # (10, m) @ (m, 10) -> (10, 10): dZ2 without '- Y'
        "db2": [],
        "dA1": [("is W2 @ dZ2: the way back goes through the transpose of W2 (eq. 8)«: dA1 = W2.T @ dZ2»", W2 @ dZ2),
                ("holds dZ1's values, masked: dZ1 = dA1 does not copy, it gives the same array a second name, so "
                 "masking dZ1 in place (dZ1[...] = 0) changed dA1 too. Make dZ1 a new array«: dZ1 = dA1 * (Z1 > 0), "
                 "or dA1.copy() before masking»", dZ1)],
        "dZ1": [("is wrong: " + hint, variant) for hint, variant in dZ1_variants],
        "dW1": [("has the right shape but wrong values: " + hint,
                 variant @ X.T)  # (10, m) @ (m, 784) -> (10, 784), one per mistaken dZ1
                for hint, variant in dZ1_variants],
        "db1": [("has the right shape but wrong values: " + hint, variant.sum(axis=1, keepdims=True))
                for hint, variant in dZ1_variants],
    }
    hints = []
    for key in right:
        if key not in grads:  # an intermediate (dZ2, dA1, dZ1) you chose not to return
            continue
        hint = _gradient_hint(key, c.array(grads[key], what=f"your grads[{key!r}]", dtype=np.float64),
                              right[key], m, mistakes[key])
        if hint:
            hints.append(hint)
        else:
            c.passed += 1
    if len(hints) > 1:
        hints[1:] = [f"\n  {len(hints) - 1} more wrong, each built from the ones before (fix the first one first):"] + [
            f"\n  - {hint}" for hint in hints[1:]]
    c.require(not hints, "".join(hints))


def _gradient_hint(key, got, right, m, mistakes):
    """None if the gradient `key` is right, else a hint naming the mistake."""
    name, n = key[1:], right.shape[0]  # "W2", 10
    if got.shape != right.shape:
        if key.startswith("db"):
            dZ = "dZ" + key[-1]
            shape_hints = {
                (n, m): f"has shape ({n}, m): sum {dZ} over the batch axis, axis 1 (eq. 7)"
                        f"«: {dZ}.sum(axis=1, keepdims=True)»",
                (n,): f"has shape ({n},): keep it a column like {name} ({n}, 1) — sum with keepdims=True",
                (1, m): "has shape (1, m): you summed over axis=0 (the units); sum over axis=1 (the examples)",
                (m,): "has shape (m,): you summed over axis=0 (the units); sum over axis=1 (the examples), "
                      "keepdims=True",
            }
        elif key[1] == "W":
            shape_hints = {right.shape[::-1]: f"has shape {right.shape[::-1]}, the transpose of {name}'s: "
                                              f"d{name} has {name}'s shape {right.shape} (eq. 6)"
                                              f"«: d{name} = dZ @ A_prev.T»"}
        else:
            shape_hints = {}
        return f"{key} " + shape_hints.get(got.shape, f"has shape {got.shape}; expected {right.shape}, "
                                                      f"the shape of {name}")
    if _close(got, right):
        return None
    for hint, wrong in [
        ("is m times too large: did you forget the 1/m in dZ2 (eq. 5')?", m * right),
        ("is m times too small: you divided by m twice (dZ2 already holds the 1/m of eq. 5'"
         + ("" if key in ("dZ2", "dA1", "dZ1") else f"; {key} is a sum over the examples, not a mean") + ")",
         right / m),
        ("has the wrong sign: dZ2 is A2 minus Y, not Y minus A2 (eq. 5')", -right),
        ("is all zeros: did you return a placeholder (np.zeros_like)? Compute it (eq. 5'-9)", np.zeros_like(right)),
        *mistakes,
    ]:
        if _close(got, wrong):
            return f"{key} {hint}"
    return f"{key} has the right shape but wrong values (largest difference {np.abs(got - right).max():.3g})"


@checker(lesson=3, fallback=gradcheck.numerical_gradient,
         signature="fn(f, x, h=1e-5) with f() a function of no arguments that reads the float array x",
         mathnn=(gradcheck.compare_gradients,))
def numerical_gradient(c, fn):
    """Check ``fn(f, x, h=1e-5) -> grad``: centred differences (eq. 10), one entry of x at a time.

    f() takes no arguments and reads the array x (any shape), which fn nudges in place:
    grad[i] = (f() with x[i] + h  -  f() with x[i] - h) / (2h), every x[i] put back afterwards.
    grad: float, x's shape. The test function is f(x) = sum(x**3 / 3 + c * x), whose exact
    centred difference is x**2 + c + h**2 / 3.
    """
    rng = np.random.default_rng(0)
    for shape, h in (((5,), 0.1), ((3, 4), None), ((2, 3), 0.01)):  # a vector, then matrices: default h, another
        x = rng.standard_normal(shape)  # float64
        x_before, coef = x.copy(), rng.standard_normal(shape)
        f = _cubic(x, coef)
        step = 1e-5 if h is None else h
        args = (f, x) if h is None else (f, x, h)
        grad = c.array(c.call(fn, *args, on_error={
            TypeError: " — f takes no arguments: it reads x, so call f(), after nudging x in place",
            IndexError: " — x may have more than one axis: loop over np.ndindex(x.shape) and use x[i]"}),
            what=f"for x of shape {shape} your gradient", dtype=np.float64)
        where = f"for x of shape {shape}" + (" (called without h, so h = 1e-5)" if h is None else f" and h = {h}")
        c.require(np.array_equal(x, x_before), (
            f"{where} your function left x changed (largest change {np.abs(x - x_before).max():.3g}): put every "
            f"entry back after nudging it (keep the old value and restore it), or the caller's x "
            f"stays wrong" if np.abs(x - x_before).max() > 0.5 * step else
            f"{where} your function left x changed (largest change {np.abs(x - x_before).max():.3g}): "
            f"restore each entry exactly by assigning its saved old value, not by adding and subtracting h"))
        c.require_shape(grad, shape, {(x.size,): f"{where} your gradient has shape ({x.size},), flattened: it "
                                                 f"must have x's shape {shape} (np.zeros_like(x))"},
                        what=f"{where} your gradient")
        right = x**2 + coef + step**2 / 3  # the exact centred difference of f  (eq. 10)
        g = x**2 + coef  # the exact gradient
        c.compare(grad, right, rtol=1e-6, mistakes=[
            ("your gradient is all zeros: f() reads the array x itself, so nudge x in place, one entry; "
             + ("but x.flatten() returns a copy: your nudges went into the copy, which f never sees (x.reshape(-1) "
                "is a view of a contiguous x; or use x[i] for i in np.ndindex(x.shape))" if "flatten" in _names(fn)
                else "x = x + h makes a new array that f never sees"), np.zeros(shape)),
            ("you used the forward difference (f(x + h) - f(x)) / h, whose error is O(h); the centred one, "
             "(f(x + h) - f(x - h)) / (2h), is off by only O(h^2) (eq. 10)", g + step * x + step**2 / 3),
            ("you used the backward difference (f(x) - f(x - h)) / h, whose error is O(h); the centred one, "
             "(f(x + h) - f(x - h)) / (2h), is off by only O(h^2) (eq. 10)", g - step * x + step**2 / 3),
            ("your gradient is twice too large: divide by 2h — mind the parentheses: / 2 * h multiplies by h",
             2 * right),
            ("your gradient is h^2 times too small: / 2 * h divides by 2 and then multiplies by h; "
             "put 2h in parentheses", right * step**2),
            ("every entry of your gradient is the same, the sum of all partial derivatives: you nudged all of x "
             "at once (x + h). Nudge one entry at a time: for i in np.ndindex(x.shape)",
             np.full(shape, g.sum() + x.size * step**2 / 3)),
            ("your gradient has the wrong sign: (f(x + h) - f(x - h)) / (2h), the plus side first", -right),
            (f"your answer does not depend on h: you ignore the h argument (h = {step} here) — "
             f"use h, not a number of your own", g + 1e-5**2 / 3),
        ], otherwise=f"{where} your gradient {_fmt(grad.ravel()[:4])}... differs from the centred difference "
                     f"{_fmt(right.ravel()[:4])}... (largest difference {np.abs(grad - right).max():.3g})")


def _cubic(x, coef):
    """f() = sum(x**3 / 3 + coef * x), a function of no arguments that reads the array x (wherever it is nudged)."""
    def f():
        return float(np.sum(x**3 / 3 + coef * x))
    return f
