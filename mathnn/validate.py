"""Argument validation, in one place: every rule mathnn applies to what a caller passes in.

Each ``validate_*`` function returns the value (converted where that helps: an int, a float, a dtype)
or raises an error that names the function called, the argument, what was expected and what to do:

    validate_positive_int    epochs, batch sizes, layer sizes, grid sizes
    validate_sizes           the layer sizes (n0, n1, ..., n_D) of a network
    validate_rng             randomness comes from an explicit np.random.Generator
    validate_float_dtype     parameters are floating-point
    validate_number          a real number within a range (validate_rate: a learning rate or a weight decay)
    validate_array           one array against a shape spec (the ``@shapes`` decorator uses it)
    validate_params          the parameter dict {W1, b1, ..., W_D, b_D}
    validate_grads           a gradient dict {dW1, db1, ...} with the parameters' shapes
    validate_updatable       a parameter dict an optimizer can update in place
    validate_labels          class indices 0 .. k-1
    validate_finite          no NaN or inf
    validate_callable        a function of one argument

A wrong shape raises :class:`ShapeError` (a ValueError); every other wrong value a ValueError.
"""

import inspect
import math
import numbers

import numpy as np

__all__ = ["ShapeError"]


class ShapeError(ValueError):
    """An array argument has the wrong shape or dtype."""


def _where(func_name):
    return f"{func_name}(): " if func_name else ""


def _argument(func_name, name):
    """How a message names an argument: "f(): argument 'X'", or just "'X'" where no function is named."""
    return f"{func_name}(): argument '{name}'" if func_name else f"'{name}'"


def validate_positive_int(name, value, func_name=None, example="e.g. 3"):
    """value as an int if it is a whole number >= 1 (not a bool, not 12.0, not '3'), else ValueError naming ``name``.

    The one positive-integer rule of mathnn (epochs, batch sizes, layer sizes, schedule lengths).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{_where(func_name)}{name} must be a positive integer, got {value!r} "
                         f"(a whole number >= 1, {example})")
    return int(value)


def validate_sizes(sizes, func_name):
    """sizes as a tuple of ints (n0, n1, ..., n_D), at least two positive whole numbers; else ValueError."""
    example = "e.g. sizes=(784, 10, 10)"
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"{func_name}(): sizes must be a tuple of at least two layer sizes (inputs, ..., outputs), "
                         f"{example}; got {sizes!r}")
    for size in sizes:
        validate_positive_int(f"every layer size in sizes={tuple(sizes)!r}", size, func_name, example)
    return tuple(int(size) for size in sizes)


def validate_rng(rng, func_name=None, name="rng"):
    """rng if it is a ``np.random.Generator``, else ValueError saying how to make one.

    The one rng rule of mathnn: randomness comes from an explicit generator, never a seed or the global state.
    """
    if not isinstance(rng, np.random.Generator):
        hint = (f" (a seed? pass np.random.default_rng({rng}))" if isinstance(rng, numbers.Integral)
                and not isinstance(rng, bool) else "")
        raise ValueError(f"{_where(func_name)}{name} must be an explicit rng, a np.random.Generator, e.g. "
                         f"{name}=np.random.default_rng(0); got {rng!r}{hint}")
    return rng


def validate_float_dtype(dtype, func_name):
    """np.dtype(dtype) if it is a floating-point type, else ValueError (weights of 0.05 would round to 0)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ValueError(f"{func_name}(): dtype must be a floating-point type such as np.float32 or np.float64 "
                         f"(small weights would round to 0 in an integer type); got {dtype!r}")
    return dtype


def validate_number(name, value, ok, rule, func_name=None):
    """value as a float if it is a real number (not a bool) with ok(value), else ValueError: ``name`` must be ``rule``.

    ok: a test of the float, e.g. ``lambda x: 0 < x <= 1``; NaN fails every comparison, so it fails ok.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(float(value)):
        raise ValueError(f"{_where(func_name)}{name} must be {rule}, got {value!r}")
    return float(value)


def validate_rate(value, name="lr", example="e.g. 0.1", func_name=None):
    """value as a float if it is a finite number >= 0 (a learning rate, a weight decay), else ValueError."""
    return validate_number(name, value, lambda x: 0 <= x < math.inf, f"a finite number >= 0 ({example})", func_name)


def _describe(axes, dims):
    """Render axes such as ['n_out', 1] as '(n_out=10, 1)' using the sizes bound so far."""
    parts = [f"{a}={dims[a]}" if a in dims else str(a) for a in axes]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def validate_array(func_name, name, value, axes, dims, short=None):
    """Check one array against parsed axes (ints and names), binding names into ``dims``.

    Raises ShapeError naming the argument, the expected and the actual shape. ``short``: the
    name the fix-it hints use (``W1`` for the argument ``params['W1']``), ``name`` by default.
    """
    short = short or name
    if not isinstance(value, np.ndarray):
        raise ShapeError(
            f"{_argument(func_name, name)} should be a NumPy array of shape "
            f"{_describe(axes, dims)}, got {type(value).__name__}"
        )
    if value.dtype.kind not in "fiub":
        raise ShapeError(f"{_argument(func_name, name)} has dtype {value.dtype}; expected numbers (if they are "
                         f"numbers written as text, convert them: {short}.astype(int) or {short}.astype(float))")
    shape = value.shape
    ok = len(shape) == len(axes)
    bound_by = dims.setdefault("@", {})  # axis name -> the argument that fixed its size
    if ok:
        for axis, size in zip(axes, shape):
            if type(axis) is not int and axis not in dims:
                dims[axis], bound_by[axis] = size, name
            expected = axis if type(axis) is int else dims[axis]
            if expected != size:
                ok = False
                break
    if not ok:
        hint = ""
        if len(shape) == 1 and len(axes) == 2 and axes[1] == 1:
            hint = f" (a 1-D array broadcasts silently; use {short}.reshape(-1, 1))"
        elif len(shape) == 2 and len(axes) == 2 and all(
            size == (a if type(a) is int else dims.get(a, size)) for a, size in zip(axes, shape[::-1])
        ):
            hint = f" (transposed? try {short}.T)"
        sources = [f"{a}={dims[a]} from {bound_by[a]}" for a in axes if bound_by.get(a, name) != name]
        source = f" ({', '.join(sources)})" if sources and not hint else ""
        raise ShapeError(
            f"{_argument(func_name, name)} has shape {shape}, "
            f"expected {_describe(axes, dims)}{hint}{source}"
        )


def validate_params(params, func_name=None, name="params", dims=None, sizes=None, finite=False):
    """The one parameter-dict rule: {W1, b1, ..., W_D, b_D} with W_l (n_l, n_{l-1}) and b_l (n_l, 1), floating-point.

    D is the number of W keys, or len(sizes) - 1 if ``sizes`` (n0, n1, ..., n_D) is given, which also fixes
    every n_l. ``dims``: sizes already bound by other arguments (e.g. {"n0": 784}); it receives n0 .. n_D and
    n_out. finite: also refuse NaN/inf entries (what save_params and load_params ask). Raises ShapeError naming
    the key and what is wrong: keys missing or extra, a shape (a transposed weight is blamed on the weight, not
    its bias), a dtype, non-finite entries. name None: the arrays are named by their keys alone ('W1').
    """
    dims = {} if dims is None else dims
    where = _argument(func_name, name) if name else "the dict"

    def label(key):  # params['W1'], or W1 where the dict has no name
        return f"{name}['{key}']" if name else key
    if not isinstance(params, dict):
        raise ShapeError(f"{where} should be a dict with keys W1, b1, W2, b2, ..., got {type(params).__name__}")
    D = (len(sizes) - 1 if sizes is not None
         else sum(1 for key in params if isinstance(key, str) and key.startswith("W")))
    keys = [f"{kind}{l}" for l in range(1, D + 1) for kind in "Wb"]
    missing, extra = [key for key in keys if key not in params], [key for key in params if key not in keys]
    if not keys or missing or extra:
        found, expected = ", ".join(map(str, params)) or "(none)", ", ".join(keys or ["W1", "b1", "..."])
        what = f"has no key {missing[0]!r}" if missing else "has the extra key(s) " + ", ".join(map(repr, extra))
        raise ShapeError(f"{where} {what if keys else 'has no key W1'}: its arrays are named {found}, expected "
                         f"{expected} (a parameter dict holds only these arrays; keep other settings elsewhere)")
    if sizes is not None:
        dims.update({f"n{l}": n for l, n in enumerate(sizes)})
    for l in range(1, D + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if _transposed_weight(W, b):
            dims.setdefault(f"n{l}", b.shape[0])  # the bias says how many units: W's shape is then the error
        for key, axes in ((f"W{l}", [f"n{l}", f"n{l - 1}"]), (f"b{l}", [f"n{l}", 1])):
            validate_array(func_name, label(key), params[key], axes, dims, short=key)
            if params[key].dtype.kind != "f":
                raise ShapeError(f"{_argument(func_name, label(key))} has dtype {params[key].dtype}; "
                                 f"parameters must be floating-point: params['{key}'].astype(np.float32), or "
                                 f"init_params(..., dtype=np.float32)")
    if finite:
        for key in keys:
            bad = int(params[key].size - np.count_nonzero(np.isfinite(params[key])))
            if bad:
                raise ShapeError(f"{_argument(func_name, label(key))} holds {bad} NaN/inf entries (from a training "
                                 f"that diverged?)")
    dims["n_out"] = dims[f"n{D}"]


def _transposed_weight(W, b):
    """W (n_in, n_out) looks like the transpose of a weight whose bias b is (n_out, 1)."""
    return (isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.ndim == 2
            and W.shape[0] != W.shape[1] and b.shape == (W.shape[1], 1))


def validate_grads(params, grads, func_name="validate_grads"):
    """grads has a ``d``-key for every parameter, each with that parameter's shape; else ShapeError.

    params {"W1": (n1, n0), "b1": (n1, 1), ...}, grads {"dW1": (n1, n0), "db1": (n1, 1), ...}, e.g.
    "argument 'grads['dW1']' has shape (784, 10), expected (10, 784) (transposed? ...)": dW has W's shape (eq. 6).
    """
    if not isinstance(grads, dict):
        raise ShapeError(f"{func_name}(): grads should be a dict {{'dW1': ..., 'db1': ..., ...}} (what backward "
                         f"returns), got {type(grads).__name__}")
    for key, p in params.items():
        if "d" + key not in grads:
            raise ShapeError(f"{func_name}(): grads has no key 'd{key}' (its keys: {', '.join(grads)})")
        validate_array(func_name, f"grads['d{key}']", np.asarray(grads["d" + key]), list(p.shape), {})


def validate_updatable(params, who):
    """Refuse params that an optimizer could not update in place: not a dict of writable float arrays."""
    if not isinstance(params, dict) or not params:
        raise ValueError(f"{who}: params must be a dict of parameter arrays, e.g. {{'W1': W1, 'b1': b1, ...}} "
                         f"(mn.init_params or net.params()); got {type(params).__name__} {params!r:.60}")
    for key, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise ValueError(f"{who}: params[{key!r}] must be a floating-point NumPy array, got "
                             f"{getattr(p, 'dtype', type(p).__name__)}")
        if not p.flags.writeable:
            raise ValueError(f"{who}: params[{key!r}] is read-only, so it cannot be updated in place (arrays of "
                             f"load_mnist_splits or a memory map?): pass a copy, e.g. "
                             f"{{k: v.copy() for k, v in params.items()}}")


def validate_labels(y, num_classes, func_name, name="y"):
    """The one label rule: y (m,) holds integer class indices in 0 .. num_classes - 1; else ValueError
    naming the argument, the bad label and what to do."""
    if y.dtype.kind not in "iu":
        raise ValueError(f"{func_name}(): {name}: labels must be integers (class indices 0..{num_classes - 1}), "
                         f"got dtype {y.dtype}" + _label_dtype_hint(y))
    outside = np.flatnonzero((y < 0) | (y >= num_classes))
    if len(outside):
        raise ValueError(f"{func_name}(): {name} holds {len(outside)} label(s) outside 0..{num_classes - 1}, e.g. "
                         f"{y[outside[0]]} at index {outside[0]} (labels must lie in [0, {num_classes})); pass class "
                         f"indices 0..{num_classes - 1} (or a network with more outputs)")


def _label_dtype_hint(y):
    """Why labels y (m,) of a non-integer dtype are refused, and what to do."""
    if y.dtype.kind == "b":
        return ": booleans are not class indices; for two classes use y.astype(int) and num_classes=2"
    if y.dtype.kind != "f":
        return ""
    if not np.all(np.isfinite(y)):
        return f": NaN or infinite labels, {np.sum(~np.isfinite(y))} of {y.size} (missing? drop those examples)"
    fractional = y[y != np.round(y)]
    if fractional.size:
        return f": {fractional[0]:g} is not a whole number. Are these really the labels?"
    return ": they are whole numbers, so convert them: y.astype(int)"


def validate_finite(name, X, func_name=None):
    """ValueError if the array X holds NaN or inf, which would make every loss NaN (not a learning-rate problem)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(X.sum()) or np.isfinite(X).all():  # the sum is fast; it overflows only for huge X
            return
    count = int(np.size(X) - np.isfinite(X).sum())
    raise ValueError(f"{_where(func_name)}{name} contains NaN or infinite values ({count} entries): training on them "
                     f"would only produce NaN. Find where they come from, or drop those examples "
                     f"(np.isfinite({name}).all() must be True).")


def validate_finite_columns(func_name, X):
    """Refuse NaN/inf in X (n0, m): the network would put every such column in class 0 without a word."""
    finite = np.isfinite(X)
    if not finite.all():
        columns = np.flatnonzero(~finite.all(axis=0))
        shown = ", ".join(map(str, columns[:5])) + (", ..." if len(columns) > 5 else "")
        raise ValueError(f"{func_name}(): X holds NaN or inf in {len(columns)} of its {X.shape[1]} columns "
                         f"(columns {shown}); a prediction from them means nothing. Fix or drop those columns.")


def validate_callable(name, value, example, func_name="fit"):
    """Refuse a value that func_name would call with one argument but cannot be (None: not given)."""
    if value is None:
        return
    if not callable(value):
        raise ValueError(f"{func_name}(): {name} must be a function, {example}; got {type(value).__name__} "
                         f"{value!r:.60}")
    try:
        inspect.signature(value).bind(0)
    except TypeError:
        raise ValueError(f"{func_name}(): {name} must take one argument ({example}), but {value!r:.60} takes "
                         f"{inspect.signature(value)}") from None
    except ValueError:  # no signature to check (a built-in): it will tell for itself
        pass
