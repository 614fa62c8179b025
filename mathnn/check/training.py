"""Lesson 04: one gradient-descent step, and one epoch of mini-batch SGD."""

import numpy as np

from mathnn import batches, network, optim
from mathnn.check.core import _changes, _close, _copy, _fmt, _ReadLog, checker


def sgd_step_mathnn(params, grads, lr):
    """mathnn's step p <- p - lr * dp for every parameter, in place (eq. 12): ``mn.SGD(params, lr).step(grads)``."""
    optim.SGD(params, lr).step(grads)


@checker(lesson=4, fallback=sgd_step_mathnn, signature="fn(params, grads, lr)")
def sgd_step(c, fn):
    """Check ``fn(params, grads, lr)``: one gradient-descent step p <- p - lr * dp (eq. 12), IN PLACE.

    params {"W1", "b1", ...}, grads {"dW1", "db1", ...}. The arrays inside params must change
    in place (p -= lr * g), so that everyone holding them sees the update; the return value is ignored.
    """
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


def sgd_epoch_mathnn(params, X, Y, lr, batch_size, rng):
    """mathnn's epoch of mini-batch SGD (lesson 04's loop): the batch losses, a list of ceil(m / batch_size) floats.

    X (n0, m), one-hot Y (k, m); params updated in place; rng draws the order (``mn.minibatches``).
    """
    losses = []
    for X_batch, Y_batch in batches.minibatches(X, Y, batch_size, rng):  # (n0, B), (k, B)
        loss, grads = network.loss_and_grads(params, X_batch, Y_batch)  # (eqs. 1-9)
        optim.SGD(params, lr).step(grads)  # (eq. 12)
        losses.append(loss)
    return losses


def _epoch(params, X, Y, lr, batch_size, order, *, scale=1.0, stale=False, drop_last=False):
    """Replay an epoch on copies of params, in the given column order, with one mistake switched on.

    scale: the step is p -= scale * lr * g; stale: every step uses the gradient at the epoch's
    starting parameters; drop_last: skip the last, smaller batch. Returns (params, batch losses).
    """
    params, start = _copy(params), _copy(params)
    m = X.shape[1]
    stop = m - m % batch_size if drop_last else m
    losses = []
    for first in range(0, stop, batch_size):
        idx = order[first:first + batch_size]  # (B,)
        loss, grads = network.loss_and_grads(start if stale else params, X[:, idx], Y[:, idx])
        for key, p in params.items():
            p -= scale * lr * grads["d" + key]
        losses.append(loss)
    return params, losses


@checker(lesson=4, fallback=sgd_epoch_mathnn, signature="fn(params, X, Y, lr, batch_size, rng) with X (n0, m), "
                                                        "one-hot Y (k, m)")
def sgd_epoch(c, fn):
    """Check ``fn(params, X, Y, lr, batch_size, rng) -> losses``: one epoch of mini-batch SGD, params in place.

    X (n0, m), one-hot Y (k, m). As lesson 04's loop: perm = rng.permutation(m) once; then for each
    batch idx = perm[start:start + batch_size] (the last one smaller): loss and grads of the batch
    (mn.forward, mn.cross_entropy, mn.backward or mn.loss_and_grads), p -= lr * dp in place (eq. 12).
    losses: the ceil(m / batch_size) batch losses, each computed before its step, in order.
    """
    rng = np.random.default_rng(0)
    m, batch_size, lr, seed = 50, 16, 0.5, 7  # 4 batches: 16, 16, 16 and a last one of 2
    start = network.init_params((784, 10, 10), "he", rng, dtype=np.float64)
    X = rng.random((784, m))  # (784, m) "pixels" in [0, 1)
    Y = batches.one_hot(rng.integers(0, 10, m)).astype(np.float64)  # (10, m)
    order = np.random.default_rng(seed).permutation(m)  # the order lesson 04's loop draws from rng(seed)

    def run():
        """Your epoch on a fresh copy of the start: (params after it, the array objects passed in, losses)."""
        params = _copy(start)
        arrays = dict(params)  # the array objects themselves: they must be the ones that change
        losses = c.call(fn, params, X, Y, lr, batch_size, np.random.default_rng(seed))
        return params, arrays, losses

    X_before, Y_before = X.copy(), Y.copy()
    params, arrays, losses = run()
    c.require(np.array_equal(X, X_before) and np.array_equal(Y, Y_before),
              "your sgd_epoch changed X or Y in place (shuffled them?): take the batches as "
              "X[:, idx] with idx = perm[start:start + batch_size], and leave X and Y as they are")
    c.require(set(params) == set(start), f"your sgd_epoch changed the keys of params to {', '.join(params)}: "
                                         f"update the arrays inside it in place (p -= lr * g)")
    moved = [key for key in params if not np.array_equal(arrays[key], start[key])]
    replaced = [key for key in params if params[key] is not arrays[key]]
    c.require(moved or not replaced, f"params[{replaced[0] if replaced else ''!r}] was replaced by a new array "
                                     f"instead of being updated in place: write p -= lr * g, so that everyone "
                                     f"holding the array sees the change")
    c.require(moved, "your sgd_epoch left params unchanged: update them in place after each batch, "
                     "for key, p in params.items(): p -= lr * grads['d' + key]")
    again, _, _ = run()
    c.require(all(np.array_equal(again[key], params[key]) for key in params),
              "two runs with equal seeds gave different parameters: draw the order with the rng argument, "
              "perm = rng.permutation(m), not np.random (global, unseeded)")

    right, right_losses = _epoch(start, X, Y, lr, batch_size, order)
    losses = c.array(losses)
    n = len(right_losses)
    c.require(losses.shape == (n,), {
        (): f"you returned one number ({losses.item() if losses.size == 1 else ''}); return the list of the {n} "
            f"batch losses (their mean is np.mean(losses))",
        (n - 1,): f"you returned {n - 1} losses for {n} batches (m = {m}, batch_size = {batch_size}): the last, "
                  f"smaller batch counts too, range(0, m, batch_size)",
    }.get(losses.shape, f"your losses have shape {losses.shape}; expected ({n},), one loss per batch"))

    def mistake(**switches):
        return _epoch(start, X, Y, lr, batch_size, switches.pop("order", order), **switches)[0]

    mistakes = [
        ("your epoch does not shuffle: draw perm = rng.permutation(m) at its start and take the batches "
         "in that order", mistake(order=np.arange(m))),
        ("your steps go uphill: p -= lr * g, not p += lr * g (eq. 12)", mistake(scale=-1.0)),
        (f"your steps are batch_size = {batch_size} times too large: the gradient of the batch's mean loss is "
         f"already divided by B (dZ2 = (A2 - Y) / B), so don't multiply by B (or sum the losses)",
         mistake(scale=batch_size)),
        (f"your epoch skips the last, smaller batch (m = {m}, batch_size = {batch_size}): loop over "
         f"range(0, m, batch_size); perm[start:start + batch_size] is simply shorter at the end",
         mistake(drop_last=True)),
        ("every step of your epoch uses the gradient at the epoch's starting parameters (stale gradients): "
         "compute the forward and backward pass inside the batch loop, after the previous step",
         mistake(stale=True)),
    ]
    for key in right:
        c.compare(params[key], right[key], [(hint, wrong[key]) for hint, wrong in mistakes], otherwise=(
            f"params[{key!r}] is wrong after the epoch: shuffle with perm = rng.permutation(m) once, then for each "
            f"batch idx = perm[start:start + batch_size]: loss and gradients of the batch, then p -= lr * g"))
    c.compare(losses, right_losses, otherwise=(
        f"your parameters are right, but your batch losses {_fmt(losses)} differ from {_fmt(right_losses)}: "
        f"the mean cross-entropy of each batch (eq. 5), measured before its step"))
