"""Lesson 04: one gradient-descent step, and one epoch of mini-batch SGD."""

import numpy as np

from mathnn import batches, network, optim, train
from mathnn.check.core import BY_POSITION, _changes, _close, _copy, _fmt, _ReadLog, checker


def sgd_step_mathnn(params, grads, lr):
    """mathnn's step p <- p - lr * dp for every parameter, in place (eq. 12): ``mn.SGD(params, lr).step(grads)``."""
    optim.SGD(params, lr).step(grads)


@checker(lesson=4, fallback=sgd_step_mathnn, signature="fn(params, grads, lr)", mathnn=(optim.SGD,))
def sgd_step(c, fn):
    """Check ``fn(params, grads, lr)``: one gradient-descent step p <- p - lr * dp (eq. 12), IN PLACE.

    params {"W1", "b1", ...}, grads {"dW1", "db1", ...}. The arrays inside params must change
    in place (p -= lr * g), so that everyone holding them sees the update; the return value is ignored.
    Tried on a non-square (6-4-3) and a square (4-4-4) network, float64, with two learning rates and
    with grads in another key order than params (as mn.backward returns them): match them by key.
    """
    rng = np.random.default_rng(0)
    for sizes, lr in (((6, 4, 3), 0.05), ((4, 4, 4), 0.3)):
        params = network.init_params(sizes, "he", rng, dtype=np.float64)
        for key in params:
            params[key] += 0.1 * rng.standard_normal(params[key].shape)
        grads = {"d" + key: rng.standard_normal(p.shape) for key, p in reversed(params.items())}  # another order
        _one_step(c, fn, params, grads, lr)


def _one_step(c, fn, params, grads, lr):
    """Check one call fn(params, grads, lr) (see sgd_step)."""
    arrays = dict(params)  # the array objects themselves: they must be the ones that change
    before = {key: p.copy() for key, p in params.items()}
    grads_before = _copy(grads)
    grads = _ReadLog(grads)  # notes whether your function reads the gradients at all

    result = c.call(fn, params, grads, lr, returns=False, on_error={ValueError: " — " + BY_POSITION})
    read_grads = grads.read  # (before the checks below read them too)

    c.require(params, "your sgd_step emptied the dict params (params.clear()?), which the training loop "
                      "still needs: update the arrays inside it«, p -= lr * grads['d' + key] for every "
                      "key, p in params.items()»")
    lost, added = [key for key in before if key not in params], [key for key in params if key not in before]
    c.require(not lost and not added, f"your sgd_step {'deleted' if lost else 'added'} "
                                      f"{', '.join(f'params[{key!r}]' for key in lost or added)}: params must "
                                      f"keep exactly its keys {', '.join(map(repr, before))}; update the "
                                      f"arrays in place (p -= ...)")
    changes = _changes("grads", grads_before, grads)
    c.require(not changes, f"your sgd_step {' and '.join(changes)}: e.g. g *= lr; leave the gradients as "
                           f"they are and compute the step as a new array«: p -= lr * g»")
    stale = [key for key in params if np.array_equal(arrays[key], before[key])]
    c.require(stale != list(params) or result is not None or read_grads,
              "your sgd_step did nothing: params are unchanged, and it never read grads. Update every "
              "parameter in place (eq. 12)«: for key, p in params.items(): p -= lr * grads['d' + key]»")
    if stale and len(stale) < len(params):
        c.require(False, f"{', '.join(f'params[{key!r}]' for key in stale)} did not change: update every "
                         f"parameter (loop over params.items())")
    zipped = {key: before[key] - lr * g for key, g in zip(before, grads_before.values())
              if g.shape == before[key].shape}  # what a step matching the dicts by position gives
    if len(zipped) == len(before) and all(_close(arrays[key], zipped[key]) for key in params):
        c.require(False, BY_POSITION)
    for key in params:
        expected = before[key] - lr * grads_before["d" + key]
        if key in stale:  # nothing changed in place: where did the update go?
            if params[key] is not arrays[key] and _close(params[key], expected):
                c.require(False, f"params[{key!r}] was replaced by a new array (params[key] = params[key] - "
                                 f"...) instead of being updated in place, so code holding the old array "
                                 f"won't see the change: update it in place«, params[key] -= lr * g»")
            if isinstance(result, dict) and _close(result.get(key, np.nan), expected):
                c.require(False, "you returned new parameters but left the ones passed in unchanged: update "
                                 "them in place«, p -= lr * g»; the training loop ignores the return value")
            c.require(False, "params not changed in place (you rebound a local name: p = p - ... makes a new "
                             "array and leaves params alone): update in place, with -= or p[...] = ...")
        c.compare(arrays[key], expected, otherwise=_step_hint(key, arrays[key], before[key],
                                                              grads_before["d" + key], lr))


def _step_hint(key, after, before, g, lr):
    """The step was p <- p - s * g for which s? Name the mistake from s."""
    g = g.astype(np.float64)
    s = float(np.sum((before - after) * g) / np.sum(g * g))  # least-squares fit of after = before - s * g
    if not _close(after, before - s * g):
        return f"params[{key!r}] changed, but not to p - lr * g (eq. 12)"
    if np.isclose(s, -lr):
        return f"params[{key!r}] moved uphill: gradient descent subtracts the gradient«: p -= lr * g, not p += lr * g»"
    if np.isclose(s, 1):
        return f"the step ignores lr: params[{key!r}] moved by g, not lr * g«: p -= lr * g»"
    if np.isclose(s, -1):
        return f"params[{key!r}] moved by +g: subtract, and scale by lr«: p -= lr * g»"
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


def _orders(m, seed):
    """The valid ways of drawing an epoch's order of m columns from np.random.default_rng(seed), each (m,).

    The checker cannot know which one your epoch uses, so it accepts any of them.
    """
    def shuffled(rng):
        order = np.arange(m)
        rng.shuffle(order)
        return order

    draws = (lambda rng: rng.permutation(m), lambda rng: rng.choice(m, m, replace=False), shuffled,
             lambda rng: rng.permuted(np.arange(m)), lambda rng: np.argsort(rng.random(m)))
    orders = []
    for draw in draws:
        order = draw(np.random.default_rng(seed))
        if not any(np.array_equal(order, known) for known in orders):
            orders.append(order)
    return orders


class _Columns(np.ndarray):
    """X (n0, m) that writes down which columns your epoch takes from it, in order (in ``.taken``).

    X[:, idx], X[:, a:b] and X.T[idx] (mn.minibatches' way) are noted; what they return is a plain
    array, so that a batch, or a shuffled copy X[:, perm] sliced later, is not noted again. This is how
    the checker follows any order you draw from rng (rng.permutation, np.argsort(rng.random(m)), ...).
    """

    def __array_finalize__(self, obj):
        self.taken = getattr(obj, "taken", None)  # the same list in X.T, X.T.T, ...

    def __getitem__(self, key):
        out = np.asarray(super().__getitem__(key))
        if self.taken is None or self.ndim != 2:
            return out
        pair = isinstance(key, tuple) and len(key) == 2
        if self.shape[0] == _ROWS:  # X (784, m): X[:, cols]
            cols, m = (key[1] if pair and key[0] == slice(None) else None), self.shape[1]
        else:  # X.T (m, 784): X.T[cols] or X.T[cols, :]
            cols, m = (key[0] if pair and key[1] == slice(None) else None if pair else key), self.shape[0]
        if cols is not None:
            try:
                picked = np.arange(m)[cols]
            except (IndexError, TypeError, ValueError):
                return out
            if picked.ndim == 1:
                self.taken.append(picked)
        return out

    def take(self, indices, axis=None, out=None, mode="raise"):  # np.take(X, idx, axis=1) too
        if self.taken is not None and self.ndim == 2 and axis == (1 if self.shape[0] == _ROWS else 0):
            self.taken.append(np.arange(self.shape[axis])[indices])
        return np.asarray(self).take(indices, axis=axis, out=out, mode=mode)


_ROWS = 784  # the rows of the checker's X (the transposed view X.T has them as columns)


def _order_taken(taken, m):
    """The column order your epoch used, from the columns it took from X, or None if it can't be told."""
    for pieces in (taken, [piece for piece in taken if len(piece) == m][-1:]):
        if pieces:
            order = np.concatenate(pieces)
            if order.shape == (m,) and np.array_equal(np.sort(order), np.arange(m)):
                return order
    return None


@checker(lesson=4, fallback=sgd_epoch_mathnn, signature="fn(params, X, Y, lr, batch_size, rng) with X (n0, m), "
                                                        "one-hot Y (k, m)", mathnn=(train.fit,), time_limit=60.0)
def sgd_epoch(c, fn):
    """Check ``fn(params, X, Y, lr, batch_size, rng) -> losses``: one epoch of mini-batch SGD, params in place.

    X (n0, m), one-hot Y (k, m). As lesson 04's loop: perm = rng.permutation(m) once (or any other
    permutation drawn from rng: rng.choice(m, m, replace=False), rng.shuffle of np.arange(m), ...); then
    for each batch idx = perm[start:start + batch_size] (the last one smaller): loss and grads of the
    batch (mn.forward, mn.cross_entropy, mn.backward or mn.loss_and_grads), p -= lr * dp in place (eq. 12).
    losses: the ceil(m / batch_size) batch losses, each computed before its step, in order.
    Tried with two learning rates and batch sizes.
    """
    for m, batch_size, lr, seed in ((50, 16, 0.5, 7), (45, 20, 0.2, 3)):  # 16, 16, 16, 2; then 20, 20, 5
        _one_epoch(c, fn, m, batch_size, lr, seed)


def _one_epoch(c, fn, m, batch_size, lr, seed):
    """Check one epoch of fn on a 784-10-10 network, m random examples (see sgd_epoch)."""
    rng = np.random.default_rng(seed)
    start = network.init_params((784, 10, 10), "he", rng, dtype=np.float64)
    X = rng.random((784, m))  # (784, m) "pixels" in [0, 1)
    Y = batches.one_hot(rng.integers(0, 10, m)).astype(np.float64)  # (10, m)
    where = f"(m = {m}, batch_size = {batch_size}, lr = {lr})"

    def run(seed=seed):
        """Your epoch on a fresh copy of the start: (params after it, the array objects passed in, losses, order)."""
        params = _copy(start)
        arrays = dict(params)  # the array objects themselves: they must be the ones that change
        X_noted = X.copy().view(_Columns)
        X_noted.taken = []
        losses = c.call(fn, params, X_noted, Y, lr, batch_size, np.random.default_rng(seed))
        changed = not np.array_equal(np.asarray(X_noted), X)
        return params, arrays, losses, (None if changed else _order_taken(X_noted.taken, m)), changed

    X_before, Y_before = X.copy(), Y.copy()
    params, arrays, losses, taken, X_changed = run()
    c.require(not X_changed and np.array_equal(X, X_before) and np.array_equal(Y, Y_before),
              "your sgd_epoch changed X or Y in place (shuffled them?): take the batches as "
              "column selections of X and Y, and leave X and Y as they are")
    c.require(set(params) == set(start), f"your sgd_epoch changed the keys of params to {', '.join(params)}: "
                                         f"update the arrays inside it in place (p -= ...)")
    moved = [key for key in params if not np.array_equal(arrays[key], start[key])]
    replaced = [key for key in params if params[key] is not arrays[key]]
    c.require(moved or not replaced, f"params[{replaced[0] if replaced else ''!r}] was replaced by a new array "
                                     f"instead of being updated in place: write p -= ..., so that everyone "
                                     f"holding the array sees the change")
    c.require(moved, "your sgd_epoch left params unchanged: update them in place after each batch (eq. 12)")
    again = run()[0]
    c.require(all(np.array_equal(again[key], params[key]) for key in params),
              "two runs with equal seeds gave different parameters: draw the order with the rng argument, "
              "not with np.random (global, unseeded)")

    orders = _orders(m, seed)  # the usual draws, and the order your epoch was seen to take (any draw from rng)
    usual = len(orders)
    if taken is not None and not np.array_equal(taken, np.arange(m)) and not any(
            np.array_equal(taken, order) for order in orders):
        orders.append(taken)
    replays = [_epoch(start, X, Y, lr, batch_size, order) for order in orders]
    match = next((i for i, (right, _) in enumerate(replays)
                  if all(_close(params[key], right[key], rtol=1e-7) for key in right)), None)
    if match is None:  # wrong: name the mistake against the order it took, else against rng.permutation's
        match = next((i for i, order in enumerate(orders) if taken is not None and np.array_equal(order, taken)), 0)
    elif match == usual:  # an order drawn in another way than the usual ones: it must come from rng
        other = run(seed + 1000)[3]  # an order of its own: it must come from rng
        c.require(other is None or not np.array_equal(other, taken),
                  "your epoch takes the same order of columns whatever rng it is given: draw the order from the "
                  "rng argument«, e.g. rng.permutation(m)», not from an rng or a seed of your own")
    order, (right, right_losses) = orders[match], replays[match]
    try:
        losses = np.asarray(losses, dtype=np.float64)
    except (TypeError, ValueError):
        c.require(False, f"your sgd_epoch returned a {type(losses).__name__}, not a list of numbers (the batch losses)")
    n = len(right_losses)
    c.require(losses.shape == (n,), {
        (): f"you returned one number ({losses.item() if losses.size == 1 else ''}); return the list of the {n} "
            f"batch losses (their mean is np.mean(losses))",
        (n - 1,): f"you returned {n - 1} losses for {n} batches {where}: the last, smaller batch counts too",
    }.get(losses.shape, f"your losses have shape {losses.shape}; expected ({n},), one loss per batch"))

    def mistake(**switches):
        return _epoch(start, X, Y, lr, batch_size, switches.pop("order", order), **switches)[0]

    mistakes = [
        ("your epoch does not shuffle: draw a permutation of the m columns from rng at its start and take the "
         "batches in that order", mistake(order=np.arange(m))),
        ("your steps go uphill: a step subtracts the gradient (eq. 12)«: p -= lr * g, not p += lr * g»",
         mistake(scale=-1.0)),
        (f"your steps are batch_size = {batch_size} times too large: the gradient of the batch's mean loss is "
         f"already divided by B (eq. 5'), so don't multiply by B (or sum the losses)",
         mistake(scale=batch_size)),
        (f"your epoch skips the last, smaller batch {where}: loop over all m columns in steps of batch_size; "
         f"the last slice is simply shorter", mistake(drop_last=True)),
        ("every step of your epoch uses the gradient at the epoch's starting parameters (stale gradients): "
         "compute the forward and backward pass inside the batch loop, after the previous step",
         mistake(stale=True)),
        (f"your step ignores lr {where}«: p -= lr * g»", mistake(scale=1 / lr)),
    ]
    for key in right:
        c.compare(params[key], right[key], [(hint, wrong[key]) for hint, wrong in mistakes], rtol=1e-7, otherwise=(
            f"params[{key!r}] is wrong after the epoch {where}: draw one permutation of the columns from rng, "
            f"then for each batch of it: loss and gradients of the batch, then the step (eq. 12)" + (
                "" if taken is not None else " (the checker could not follow which columns your batches took, so "
                "it compared with rng.permutation(m)'s order; with batches taken as X[:, idx] or X.T[idx].T it "
                "follows any order you draw from rng)")))
    c.compare(losses, right_losses, rtol=1e-7, otherwise=(
        f"your parameters are right, but your batch losses {_fmt(losses)} differ from {_fmt(right_losses)}: "
        f"the mean cross-entropy of each batch (eq. 5), measured before its step"))
