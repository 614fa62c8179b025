"""Gradient checking: compare backprop's gradients with centred finite differences.

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2h)      (eq. 10)

The error of this estimate is O(h^2) plus rounding, so in float64 with h = 1e-5 a
correct gradient array agrees to a relative error (eq. 10) of about 1e-10; anything
above 1e-7 means a bug. The relative error compares whole arrays by their norms: a
per-entry ratio is dominated by rounding on entries whose gradient is almost zero
(faint edge pixels of MNIST have gradients of 1e-7), which says nothing about a bug.
"""

import math

import numpy as np

from mathnn.network import backward, forward, loss
from mathnn.shapes import shapes
from mathnn.validate import ShapeError, validate_grads, validate_number

__all__ = ["rel_error", "numerical_gradient", "compare_gradients", "print_grad_table"]


def rel_error(a, b):
    """||a - b|| / max(||a|| + ||b||, 1e-12) over whole arrays (eq. 10): 0 if equal, 1 if a = -b.

    a and b must have the same shape: a (3, 1) against a (3,) would broadcast to (3, 3).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"rel_error(): a has shape {a.shape} but b has shape {b.shape}; compare arrays of the "
                         f"same shape (if they hold the same entries, b.reshape(a.shape))")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function f() with respect to array x.

    x is perturbed in place, one entry at a time, and restored; f takes no
    arguments and must read x. x must be a float array (float64 for gradient checks):
    in an int array, x[i] = x[i] + h would be truncated back. Returns float64, x's shape.
    """
    _validate_h(h, "numerical_gradient")
    if not callable(f):
        raise TypeError(f"numerical_gradient(): f must be a function of no arguments that reads x and returns the "
                        f"loss, e.g. lambda: loss(params, X, Y); got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient(): x must be a float NumPy array (float64 for gradient checks), got "
                        f"{getattr(x, 'dtype', type(x).__name__)}: an entry nudged by h={h} would be truncated or "
                        f"lost. Make a float64 array, x = x.astype(np.float64), and let f read that array")
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def _validate_h(h, func_name):
    """The finite-difference step h: a finite number > 0 (1e-5 in float64), else ValueError."""
    validate_number("h", h, lambda x: 0 < x < math.inf, "the finite-difference step, a small number > 0 (e.g. h=1e-5)",
                    func_name)


@shapes(params="layers", X="n0 m", Y="n_out m")
def compare_gradients(params, X, Y, h=1e-5, backward_fn=backward):
    """Backprop vs numerical gradient of the mean loss L = loss(params, X, Y) (eq. 5) for every parameter.

    X (n0, m), one-hot Y (n_out, m). backward_fn(params, cache, Y) -> grads: the backward pass
    to check, mathnn's by default (pass your own to check it); its gradients' keys and shapes
    are checked first (:func:`mathnn.validate.validate_grads`, ShapeError). params, X and Y must be float64
    (TypeError otherwise), and few: every entry of every parameter costs two forward passes. Returns rows
    (name, shape, rel_error), one per parameter, e.g. ("W1", (10, 784), 3e-10): above 1e-7 means a bug.
    """
    _validate_h(h, "compare_gradients")
    if not callable(backward_fn):
        raise TypeError(f"compare_gradients(): backward_fn must be a function backward_fn(params, cache, Y) -> grads, "
                        f"got {type(backward_fn).__name__}")
    not_float64 = [name for name, a in [*params.items(), ("X", X), ("Y", Y)] if a.dtype != np.float64]
    if not_float64:
        raise TypeError(f"compare_gradients(): {', '.join(not_float64)} not float64: in float32, rounding alone gives "
                        f"relative errors near 1e-2, which would look like bugs. Use "
                        f"init_params(..., dtype=np.float64), one_hot(y, dtype=np.float64) and X.astype(np.float64)")
    _, cache = forward(params, X)
    grads = backward_fn(params, cache, Y)
    validate_grads(params, grads, "compare_gradients")
    return [(key, p.shape, rel_error(grads["d" + key], numerical_gradient(lambda: loss(params, X, Y), p, h)))
            for key, p in params.items()]


def print_grad_table(rows):
    """Print compare_gradients' rows as a small table."""
    print(f"{'parameter':<10} {'shape':<12} {'relative error':>14}")
    for name, shape, err in rows:
        print(f"{name:<10} {str(shape):<12} {err:>14.2e}")
