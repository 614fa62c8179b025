"""Validated shape annotations: a wrong shape fails loudly, naming what it expected.

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

A mismatch raises :class:`mathnn.validate.ShapeError` (the rules themselves live in
:mod:`mathnn.validate`)::

    linear_forward(): argument 'b' has shape (10,), expected (n_out=10, 1)

Arguments are validated where they enter ``mathnn``: when a decorated function calls
another (``forward`` calls ``linear_forward``), the inner call is not validated
again, since its shapes follow from the already-validated outer arguments. This
keeps the validation cheap enough to leave on while training. (So inside ``fit``, which
validates its arguments once, nothing is validated again, not even in a callback.)
"""

import functools
import inspect

from mathnn.validate import validate_array, validate_params

__all__ = ["shapes"]

_depth = 0  # how many decorated functions are running; only the outermost one validates


def _parse(spec):
    """'n_out 1' -> ['n_out', 1]: numbers become ints, names stay strings."""
    return [int(axis) if axis.isdigit() else axis for axis in spec.split()]


def shapes(**specs):
    """Decorator: validate the shapes of the named arguments on every call.

    ``specs`` maps an argument name to a spec string ("n_in m"), or to "layers"
    for a parameter dict. Arguments passed as None are not validated.
    """
    parsed = {name: _parse(spec) for name, spec in specs.items()}

    def decorate(func):
        signature = inspect.signature(func)
        position = {name: list(signature.parameters).index(name) for name in parsed}

        @functools.wraps(func)
        def validated(*args, **kwargs):
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
                    validate_params(value, func.__name__, name, dims)
                else:
                    validate_array(func.__name__, name, value, axes, dims)
            _depth += 1
            try:
                return func(*args, **kwargs)
            finally:
                _depth -= 1

        return validated

    return decorate
