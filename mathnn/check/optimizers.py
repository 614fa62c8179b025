"""Lesson 07: one step of momentum (eq. 13) and one step of Adam (eq. 14), in place.

Both run three steps on a small parameter dict {"W1" (3, 4), "b1" (3, 1)} with gradients of
size 0.01 and compare params and the optimizer's state (velocity; m and v) after every step
with ``mn.Momentum`` and ``mn.Adam``.
"""

import numpy as np

from mathnn import optim
from mathnn.check.core import _changes, _copy, _Fail, _fmt, checker


def momentum_step_mathnn(params, grads, velocity, lr, beta):
    """mathnn's momentum step, in place: v <- beta v + dp; p <- p - lr v (eq. 13), as ``mn.Momentum``.

    velocity: {key: array of its parameter's shape}, zeros before the first step.
    """
    opt = optim.Momentum(params, lr, beta)
    opt.velocity = velocity
    opt.step(grads)


def adam_step_mathnn(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """mathnn's Adam step number t (1 for the first), in place (eq. 14, Algorithm 1), as ``mn.Adam``.

    m, v: {key: array of its parameter's shape}, the running means of dp and dp^2, zeros before step 1.
    """
    opt = optim.Adam(params, lr, beta1, beta2, eps)
    opt.m, opt.v, opt.t = m, v, t - 1  # step() counts t up first
    opt.step(grads)


def _problem():
    """A small params dict and three gradient dicts: ({"W1" (3, 4), "b1" (3, 1)}, [{"dW1", "db1"}] * 3)."""
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal((3, 1))}
    steps = [{"d" + key: 0.01 * rng.standard_normal(p.shape) for key, p in reversed(params.items())}  # another order
             for _ in range(3)]
    return params, steps


def _zeros(params):
    return {key: np.zeros_like(p) for key, p in params.items()}


def _run_steps(c, fn, name, state_names, args_of, unchanged=""):
    """Run your step three times; after each, check params moved in place and the state dicts were kept.

    args_of(params, grads, states, t) -> the arguments of fn; unchanged: more hint if params did not move.
    Yields (t, params, states) after each step.
    """
    params, steps = _problem()
    states = [_zeros(params) for _ in state_names]
    arrays = dict(params)  # the array objects themselves: they must be the ones that change
    for t, grads in enumerate(steps, start=1):
        before, states_before, given = _copy(params), [_copy(state) for state in states], _copy(grads)
        c.call(fn, *args_of(params, given, states, t), returns=False)
        changes = _changes("grads", grads, given)
        c.require(not changes, f"your {name} {' and '.join(changes)} at step t = {t}: the caller's gradients must "
                               f"stay as they are (g += ..., g **= 2, g *= ... change them); compute new arrays")
        shared = [f"{state_name}[{key!r}]" for state_name, state in zip(state_names, states) for key in state
                  if any(np.shares_memory(state[key], g) for g in given.values())]
        c.require(not shared, f"your {name} keeps the caller's gradient array itself in {shared[0] if shared else ''}:"
                              f" the next backward pass may reuse or change it; store a new array there")
        c.require(params.keys() == before.keys() and all(params[key] is arrays[key] for key in params),
                  f"your {name} replaced the arrays in params (params[key] = ...) or changed its keys: update "
                  f"them in place, p -= ..., so that everyone holding the arrays sees the change")
        c.require(not all(np.array_equal(params[key], before[key]) for key in params),
                  f"your {name} left params unchanged at step t = {t}: update every parameter in place, "
                  f"p -= ... (p = p - ... only rebinds a local name){unchanged}")
        for state_name, state, old in zip(state_names, states, states_before):
            c.require(state.keys() == old.keys() and not all(np.array_equal(state[key], old[key]) for key in state),
                      f"your {name} did not update {state_name} at step t = {t}: the caller keeps it between steps, "
                      f"so store the new values in it ({state_name}[key] = ..., or in place)")
        yield t, params, states


@checker(lesson=7, fallback=momentum_step_mathnn, signature="fn(params, grads, velocity, lr, beta)",
         mathnn=(optim.Momentum,))
def momentum_step(c, fn):
    """Check ``fn(params, grads, velocity, lr, beta)``: one heavy-ball momentum step, in place (eq. 13).

    params {"W1", ...}, grads {"dW1", ...}, velocity {"W1", ...} (zeros before the first step), each
    array its parameter's shape. For every key: v <- beta v + dp, then p <- p - lr v; the new v is
    kept in velocity (velocity[key] = ... or v *= beta; v += g) for the next step. Returns nothing.
    """
    for lr, beta in ((0.5, 0.7), (0.2, 0.95)):  # two of each, neither the usual 0.9
        _momentum(c, fn, lr, beta)


def _momentum(c, fn, lr, beta):
    """Three momentum steps with this lr and beta, compared after each (see momentum_step)."""
    params0, steps = _problem()

    def variant(key, t, *, ema=False, nesterov=False, forget=False, scale=1.0):
        """Parameter `key` after t steps of a momentum step with one mistake switched on."""
        p, v = params0[key], 0.0
        for grads in steps[:t]:
            g, v_old = grads["d" + key], (0.0 if forget else v)
            v = beta * v_old + ((1 - beta) if ema else 1) * g
            p = p - scale * lr * (beta * v + g if nesterov else v)
        return p

    def args_of(params, grads, states, t):
        return params, grads, states[0], lr, beta

    right_params, right_velocity = _copy(params0), _zeros(params0)
    for t, params, (velocity,) in _run_steps(c, fn, "momentum_step", ["velocity"], args_of, unchanged=(
            "; or did you step with the velocity before updating it? At step 1 it is still 0: first "
            "update v, then step with it (eq. 13)")):
        momentum_step_mathnn(right_params, steps[t - 1], right_velocity, lr, beta)
        for key in params:
            c.compare(params[key], right_params[key], [
                (f"you used the running-mean form v <- beta v + (1 - beta) dp, which makes the steps 1 - beta = "
                 f"{1 - beta:g} times as large: eq. 13 (and mn.Momentum) adds dp itself",
                 variant(key, t, ema=True)),
                ("your velocity starts from 0 at every step, so this is plain SGD: keep v between steps in the "
                 "velocity dict«: velocity[key] = beta * velocity[key] + g»", variant(key, t, forget=True)),
                ("that is Nesterov's step, p -= lr (beta v + dp); eq. 13 steps by p -= lr v",
                 variant(key, t, nesterov=True)),
                ("your steps go uphill: p -= lr * v, not p += lr * v", variant(key, t, scale=-1.0)),
                ("the step ignores lr: p -= lr * v", variant(key, t, scale=1 / lr)),
            ], otherwise=f"params[{key!r}] is wrong after step {t} (lr = {lr}, beta = {beta}): v <- beta v + dp, then "
                         f"p <- p - lr v (eq. 13), with the lr and beta given")
            got, right = velocity[key], right_velocity[key]
            scale = float(np.sum(got * right) / np.sum(right * right))  # got = scale * right?
            c.compare(got, right, [
                (f"your params are right, but velocity[{key!r}] holds {scale:.3g} * v: eq. 13's velocity is "
                 f"v <- beta v + dp, without lr (the step is p -= lr * v)", scale * right),
            ], otherwise=f"velocity[{key!r}] after step {t} is {_fmt(got.ravel()[:3])}...; expected "
                         f"{_fmt(right.ravel()[:3])}...: v <- beta v + dp (eq. 13)")


@checker(lesson=7, fallback=adam_step_mathnn,
         signature="fn(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8), t = 1 for the first step",
         mathnn=(optim.Adam,))
def adam_step(c, fn):
    """Check ``fn(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8)``: Adam's step t, in place.

    params {"W1", ...}, grads {"dW1", ...}; m, v {"W1", ...} (zeros before the first step), each array
    its parameter's shape; t the number of this step, 1 for the first. For every key (eq. 14,
    Kingma and Ba's Algorithm 1):
    m <- beta1 m + (1 - beta1) dp;  v <- beta2 v + (1 - beta2) dp^2  (kept in m and v for the next step);
    m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t);  p <- p - lr m_hat / (sqrt(v_hat) + eps).
    Returns nothing. Checked with eps = 1e-3 (large, so that where it goes shows) and once with the defaults.
    """
    for lr, beta1, beta2, eps in ((0.1, 0.8, 0.99, 1e-3), (0.03, 0.6, 0.9, 1e-2)):  # two sets, none the defaults
        _adam(c, fn, lr, beta1, beta2, eps)
    _adam_defaults(c, fn, lr=0.1)


def _adam(c, fn, lr, beta1, beta2, eps):
    """Three Adam steps with these hyper-parameters, compared after each (see adam_step)."""
    params0, steps = _problem()

    def variant(key, t, *, correct=(True, True), eps_inside=False, sqrt=True, t0=1, square=True, scale=1.0):
        """Parameter `key` after t steps of an Adam step with one mistake switched on."""
        p, m, v = params0[key], 0.0, 0.0
        for step, grads in enumerate(steps[:t], start=t0):
            g = grads["d" + key]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * (g * g if square else g)
            m_hat = m / (1 - beta1**step) if correct[0] else m
            v_hat = v / (1 - beta2**step) if correct[1] else v
            denominator = np.sqrt(v_hat + eps) if eps_inside else (np.sqrt(v_hat) if sqrt else v_hat) + eps
            p = p - scale * lr * m_hat / denominator
        return p

    def args_of(params, grads, states, t):
        return params, grads, *states, t, lr, beta1, beta2, eps

    right_params, right_m, right_v = _copy(params0), _zeros(params0), _zeros(params0)
    for t, params, (m, v) in _run_steps(c, fn, "adam_step", ["m", "v"], args_of):
        adam_step_mathnn(right_params, steps[t - 1], right_m, right_v, t, lr, beta1, beta2, eps)
        for key in params:
            c.compare(m[key], right_m[key], otherwise=(
                f"m[{key!r}] after step {t} is wrong: m <- beta1 m + (1 - beta1) dp, stored back in m[{key!r}]"))
            c.compare(v[key], right_v[key], [
                ("v holds the running mean of dp, not of dp^2: v <- beta2 v + (1 - beta2) dp**2",
                 _running_mean(steps[:t], key, beta2, square=False)),
            ], otherwise=f"v[{key!r}] after step {t} is wrong: v <- beta2 v + (1 - beta2) dp**2")
            if t == 1 and not np.all(np.isfinite(params[key])):
                raise _Fail("with t = 1 your step gives nan/inf: the bias correction 1 - beta1**t is 0 at t = 0. t is "
                            "the number of this step, 1 for the first (Algorithm 1): use beta**t, not beta**(t - 1)")
            c.compare(params[key], right_params[key], [
                ("you left out the bias correction: m and v start at 0, so their first values are far too small; "
                 "divide each by 1 - beta**t (Algorithm 1)«: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)»",
                 variant(key, t, correct=(False, False))),
                ("you corrected m but not v: v needs the bias correction too, with beta2«: v_hat = v / (1 - beta2**t)»",
                 variant(key, t, correct=(True, False))),
                ("you corrected v but not m: m needs the bias correction too, with beta1«: m_hat = m / (1 - beta1**t)»",
                 variant(key, t, correct=(False, True))),
                ("eps belongs outside the square root: add it to the square root of v_hat, not to v_hat (Algorithm 1, "
                 "as mn.Adam and torch.optim.Adam)«: p -= lr * m_hat / (sqrt(v_hat) + eps)»",
                 variant(key, t, eps_inside=True)),
                ("you divided by v_hat + eps: divide by sqrt(v_hat) + eps", variant(key, t, sqrt=False)),
                ("your t is one too large: t is the number of this step, 1 for the first (use beta**t, with t as "
                 "given)", variant(key, t, t0=2)),
                ("your steps go uphill: a step subtracts (eq. 14)«: p -= lr * m_hat / (sqrt(v_hat) + eps)»",
                 variant(key, t, scale=-1.0)),
            ], otherwise=f"params[{key!r}] is wrong after step {t} (lr = {lr}, beta1 = {beta1}, beta2 = {beta2}, "
                         f"eps = {eps}): eq. 14, with the values given«: p -= lr * m_hat / (sqrt(v_hat) + eps)»")


def _adam_defaults(c, fn, lr):
    """Three Adam steps called without beta1, beta2, eps: the defaults must be Algorithm 1's."""
    params, steps = _problem()  # three steps once more, with the default beta1, beta2 and eps
    right, states, right_states = _copy(params), [_zeros(params), _zeros(params)], [_zeros(params), _zeros(params)]
    for t, grads in enumerate(steps, start=1):
        adam_step_mathnn(right, grads, *right_states, t, lr)
        c.call(fn, params, _copy(grads), *states, t, lr, returns=False)
        for key in params:
            c.compare(params[key], right[key], otherwise=(
                f"called with the default beta1, beta2, eps, your step {t} gives params[{key!r}] = "
                f"{_fmt(params[key].ravel()[:3])}...; expected {_fmt(right[key].ravel()[:3])}...: the defaults are "
                f"beta1=0.9, beta2=0.999, eps=1e-8"))


def _running_mean(steps, key, beta, square=True):
    """The running mean of dp (or dp^2) over the given steps, from 0: beta m + (1 - beta) g per step."""
    mean = 0.0
    for grads in steps:
        g = grads["d" + key]
        mean = beta * mean + (1 - beta) * (g * g if square else g)
    return mean
