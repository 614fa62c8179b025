"""Checks that catch the classic backprop bugs of lesson 07, each with a message naming the fix.

    check_update(train_step, params)       # did one step change the parameters at all?
    check_grads(params, grads)             # does every gradient have its parameter's shape?
    rows = gradient_errors(my_backward, params, X, Y)   # backprop vs centred differences (eq. 10);
                                                        # a rel_error above 1e-7 means a bug

A flat loss curve, a shape error deep inside an update, a loss that blows up: these are
the symptoms. The checks here turn them into a message that says where to look.
"""

import numpy as np

from mathnn.gradcheck import grad_check
from mathnn.shapes import ShapeError, check_array


class StaleUpdateError(AssertionError):
    """An optimizer step left the parameters unchanged."""


def check_update(step_fn, params):
    """Run ``step_fn()`` once (one training step) and check that it changed every parameter.

    params: {name: array}, the arrays the step should update *in place* (for a layer-based
    model, e.g. ``{"W1": layer1.W, "b1": layer1.b, ...}``). Returns {name: relative change},
    ||p_after - p_before|| / max(||p_before||, ||p_after||), so 1.0 for a bias that starts at 0.
    Raises :class:`StaleUpdateError` naming the arrays that did not move at all: the usual
    cause is an optimizer that holds references to gradient buffers which backward replaced
    (``self.dW = ...``) instead of filling (``self.dW[:] = ...``).
    """
    before = {name: np.array(p, dtype=np.float64, copy=True) for name, p in params.items()}
    step_fn()
    change = {}
    for name, p in params.items():
        after = np.asarray(p, dtype=np.float64)
        diff = np.linalg.norm(after - before[name])
        change[name] = float(diff / max(np.linalg.norm(before[name]), np.linalg.norm(after))) if diff else 0.0
    stale = [name for name, p in params.items() if np.array_equal(p, before[name])]
    if stale:
        which = "params" if len(stale) == len(params) else ", ".join(stale)
        raise StaleUpdateError(
            f"{which} did not change after a step: is the optimizer holding stale gradient arrays? "
            f"If backward rebinds its gradient (self.dW = dZ @ A_prev.T), the optimizer keeps the old "
            f"array it was given; write into it instead (self.dW[:] = dZ @ A_prev.T). (Or the update "
            f"rebinds the parameter, p = p - lr * g, where p -= lr * g changes it in place.)"
        )
    return change


def check_grads(params, grads):
    """Check that grads has a ``d``-key for every parameter, each with that parameter's shape.

    Raises :class:`mathnn.ShapeError`, e.g. "check_grads(): argument 'grads['dW1']' has shape
    (784, 10), expected (10, 784) (transposed? ...)": dW must have W's shape (eq. 6).
    """
    for key, p in params.items():
        if "d" + key not in grads:
            raise ShapeError(f"check_grads(): grads has no key 'd{key}' (its keys: {', '.join(grads)})")
        check_array("check_grads", f"grads['d{key}']", np.asarray(grads["d" + key]), list(p.shape), {})


def gradient_errors(backward_fn, params, X, Y, h=1e-5):
    """Compare ``backward_fn(params, cache, Y)`` with centred differences of the loss (eq. 10).

    :func:`mathnn.grad_check` with your backward function, whose gradients' shapes are
    checked first (:func:`check_grads`). params, X, Y should be float64 (and small: every
    entry of every parameter costs two forward passes). Returns rows (name, shape,
    rel_error): above 1e-7 means a bug.
    """

    def checked_backward(params, cache, Y):
        grads = backward_fn(params, cache, Y)
        check_grads(params, grads)
        return grads

    return grad_check(params, X, Y, h, backward_fn=checked_backward)
