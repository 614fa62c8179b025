"""Checked shape annotations: a wrong shape fails loudly, naming what it expected.

NumPy broadcasting turns many shape mistakes into silent wrong answers: adding a
``(10,)`` bias to a ``(10, m)`` matrix "works" and gives garbage. The functions that
take the network's arrays (layers, network, gradcheck, train) therefore declare the
shape of each array argument::

    @shapes(W="n_out n_in", A_prev="n_in m", b="n_out 1")
    def linear_forward(W, A_prev, b): ...

A spec is a space-separated list of axes. An axis is a number (that size exactly)
or a name (any size, but the same size everywhere that name appears in one call).
The network's parameter dict takes the spec ``"layers"``: ``W1 (n1, n0)``,
``b1 (n1, 1)``, ``W2 (n2, n1)``, ... with ``n0`` the input size and ``n_out``
the size of the last layer.

A mismatch raises :class:`ShapeError`::

    linear_forward(): argument 'b' has shape (10,), expected (n_out=10, 1)

Arguments are checked where they enter ``mathnn``: when a checked function calls
another (``forward`` calls ``linear_forward``), the inner call is not checked
again, since its shapes follow from the already-checked outer arguments. This
keeps the checks cheap enough to leave on while training. (So inside ``fit``, which
checks its arguments once, nothing is re-checked, not even in a callback.)
"""

import functools
import inspect
import numbers

import numpy as np

__all__ = ["ShapeError", "shapes"]

_depth = 0  # how many checked functions are running; only the outermost one checks


class ShapeError(ValueError):
    """An array argument has the wrong shape or dtype."""


def _where(func_name):
    return f"{func_name}(): " if func_name else ""


def check_positive_int(name, value, func_name=None, example="e.g. 3"):
    """value if it is a whole number >= 1 (not a bool, not 12.0, not '3'), else ValueError naming ``name``.

    The one positive-integer rule of mathnn (epochs, batch sizes, layer sizes, schedule lengths).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{_where(func_name)}{name} must be a positive integer, got {value!r} "
                         f"(a whole number >= 1, {example})")
    return int(value)


def check_rng(rng, func_name=None, name="rng"):
    """rng if it is a ``np.random.Generator``, else ValueError saying how to make one.

    The one rng rule of mathnn: randomness comes from an explicit generator, never a seed or the global state.
    """
    if not isinstance(rng, np.random.Generator):
        hint = (f" (a seed? pass np.random.default_rng({rng}))" if isinstance(rng, numbers.Integral)
                and not isinstance(rng, bool) else "")
        raise ValueError(f"{_where(func_name)}{name} must be an explicit rng, a np.random.Generator, e.g. "
                         f"{name}=np.random.default_rng(0); got {rng!r}{hint}")
    return rng


def check_float_dtype(dtype, func_name):
    """np.dtype(dtype) if it is a floating-point type, else ValueError (weights of 0.05 would round to 0)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ValueError(f"{func_name}(): dtype must be a floating-point type such as np.float32 or np.float64 "
                         f"(small weights would round to 0 in an integer type); got {dtype!r}")
    return dtype


def _parse(spec):
    """'n_out 1' -> ['n_out', 1]: numbers become ints, names stay strings."""
    return [int(axis) if axis.isdigit() else axis for axis in spec.split()]


def _describe(axes, dims):
    """Render axes such as ['n_out', 1] as '(n_out=10, 1)' using the sizes bound so far."""
    parts = [f"{a}={dims[a]}" if a in dims else str(a) for a in axes]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_array(func_name, name, value, axes, dims, short=None):
    """Check one array against parsed axes (ints and names), binding names into ``dims``.

    Raises ShapeError naming the argument, the expected and the actual shape. ``short``: the
    name the fix-it hints use (``W1`` for the argument ``params['W1']``), ``name`` by default.
    """
    short = short or name
    if not isinstance(value, np.ndarray):
        raise ShapeError(
            f"{func_name}(): argument '{name}' should be a NumPy array of shape "
            f"{_describe(axes, dims)}, got {type(value).__name__}"
        )
    if value.dtype.kind not in "fiub":
        raise ShapeError(f"{func_name}(): argument '{name}' has dtype {value.dtype}; expected numbers (if they are "
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
            f"{func_name}(): argument '{name}' has shape {shape}, "
            f"expected {_describe(axes, dims)}{hint}{source}"
        )


def shapes(**specs):
    """Decorator: check the shapes of the named arguments on every call.

    ``specs`` maps an argument name to a spec string ("n_in m"), or to "layers"
    for a parameter dict. Arguments passed as None are not checked.
    """
    parsed = {name: _parse(spec) for name, spec in specs.items()}

    def decorate(func):
        signature = inspect.signature(func)
        position = {name: list(signature.parameters).index(name) for name in parsed}

        @functools.wraps(func)
        def checked(*args, **kwargs):
            global _depth
            if _depth:
                return func(*args, **kwargs)
            dims = {}
            for name, axes in parsed.items():
                i = position[name]
                value = args[i] if i < len(args) else kwargs.get(name)
                if value is None:
                    continue
                if axes == ["layers"]:
                    check_params(func.__name__, name, value, dims)
                else:
                    check_array(func.__name__, name, value, axes, dims)
            _depth += 1
            try:
                return func(*args, **kwargs)
            finally:
                _depth -= 1

        return checked

    return decorate


def check_params(func_name, name, params, dims):
    """Check a parameter dict {W1, b1, ..., W_D, b_D} of depth D: W_l is (n_l, n_{l-1}), b_l is (n_l, 1).

    A transposed weight (W1 of shape (784, 10) next to b1 (10, 1)) is blamed on the weight.
    """
    if not isinstance(params, dict) or "W1" not in params:
        raise ShapeError(f"{func_name}(): argument '{name}' should be a dict with keys W1, b1, W2, b2, ...")
    D = sum(1 for key in params if isinstance(key, str) and key.startswith("W"))
    keys = [f"{kind}{l}" for l in range(1, D + 1) for kind in "Wb"]
    for key in keys:
        if key not in params:
            raise ShapeError(f"{func_name}(): argument '{name}' has no key '{key}'")
    extra = [key for key in params if key not in keys]
    if extra:
        raise ShapeError(f"{func_name}(): argument '{name}' has the extra key(s) {', '.join(map(repr, extra))}: a "
                         f"parameter dict holds only the arrays {', '.join(keys)}; keep other settings elsewhere")
    for l in range(1, D + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if _transposed_weight(W, b):
            dims.setdefault(f"n{l}", b.shape[0])  # the bias says how many units: W's shape is then the error
        for key, axes in ((f"W{l}", [f"n{l}", f"n{l - 1}"]), (f"b{l}", [f"n{l}", 1])):
            check_array(func_name, f"{name}['{key}']", params[key], axes, dims, short=key)
            if params[key].dtype.kind != "f":
                raise ShapeError(f"{func_name}(): argument '{name}['{key}']' has dtype {params[key].dtype}; "
                                 f"parameters must be floating-point: params['{key}'].astype(np.float32), or "
                                 f"init_params(..., dtype=np.float32)")
    dims["n_out"] = dims[f"n{D}"]


def _transposed_weight(W, b):
    """W (n_in, n_out) looks like the transpose of a weight whose bias b is (n_out, 1)."""
    return (isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.ndim == 2
            and W.shape[0] != W.shape[1] and b.shape == (W.shape[1], 1))
