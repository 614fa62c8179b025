"""Lesson 10: the gradient of L2 weight decay (eq. 15) and inverted dropout, forward and backward (eq. 16).

l2_grads is compared with ``mn.l2_grads`` on a small two-layer parameter dict. Dropout draws random
masks, so dropout_forward is checked by what any right mask must satisfy (on a (200, 500) array:
the share kept, the scale 1/keep, A_drop = A * M, the rng used) rather than entry by entry;
dropout_backward, which draws nothing, is compared with ``mn.dropout_backward``.
"""

import numpy as np

from mathnn import regularization
from mathnn.check.core import _close, _Fail, _fmt, checker


def _problem():
    """params {"W1" (4, 6), "b1" (4, 1), "W2" (3, 4), "b2" (3, 1)} and grads {"dW1", ...} of the same shapes."""
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((4, 6)), "b1": rng.standard_normal((4, 1)),
              "W2": rng.standard_normal((3, 4)), "b2": rng.standard_normal((3, 1))}
    grads = {"d" + key: 0.1 * rng.standard_normal(p.shape) for key, p in reversed(params.items())}  # another order
    return params, grads


@checker(lesson=10, fallback=regularization.l2_grads, signature="fn(params, grads, weight_decay)")
def l2_grads(c, fn):
    """Check ``fn(params, grads, weight_decay)``: the gradients of L + (weight_decay/2) sum_l ||W_l||^2 (eq. 15).

    params {"W1": (n1, n0), "b1": (n1, 1), ...}, grads {"dW1", "db1", ...} (the gradients of L).
    Returns a new dict with the same keys: dW_l + weight_decay * W_l for the weights, db_l unchanged (biases
    are not decayed). grads and params must be left as they are.
    """
    params, grads = _problem()
    for weight_decay in (0.3, 0.05):
        _l2(c, fn, params, grads, weight_decay)
    zero = c.call(fn, params, grads, 0.0)  # weight_decay = 0: the gradients of L
    c.require(isinstance(zero, dict) and zero.keys() == grads.keys(),
              "with weight_decay = 0 your function should return a dict with the keys of grads")
    for key, g in grads.items():
        c.compare(c.array(zero[key], what=f"your {key}", dtype=np.float64), g,
                  otherwise=f"with weight_decay = 0 your {key} should equal grads[{key!r}], the loss's own")


def _l2(c, fn, params, grads, weight_decay):
    """One call fn(params, grads, weight_decay), compared key by key (see l2_grads)."""
    got = c.call(fn, params, grads, weight_decay, keep=("params", "grads"), on_error={ValueError: (
        " — weight_decay * W has W's shape, which is dW's: add them as they are, without a transpose")}, fix=(
        "build a new dict and leave grads and params as they are"))
    c.require(isinstance(got, dict), f"your function returned a {type(got).__name__}: return a dict of gradients "
                                     f"with the keys of grads ({', '.join(grads)})")
    missing = [key for key in grads if key not in got]
    c.require(not missing, f"your dict has no {', '.join(missing)}: return every gradient, the bias gradients too "
                           f"(unchanged), with the keys of grads ({', '.join(grads)})")
    for key, g in grads.items():
        p = params[key[1:]]
        c.require_shape(c.array(got[key], what=f"your {key}", dtype=np.float64), g.shape,
                        what=f"your {key}")
        if key.startswith("dW"):
            c.compare(got[key], g + weight_decay * p, [
                ("you returned only weight_decay * W: the penalty's gradient is added to the loss's, "
                 "dW + weight_decay * W", weight_decay * p),
                ("your dW is weight_decay / 2 * W too small: the derivative of (weight_decay/2) ||W||^2 is "
                 "weight_decay * W (the 2 of the square cancels the 1/2)", g + weight_decay / 2 * p),
                ("your dW has 2 * weight_decay * W: the 1/2 in (weight_decay/2) ||W||^2 is there to cancel the 2 of "
                 "the square, so the gradient is weight_decay * W", g + 2 * weight_decay * p),
                ("you subtracted weight_decay * W: the penalty grows with ||W||, so its gradient is "
                 "+ weight_decay * W (the optimizer's step then subtracts it)", g - weight_decay * p),
                ("you added weight_decay * W**2: that is (twice) the penalty, not its gradient (eq. 15)",
                 g + weight_decay * p**2),
                ("you added weight_decay * sign(W): that is the gradient of the L1 penalty weight_decay ||W||_1; "
                 "L2's is weight_decay * W", g + weight_decay * np.sign(p)),
                (f"you left {key} unchanged: add the penalty's gradient to every weight's gradient, {key} too "
                 f"(eq. 15)", g),
            ], otherwise=f"your {key} is wrong for weight_decay = {weight_decay}: the loss's gradient plus the "
                         f"penalty's (eq. 15)")
        else:
            c.compare(got[key], g, [
                (f"you decayed the biases too ({key} + weight_decay * {key[1:]}): weight decay leaves the biases "
                 f"alone, so {key} stays as it is", g + weight_decay * p),
            ], otherwise=f"your {key} changed: the bias gradients stay as they are (biases are not decayed)")


def _forward_problem():
    """A (200, 500) of activations: every entry > 0, so that a dropped entry shows as a 0."""
    return np.random.default_rng(1).uniform(0.5, 1.5, (200, 500))


def _tuple(c, out):
    """Your output as (A_drop, M), both float arrays, or a hint."""
    c.require(isinstance(out, tuple) and len(out) == 2, f"your function returned a {type(out).__name__}: return "
                                                        f"the pair (A_drop, M), e.g. `return A * M, M`")
    return (c.array(out[0], what="your A_drop", dtype=np.float64),
            c.array(out[1], what="your mask M", dtype=np.float64))


@checker(lesson=10, fallback=regularization.dropout_forward, signature="fn(A, keep, rng) with A of shape (n, m)")
def dropout_forward(c, fn):
    """Check ``fn(A, keep, rng)``: inverted dropout, returning (A_drop, M), both A's shape (eq. 16).

    Each entry is kept with probability keep, independently (rng.random(A.shape) < keep, from the given
    ``np.random.Generator``); the mask M holds 1/keep where kept and 0 where dropped; A_drop = A * M.
    A itself is left as it is. keep = 1 keeps everything: A_drop equals A.
    """
    A, keep = _forward_problem(), 0.8
    fix = "return a new array, A * M, and leave A as it is"
    A_drop, M = _tuple(c, c.call(fn, A, keep, np.random.default_rng(0), keep=("A",), fix=fix))
    if _close(M, A * A_drop):
        raise _Fail("your second output is A times your first: return (A_drop, M) in this order")
    c.require_shape(M, A.shape, hints={(A.shape[0], 1): (
        f"your mask has shape {(A.shape[0], 1)}: that drops a unit for the whole batch at once; draw one number per "
        f"entry, rng.random(A.shape)"), (1, A.shape[1]): (
        f"your mask has shape {(1, A.shape[1])}: that drops whole examples; draw one number per entry, "
        f"rng.random(A.shape)")}, what="your mask M")
    c.require_shape(A_drop, A.shape, what="your A_drop")
    kept = M != 0
    share = kept.mean()
    c.require(abs(share - (1 - keep)) > 0.02 or abs(share - keep) < 0.02,
              f"you kept {share:.0%} of the entries with keep = {keep}: keep is the probability of KEEPING a unit "
              f"«(rng.random(A.shape) < keep)», not of dropping it")
    c.require(abs(share - keep) < 0.02, f"you kept {share:.1%} of the entries with keep = {keep}; expected about "
                                        f"{keep:.0%}: keep each entry with probability keep, independently")
    counts = [(keep, int(kept.sum()))]
    for other in (0.5, 0.9):  # the share kept follows keep
        kept_other = _tuple(c, c.call(fn, A, other, np.random.default_rng(3), keep=("A",), fix=fix))[1] != 0
        share_other = kept_other.mean()
        c.require(abs(share_other - other) < 0.02, f"with keep = {other} you kept {share_other:.1%} of the entries; "
                                                   f"expected about {other:.0%}: keep is the probability of keeping "
                                                   f"each entry (use the keep argument)")
        counts.append((other, int(kept_other.sum())))
    # Kept independently, the count varies from draw to draw (std 60-130 here): exactly keep * N three times
    # (probability below 1e-7 for independent entries), or equal counts in every column or row, is a fixed count.
    exact = all(abs(count - p * A.size) < 1 for p, count in counts)
    even = len(np.unique(kept.sum(axis=0))) == 1 or len(np.unique(kept.sum(axis=1))) == 1
    c.require(not exact and not even, (
        f"you kept exactly {counts[0][1]} of the {A.size} entries{' in total' if exact else ' in every column or row'} "
        f"with keep = {keep} (a fixed count, as the first entries of a permutation give): each entry must be kept "
        f"independently, with probability keep, so that the count itself varies from draw to draw«: "
        f"rng.random(A.shape) < keep»"))
    values = np.unique(M[kept])
    c.require(not np.allclose(values, 1.0), (
        "your kept entries are not scaled: inverted dropout divides them by keep (the mask holds 1/keep, not 1), "
        "so that E[A_drop] = A and nothing needs scaling at evaluation"))
    c.require(not np.allclose(values, keep), "your mask holds keep where kept: it must hold 1/keep (divide, don't "
                                             "multiply), so that E[A_drop] = A")
    c.require(np.allclose(values, 1 / keep), f"your mask's nonzero entries are {_fmt(values[:4])}: they must all be "
                                             f"1/keep = {1 / keep:g}")
    c.compare(A_drop, A * M, [("your A_drop drops the entries but does not scale them: A_drop = A * M, with M "
                               "holding 1/keep", A * kept)],
              otherwise="your A_drop is not A * M (eq. 16): the mask you return must be the one you applied")
    again = _tuple(c, c.call(fn, A, keep, np.random.default_rng(0)))[1]
    other = _tuple(c, c.call(fn, A, keep, np.random.default_rng(1)))[1]
    c.require(np.array_equal(again, M), "two calls with equal seeds, np.random.default_rng(0), gave different masks: "
                                        "draw with the rng you are given, rng.random(...), not np.random.random(...)")
    c.require(not np.array_equal(again, other), "two calls with different seeds gave the same mask: draw with the rng "
                                                "you are given (rng.random(A.shape)), not one of your own")
    A_one, M_one = _tuple(c, c.call(fn, A, 1.0, np.random.default_rng(0)))
    c.compare(A_one, A, otherwise="with keep = 1 nothing is dropped: A_drop must equal A (and M be all ones)")
    c.compare(M_one, np.ones_like(A), otherwise="with keep = 1 the mask must be all ones")


@checker(lesson=10, fallback=regularization.dropout_backward, signature="fn(dA_drop, M) with both of shape (n, m)")
def dropout_backward(c, fn):
    """Check ``fn(dA_drop, M)``: the gradient with respect to A, dA = dA_drop * M (eq. 16).

    dA_drop (n, m) is the gradient with respect to A_drop = A * M, M (n, m) the mask of dropout_forward
    (1/keep or 0). Returns dA, (n, m); dA_drop and M are left as they are.
    """
    rng = np.random.default_rng(2)
    keep = 0.75
    dA_drop = rng.standard_normal((6, 9))
    M = (rng.random((6, 9)) < keep) / keep
    got = c.array(c.call(fn, dA_drop, M, keep=("dA_drop", "M"), fix="return a new array«, dA_drop * M»"),
                  dtype=np.float64)
    c.require_shape(got, dA_drop.shape, what="your dA")
    with np.errstate(all="ignore"):
        divided = dA_drop / M
    c.compare(got, dA_drop * M, [
        ("you returned dA_drop unchanged: a dropped unit passed nothing forward, so it gets no gradient; and a kept "
         "one was scaled by 1/keep, so its gradient is too (eq. 16)", dA_drop),
        ("you masked but did not scale: M already holds 1/keep where kept, so use M itself (eq. 16)",
         dA_drop * (M != 0)),
        ("you scaled by keep instead of by 1/keep: use the same M as forward (eq. 16)", dA_drop * (M != 0) * keep),
        ("you divided by M: A_drop = A * M, so the gradient is multiplied by M (eq. 16)", divided),
    ], otherwise="your dA is wrong (eq. 16): A_drop = A * M, so each entry's gradient is multiplied by M")
