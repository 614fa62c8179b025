"""mathnn.check, lessons 04-07: an epoch of SGD, He/Glorot init, schedules, momentum and Adam.

As in test_check.py: each wrong implementation makes one mistake, and the checker must print
the hint naming it and return mathnn's version instead.
"""

import math

import numpy as np
import pytest
from check_helpers import assert_hint, assert_passes, copy_of

import mathnn as mn
from mathnn import check

# ----------------------------------------------------------------------------- sgd_epoch (lesson 04)


def epoch_with(*, shuffle=True, sign=1.0, scale_by_B=False, drop_last=False, stale=False, use_global=False,
               return_mean=False, loss_after=False):
    """Lesson 04's epoch with switches for the classic mistakes (the defaults are right)."""
    def sgd_epoch(params, X, Y, lr, batch_size, rng):
        m = X.shape[1]
        perm = (np.random.permutation(m) if use_global else rng.permutation(m)) if shuffle else np.arange(m)
        start_params = {key: p.copy() for key, p in params.items()}
        stop = m - m % batch_size if drop_last else m
        losses = []
        for start in range(0, stop, batch_size):
            idx = perm[start:start + batch_size]  # (B,)
            X_batch, Y_batch = X.T[idx].T, Y.T[idx].T  # (784, B), (10, B)
            loss, grads = mn.loss_and_grads(start_params if stale else params, X_batch, Y_batch)
            for key, p in params.items():
                p -= sign * lr * (len(idx) if scale_by_B else 1) * grads["d" + key]
            if loss_after:
                loss = mn.loss_and_grads(params, X_batch, Y_batch)[0]
            losses.append(loss)
        return float(np.mean(losses)) if return_mean else losses
    return sgd_epoch


def epoch_open_loop(params, X, Y, lr, batch_size, rng):  # lesson 04's loop, word for word
    m = X.shape[1]
    perm = rng.permutation(m)
    losses = []
    for start in range(0, m, batch_size):
        idx = perm[start:start + batch_size]
        X_batch, Y_batch = X.T[idx].T, Y.T[idx].T
        A2, cache = mn.forward(params, X_batch)
        losses.append(mn.cross_entropy(cache["Z2"], Y_batch))
        grads = mn.backward(params, cache, Y_batch)
        for key, p in params.items():
            p -= lr * grads["d" + key]
    return losses


def epoch_replaces(params, X, Y, lr, batch_size, rng):
    losses = []
    for X_batch, Y_batch in mn.minibatches(X, Y, batch_size, rng):
        loss, grads = mn.loss_and_grads(params, X_batch, Y_batch)
        for key in params:
            params[key] = params[key] - lr * grads["d" + key]
        losses.append(loss)
    return losses


def epoch_rebinds(params, X, Y, lr, batch_size, rng):
    losses = []
    for X_batch, Y_batch in mn.minibatches(X, Y, batch_size, rng):
        loss, grads = mn.loss_and_grads(params, X_batch, Y_batch)
        for key, p in params.items():
            p = p - lr * grads["d" + key]  # noqa: F841 (the mistake under test)
        losses.append(loss)
    return losses


def epoch_shuffles_X(params, X, Y, lr, batch_size, rng):
    rng.shuffle(X, axis=1)  # shuffles the caller's images (and not the labels with them)
    return epoch_open_loop(params, X, Y, lr, batch_size, np.random.default_rng(0))


def test_sgd_epoch_right(capsys):
    assert_passes(check.sgd_epoch, epoch_with(), capsys)
    assert_passes(check.sgd_epoch, epoch_open_loop, capsys)
    assert_passes(check.sgd_epoch, lambda *args: np.array(epoch_open_loop(*args)), capsys)  # an array of losses


@pytest.mark.parametrize("fn, phrase", [
    (epoch_with(shuffle=False), "your epoch does not shuffle: draw a permutation of the m columns from rng"),
    (epoch_with(use_global=True), "two runs with equal seeds gave different parameters: draw the order with the "
                                  "rng argument"),
    (epoch_with(sign=-1.0), "your steps go uphill"),
    (epoch_with(scale_by_B=True), "your steps are batch_size = 16 times too large"),
    (epoch_with(drop_last=True), "you returned 3 losses for 4 batches"),
    (epoch_with(stale=True), "stale gradients"),
    (epoch_with(return_mean=True), "you returned one number"),
    (epoch_with(loss_after=True), "your parameters are right, but your batch losses"),
    (epoch_replaces, "was replaced by a new array"),
    (epoch_rebinds, "your sgd_epoch left params unchanged"),
    (epoch_shuffles_X, "your sgd_epoch changed X or Y in place"),
    (lambda params, X, Y, lr, batch_size, rng: None, "forget the `return`"),
    (lambda params, X, Y, lr, batch_size: [], "raised TypeError"),
])
def test_sgd_epoch_mistakes(fn, phrase, capsys):
    assert_hint(check.sgd_epoch, fn, phrase, capsys)


def test_sgd_epoch_skipping_the_last_batch_is_named_even_with_the_right_count(capsys):
    def fn(params, X, Y, lr, batch_size, rng):  # skips the last batch's step, but still reports 4 losses
        losses = epoch_with(drop_last=True)(params, X, Y, lr, batch_size, rng)
        return losses + [losses[-1]]

    assert_hint(check.sgd_epoch, fn, "your epoch skips the last, smaller batch (m = 50, batch_size = 16", capsys)


# ----------------------------------------------------------------------------- he_init, glorot_init (lesson 05)


def normal_init(sigma):
    return lambda n_in, n_out, rng: sigma(n_in, n_out) * rng.standard_normal((n_out, n_in))


def he_sigma(n_in, n_out):
    return np.sqrt(2 / n_in)


def glorot_sigma(n_in, n_out):
    return np.sqrt(2 / (n_in + n_out))


def uniform_init(half_width):
    return lambda n_in, n_out, rng: rng.uniform(-half_width(n_in, n_out), half_width(n_in, n_out), (n_out, n_in))


def global_init(n_in, n_out, rng):
    return np.sqrt(2 / n_in) * np.random.standard_normal((n_out, n_in))  # ignores rng


def own_seed_init(n_in, n_out, rng):
    return np.sqrt(2 / n_in) * np.random.default_rng(0).standard_normal((n_out, n_in))


def test_he_init_right(capsys):
    assert_passes(check.he_init, normal_init(he_sigma), capsys)
    assert_passes(check.he_init, lambda n_in, n_out, rng: rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in)), capsys)
    assert_hint(check.he_init, lambda n_in, n_out, rng: mn.init_params((n_in, n_out), "he", rng)["W1"],
                "you called mn.init_params", capsys)


def test_glorot_init_right(capsys):
    assert_passes(check.glorot_init, normal_init(glorot_sigma), capsys)
    assert_hint(check.glorot_init, lambda n_in, n_out, rng: mn.init_params((n_in, n_out), "glorot", rng)["W1"],
                "you called mn.init_params", capsys)


@pytest.mark.parametrize("fn, phrase", [
    (lambda n_in, n_out, rng: np.sqrt(2 / n_in) * rng.standard_normal((n_in, n_out)), "shape (n_in, n_out)"),
    (normal_init(lambda n_in, n_out: np.sqrt(2 / n_out)), "did you use n_out?"),
    (normal_init(lambda n_in, n_out: 2 / n_in), "you used the variance 2 / n_in as the std"),
    (normal_init(lambda n_in, n_out: np.sqrt(1 / n_in)), "that is LeCun's sigma"),
    (normal_init(glorot_sigma), "that is Glorot's sigma"),
    (uniform_init(he_sigma), "that is a uniform draw on [-sigma, sigma]"),
    (uniform_init(lambda n_in, n_out: np.sqrt(6 / n_in)), "right std but are uniform"),
    (uniform_init(lambda n_in, n_out: 0.01), "your weights are uniform (flat histogram) with std"),
    (lambda n_in, n_out, rng: np.sqrt(2 / n_in) * rng.random((n_out, n_in)), "your weights have mean"),
    (global_init, "two calls with equal seeds gave different weights"),
    (own_seed_init, "different seeds gave the same weights"),
    (normal_init(lambda n_in, n_out: 0.01), "the std of your weights is 0.01"),
    (lambda n_in, n_out, rng: np.sqrt(2 / n_in) * rng.standard_t(3, (n_out, n_in)) / np.sqrt(3),
     "histogram is not a normal one"),
    (lambda n_in, n_out, rng: np.zeros((400, 1000)) if n_in == 1000 else np.zeros((3, 3)),
     "for n_in = 3, n_out = 2 your W has shape (3, 3); expected (2, 3)"),
])
def test_he_init_mistakes(fn, phrase, capsys):
    assert_hint(check.he_init, fn, phrase, capsys)


@pytest.mark.parametrize("fn, phrase", [
    (normal_init(he_sigma), "that is He's sigma"),
    (normal_init(lambda n_in, n_out: np.sqrt(1 / n_in)), "that is LeCun's sigma"),
    (normal_init(lambda n_in, n_out: np.sqrt(1 / (n_in + n_out))), "you used 1 / (n_in + n_out)"),
    (normal_init(lambda n_in, n_out: 2 / (n_in + n_out)), "as the std: take its square root"),
    (uniform_init(glorot_sigma), "that is a uniform draw on [-sigma, sigma]"),
    (lambda n_in, n_out, rng: glorot_sigma(n_in, n_out) * rng.standard_normal((n_in, n_out)), "(n_out, n_in)"),
])
def test_glorot_init_mistakes(fn, phrase, capsys):
    assert_hint(check.glorot_init, fn, phrase, capsys)


def test_init_tolerance_never_fails_a_right_function_by_chance():
    """The checker uses seed 0; any seed gives a std within a tenth of the 2% tolerance (18 standard errors)."""
    from mathnn.check import initialization

    n = initialization.N_IN * initialization.N_OUT
    assert 1 / math.sqrt(2 * n) * 17 < initialization.TOLERANCE
    for seed in range(20):
        W = normal_init(he_sigma)(1000, 400, np.random.default_rng(seed))
        assert abs(W.std() / he_sigma(1000, 400) - 1) < initialization.TOLERANCE / 5


# ----------------------------------------------------------------------------- schedules (lesson 06)


def cosine(form):
    return lambda lr, num_epochs: lambda epoch: lr * form(epoch, num_epochs)


@pytest.mark.parametrize("fn", [
    copy_of(mn.cosine_schedule),
    cosine(lambda e, E: (1 + math.cos(math.pi * e / E)) / 2),
    cosine(lambda e, E: np.cos(np.pi * e / (2 * E)) ** 2),  # the same curve, by a half-angle identity
])
def test_cosine_schedule_right(fn, capsys):
    assert_passes(check.cosine_schedule, fn, capsys)


@pytest.mark.parametrize("fn, phrase", [
    (cosine(lambda e, E: (1 + math.cos(math.pi * (e + 1) / E)) / 2), "it starts one epoch late"),
    (cosine(lambda e, E: (1 + math.cos(math.pi * e / (E - 1))) / 2), "it reaches 0 at the last epoch"),
    (cosine(lambda e, E: (1 + math.cos(180 * e / E)) / 2), "you took the cosine of degrees"),
    (cosine(lambda e, E: (1 - math.cos(math.pi * e / E)) / 2), "it rises from 0 to lr"),
    (cosine(lambda e, E: (1 + math.cos(2 * math.pi * e / E)) / 2), "it goes down and back up to lr"),
    (cosine(lambda e, E: 1 + math.cos(math.pi * e / E)), "it starts at 2 * lr"),
    (lambda lr, num_epochs: lambda epoch: (1 + math.cos(math.pi * epoch / num_epochs)) / 2, "it ignores lr"),
    (cosine(lambda e, E: 1 - e / E), "for lr = 0.3, num_epochs = 6 your schedule gives [0.3 , 0.25, 0.2 ,"),
    (lambda lr, num_epochs: lr, "returned a float, not a function"),
    (lambda lr, num_epochs: lambda epoch: [lr, lr], "must return one number"),
    (lambda lr, num_epochs: lambda epoch: lr if epoch < 2 else [lr, lr], "returned [0.3, 0.3] for epoch 2"),
])
def test_cosine_schedule_mistakes(fn, phrase, capsys):
    assert_hint(check.cosine_schedule, fn, phrase, capsys)


def test_step_schedule_right(capsys):
    assert_passes(check.step_schedule, copy_of(mn.step_schedule), capsys)
    assert_passes(check.step_schedule, lambda lr, drop, every: lambda e: lr * drop ** math.floor(e / every), capsys)


@pytest.mark.parametrize("fn, phrase", [
    (lambda lr, drop, every: lambda e: lr * drop ** (e / every), "use whole steps, epoch // every"),
    (lambda lr, drop, every: lambda e: lr * drop ** ((e + 1) // every), "it drops one epoch early"),
    (lambda lr, drop, every: lambda e: lr * drop**e, "it drops by drop every epoch"),
    (lambda lr, drop, every: lambda e: lr - drop * (e // every), "it subtracts instead of multiplying"),
])
def test_step_schedule_mistakes(fn, phrase, capsys):
    assert_hint(check.step_schedule, fn, phrase, capsys)


# ----------------------------------------------------------------------------- momentum_step, adam_step (lesson 07)


def momentum_with(*, ema=False, forget=False, p_first=False, nesterov=False, sign=1.0, lr_in_v=False, rebind=False,
                  replace=False):
    """A momentum step with switches for the classic mistakes (the defaults are right: eq. 13)."""
    def momentum_step(params, grads, velocity, lr, beta):
        for key, p in params.items():
            g, v_old = grads["d" + key], velocity[key].copy()
            v = beta * (0 if forget else v_old) + ((1 - beta) if ema else lr if lr_in_v else 1) * g
            if not rebind:
                velocity[key] = v
            step = v_old if p_first else beta * v + g if nesterov else v
            if replace:
                params[key] = p - sign * lr * step
            else:
                p -= sign * (1 if lr_in_v else lr) * step
    return momentum_step


def momentum_in_place(params, grads, velocity, lr, beta):  # the velocity arrays changed in place: also right
    for key, p in params.items():
        v = velocity[key]
        v *= beta
        v += grads["d" + key]
        p -= lr * v


def test_momentum_step_right(capsys):
    assert_passes(check.momentum_step, momentum_with(), capsys)
    assert_passes(check.momentum_step, momentum_in_place, capsys)


@pytest.mark.parametrize("fn, phrase", [
    (momentum_with(ema=True), "you used the running-mean form v <- beta v + (1 - beta) dp"),
    (momentum_with(forget=True), "your velocity starts from 0 at every step, so this is plain SGD"),
    (momentum_with(p_first=True), "did you step with the velocity before updating it? At step 1 it is still 0"),
    (momentum_with(nesterov=True), "that is Nesterov's step"),
    (momentum_with(sign=-1.0), "your steps go uphill"),
    (momentum_with(lr_in_v=True), "your params are right, but velocity['W1'] holds 0.5 * v"),
    (momentum_with(rebind=True), "your momentum_step did not update velocity at step t = 1"),
    (momentum_with(replace=True), "replaced the arrays in params"),
    (lambda params, grads, velocity, lr, beta: None, "left params unchanged at step t = 1"),
    (lambda params, grads, velocity, lr: None, "raised TypeError"),
])
def test_momentum_step_mistakes(fn, phrase, capsys):
    assert_hint(check.momentum_step, fn, phrase, capsys)


def adam_with(*, correct=(True, True), eps_inside=False, sqrt=True, t_shift=0, square=True, sign=1.0, keep=True,
              defaults=(0.9, 0.999, 1e-8)):
    """An Adam step with switches for the classic mistakes (the defaults are right: Algorithm 1)."""
    def adam_step(params, grads, m, v, t, lr, beta1=defaults[0], beta2=defaults[1], eps=defaults[2]):
        t = t + t_shift
        for key, p in params.items():
            g = grads["d" + key]
            m_new = beta1 * m[key] + (1 - beta1) * g
            v_new = beta2 * v[key] + (1 - beta2) * (g * g if square else g)
            if keep:
                m[key], v[key] = m_new, v_new
            m_hat = m_new / (1 - beta1**t) if correct[0] else m_new
            v_hat = v_new / (1 - beta2**t) if correct[1] else v_new
            denominator = np.sqrt(v_hat + eps) if eps_inside else (np.sqrt(v_hat) if sqrt else v_hat) + eps
            p -= sign * lr * m_hat / denominator
    return adam_step


def test_adam_step_right(capsys):
    assert_passes(check.adam_step, adam_with(), capsys)


@pytest.mark.parametrize("fn, phrase", [
    (adam_with(correct=(False, False)), "you left out the bias correction"),
    (adam_with(correct=(True, False)), "you corrected m but not v"),
    (adam_with(correct=(False, True)), "you corrected v but not m"),
    (adam_with(eps_inside=True), "eps belongs outside the square root"),
    (adam_with(sqrt=False), "you divided by v_hat + eps"),
    (adam_with(t_shift=-1), "with t = 1 your step gives nan/inf"),
    (adam_with(t_shift=1), "your t is one too large"),
    (adam_with(square=False), "v holds the running mean of dp, not of dp^2"),
    (adam_with(sign=-1.0), "your steps go uphill"),
    (adam_with(keep=False), "your adam_step did not update m at step t = 1"),
    (adam_with(defaults=(0.9, 0.99, 1e-8)), "the defaults are beta1=0.9, beta2=0.999, eps=1e-8"),
])
def test_adam_step_mistakes(fn, phrase, capsys):
    assert_hint(check.adam_step, fn, phrase, capsys)
