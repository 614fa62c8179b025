"""Diagnostics that catch the classic backprop bugs of lesson 07, each with a message naming the fix.

    relative_update(step_fn, params)       # did one step change the parameters at all?
    diagnose(params, X_val, history)       # why does a trained network not learn? findings, causes first
    dead_units(params, X)                  # which hidden units never fire?

The gradient comparison lives in :mod:`mathnn.gradcheck`: ``compare_gradients(params, X, Y, backward_fn=my_backward)``
validates the gradients' keys and shapes (``validate_grads``), then compares them with centred differences (eq. 10).

A flat loss curve, a shape error deep inside an update, a loss that blows up: these are
the symptoms. The diagnostics here turn them into a message that says where to look.
"""

import math

import numpy as np

from mathnn.network import forward, num_layers
from mathnn.shapes import shapes

__all__ = ["StaleUpdateError", "relative_update", "dead_units", "diagnose"]


class StaleUpdateError(AssertionError):
    """An optimizer step left the parameters unchanged."""


def relative_update(step_fn, params):
    """Run ``step_fn()`` once (one training step) and measure how much it changed every parameter.

    params: {name: array}, the arrays the step should update *in place* (for a layer-based
    model, e.g. ``{"W1": layer1.W, "b1": layer1.b, ...}``). Returns {name: relative change},
    ||p_after - p_before|| / max(||p_before||, ||p_after||), so 1.0 for a bias that starts at 0.
    Raises :class:`StaleUpdateError` naming the arrays that did not move at all: the usual
    cause is an optimizer that holds references to gradient buffers which backward replaced
    (``self.dW = ...``) instead of filling (``self.dW[:] = ...``).
    """
    if not callable(step_fn):
        raise TypeError(f"relative_update(): step_fn must be a function of no arguments that runs one training step, "
                        f"e.g. lambda: opt.step(grads); got {type(step_fn).__name__}")
    if not isinstance(params, dict) or not params:
        raise TypeError(f"relative_update(): params must be a dict of the arrays the step updates, e.g. "
                        f"{{'W1': layer1.W, ...}}; got {type(params).__name__}")
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
            f"array it was given; write into it instead (self.dW[:] = dZ @ A_prev.T). Or the update "
            f"itself never writes into these arrays: look at the line that changes the parameters."
        )
    return change


# The loss rising above this multiple of its first value is a symptom of steps that are too large
# (in our runs of the 784-10-10 network, lr = 0.1 never rose above its first batch's loss; lr = 3 rose 1.5x to 10x).
LOSS_JUMP = 1.25
# A final training loss above this fraction of the first one: the network has hardly learnt.
LOSS_STUCK = 0.9


@shapes(params="layers", X="n0 m")
def dead_units(params, X):
    """Which hidden units are dead on X (n0, m): their ReLU outputs 0 on every column.

    Returns one boolean array (n_l,) per hidden layer l = 1 .. D-1. A dead unit passes
    nothing on and its weights get zero gradient (eq. 9), so training cannot revive it.
    """
    _, cache = forward(params, X)
    return [~(cache[f"A{l}"] > 0).any(axis=1) for l in range(1, num_layers(params))]


@shapes(params="layers", X="n0 m")
def diagnose(params, X, history=None):
    """Why a network does not learn: a short list of findings (strings), causes before symptoms.

    params: a parameter dict {"W1": (n1, n0), "b1": (n1, 1), ...}; X (n0, m): a sample of inputs,
    e.g. the validation images; history: optionally the :class:`~mathnn.train.History` of the run.
    The checks, in this order (an empty list: nothing alarming):

    1. NaN or inf in X or in the parameters (then nothing else is checked: every output is NaN);
    2. identical hidden units (equal rows of W_l and b_l): a symmetric init such as zeros gives
       every unit the same output and the same gradient, so they never become different;
    3. dead hidden units ("3/10 hidden units dead"): ReLU output 0 on every column of X;
    4. with a history, and only then, the learning rate: "may be too large" when the loss diverged
       or jumped above LOSS_JUMP times its first value; "may be too small" when the training
       loss ended above LOSS_STUCK times its first value and nothing above explains it.
    """
    findings = []
    for name, A in [("X", X)] + [(key, params[key]) for key in params]:
        bad = int(A.size - np.count_nonzero(np.isfinite(A)))
        if bad:
            findings.append(f"{name} holds {bad} NaN/inf entries: every output computed from it is NaN "
                            f"({'fix the inputs' if name == 'X' else 'the training blew up'})")
    if findings:
        return findings
    hidden = range(1, num_layers(params))
    units = {l: "hidden units" + (f" of layer {l}" if len(hidden) > 1 else "") for l in hidden}
    for l in hidden:
        rows = np.hstack([params[f"W{l}"], params[f"b{l}"]])  # unit i's weights and bias: row i, (n_l, n_{l-1} + 1)
        _, which, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
        twins = int((counts[which] > 1).sum())  # units whose row equals another unit's
        if twins:
            findings.append(
                f"{twins}/{len(rows)} {units[l]} are identical (equal rows of W{l} and b{l}): a "
                f"symmetric init such as zeros gives every unit the same output and the same gradient, so they "
                f"never become different; use a random init such as he")
    for l, dead in zip(hidden, dead_units(params, X)):
        if dead.any():
            findings.append(f"{dead.sum()}/{len(dead)} {units[l]} dead: their ReLU outputs 0 on all "
                            f"{X.shape[1]} examples, so they pass nothing on and get no gradient")
    if history is not None and history.step_loss:
        first = history.step_loss[0]
        worst = max(history.step_loss, key=lambda loss: loss if math.isfinite(loss) else math.inf)
        if history.diverged:
            findings.append(f"the learning rate may be too large: the loss {history.diverged.split(':')[0]}")
        elif worst > LOSS_JUMP * first:
            findings.append(f"the learning rate may be too large: the loss jumped from {first:.3g} to {worst:.3g} "
                            f"(step {history.step_loss.index(worst) + 1})")
        elif not findings and history.train_loss and history.train_loss[-1] > LOSS_STUCK * first:
            findings.append(f"the learning rate may be too small: the training loss fell only from {first:.3g} "
                            f"to {history.train_loss[-1]:.3g} in {len(history.epoch)} epoch(s)")
    return findings
