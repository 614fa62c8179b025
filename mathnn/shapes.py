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

import numpy as np

__all__ = ["ShapeError", "shapes"]

_depth = 0  # how many checked functions are running; only the outermost one checks


class ShapeError(ValueError):
    """An array argument has the wrong shape or dtype."""


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
        raise ShapeError(f"{func_name}(): argument '{name}' has dtype {value.dtype}; expected numbers")
    shape = value.shape
    ok = len(shape) == len(axes)
    if ok:
        for axis, size in zip(axes, shape):
            expected = axis if type(axis) is int else dims.setdefault(axis, size)
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
        raise ShapeError(
            f"{func_name}(): argument '{name}' has shape {shape}, "
            f"expected {_describe(axes, dims)}{hint}"
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
    D = sum(1 for key in params if key.startswith("W"))
    for l in range(1, D + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in params:
                raise ShapeError(f"{func_name}(): argument '{name}' has no key '{key}'")
        W, b = params[f"W{l}"], params[f"b{l}"]
        if _transposed_weight(W, b):
            dims.setdefault(f"n{l}", b.shape[0])  # the bias says how many units: W's shape is then the error
        for key, axes in ((f"W{l}", [f"n{l}", f"n{l - 1}"]), (f"b{l}", [f"n{l}", 1])):
            check_array(func_name, f"{name}['{key}']", params[key], axes, dims, short=key)
    dims["n_out"] = dims[f"n{D}"]


def _transposed_weight(W, b):
    """W (n_in, n_out) looks like the transpose of a weight whose bias b is (n_out, 1)."""
    return (isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.ndim == 2
            and W.shape[0] != W.shape[1] and b.shape == (W.shape[1], 1))
