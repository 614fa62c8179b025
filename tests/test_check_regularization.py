"""mathnn.check, lesson 10: the L2 gradient and inverted dropout, forward and backward.

As in test_check.py: each wrong implementation makes one mistake, and the checker must print
the hint naming it and return mathnn's version instead.
"""

import numpy as np
import pytest
from check_helpers import assert_hint, assert_passes, copy_of, verdict

import mathnn as mn
from mathnn import check

# ----------------------------------------------------------------------------- l2_grads


def l2_with(*, factor=1.0, only_penalty=False, biases=False, in_place=False, power=1, drop_biases=False):
    """The L2 gradient with switches for the classic mistakes (the defaults are right)."""
    def l2_grads(params, grads, weight_decay):
        out = {}
        for key, g in grads.items():
            p = params[key[1:]]
            if key.startswith("dW") or biases:
                if in_place:
                    g += weight_decay * p
                    out[key] = g
                else:
                    out[key] = (0 if only_penalty else g) + factor * weight_decay * p**power
            elif not drop_biases:
                out[key] = g
        return out
    return l2_grads


def l2_comprehension(params, grads, weight_decay):  # the lesson's solution, another way of writing it
    return {key: grads[key] + weight_decay * params[key[1:]] if key.startswith("dW") else grads[key] for key in grads}


def test_l2_grads_passes_right_ones(capsys):
    assert_passes(check.l2_grads, copy_of(mn.l2_grads), capsys)
    assert_passes(check.l2_grads, l2_comprehension, capsys)
    assert_passes(check.l2_grads, l2_with(), capsys)


def test_l2_grads_calls_by_position_so_the_third_parameter_may_have_any_name(capsys):
    """A learner's edition from before the rename (``lam``) or after it (``weight_decay``): both pass."""
    def l2_lam(params, grads, lam):
        return {key: g + lam * params[key[1:]] if key.startswith("dW") else g for key, g in grads.items()}

    def l2_strength(params, grads, strength):
        return {key: g + strength * params[key[1:]] if key.startswith("dW") else g for key, g in grads.items()}

    assert_passes(check.l2_grads, l2_lam, capsys)
    assert_passes(check.l2_grads, l2_strength, capsys)


@pytest.mark.parametrize(("wrong", "phrase"), [
    (l2_with(factor=0.5), "the 2 of the square cancels the 1/2"),
    (l2_with(factor=2.0), "the 1/2 in (weight_decay/2) ||W||^2 is there to cancel the 2"),
    (l2_with(factor=-1.0), "its gradient is + weight_decay * W"),
    (l2_with(only_penalty=True), "you returned only weight_decay * W"),
    (l2_with(power=2), "you added weight_decay * W**2"),
    (lambda params, grads, weight_decay: {key: g + weight_decay * np.sign(params[key[1:]]) if key.startswith("dW")
                                          else g for key, g in grads.items()}, "the gradient of the L1 penalty"),
    (l2_with(biases=True), "you decayed the biases too"),
    (l2_with(factor=0.0), "you left dW2 unchanged"),
    (l2_with(in_place=True), "changed grads['dW2'], grads['dW1'] in place"),
    (l2_with(drop_biases=True), "your dict has no db2, db1"),
    (lambda params, grads, weight_decay: [g for g in grads.values()], "return a dict of gradients"),
    (lambda params, grads, weight_decay: {key: g + weight_decay * params[key[1:]].T if key.startswith("dW") else g
                                 for key, g in grads.items()}, "add them as they are, without a transpose"),
])
def test_l2_grads_names_the_mistake(wrong, phrase, capsys):
    assert_hint(check.l2_grads, wrong, phrase, capsys)


# ----------------------------------------------------------------------------- dropout_forward


def forward_with(*, drop_p=False, scale="divide", shape="full", use_global=False, own_seed=False, swap=False,
                 mask_unscaled=False, in_place=False):
    """Inverted dropout with switches for the classic mistakes (the defaults are right)."""
    def dropout_forward(A, keep, rng):
        draw_shape = {"full": A.shape, "units": (A.shape[0], 1), "examples": (1, A.shape[1])}[shape]
        source = np.random if use_global else np.random.default_rng(7) if own_seed else rng
        kept = source.random(draw_shape) < (1 - keep if drop_p else keep)
        M = kept * {"divide": 1 / keep, "none": 1.0, "multiply": keep}[scale]
        if in_place:
            A *= M
            A_drop = A
        else:
            A_drop = A * (kept if mask_unscaled else M)
        return (M, A_drop) if swap else (A_drop, M)
    return dropout_forward


def forward_binomial(A, keep, rng):  # another right way: a binomial draw
    M = rng.binomial(1, keep, size=A.shape) / keep
    return A * M, M


def test_dropout_forward_passes_right_ones(capsys):
    assert_passes(check.dropout_forward, copy_of(mn.dropout_forward), capsys)
    assert_passes(check.dropout_forward, forward_with(), capsys)
    assert_passes(check.dropout_forward, forward_binomial, capsys)


@pytest.mark.parametrize(("wrong", "phrase"), [
    (forward_with(drop_p=True), "keep is the probability of KEEPING a unit"),
    (forward_with(scale="none"), "your kept entries are not scaled"),
    (forward_with(scale="multiply"), "your mask holds keep where kept: it must hold 1/keep"),
    (forward_with(shape="units"), "drops a unit for the whole batch at once"),
    (forward_with(shape="examples"), "that drops whole examples"),
    (forward_with(use_global=True), "not np.random.random(...)"),
    (forward_with(own_seed=True), "two calls with different seeds gave the same mask"),
    (forward_with(swap=True), "return (A_drop, M) in this order"),
    (forward_with(mask_unscaled=True), "drops the entries but does not scale them"),
    (forward_with(in_place=True), "changed its input A in place"),
    (lambda A, keep, rng: A * (rng.random(A.shape) < keep) / keep, "return the pair (A_drop, M)"),
    (lambda A, keep, rng: (A, np.ones_like(A)), "you kept 100.0% of the entries with keep = 0.8"),
])
def test_dropout_forward_names_the_mistake(wrong, phrase, capsys):
    assert_hint(check.dropout_forward, wrong, phrase, capsys)


def test_an_unwritten_stub_falls_back_quietly(capsys):
    def dropout_forward(A, keep, rng):
        raise NotImplementedError()

    result, out = verdict(check.dropout_forward, dropout_forward, capsys)
    assert result is mn.dropout_forward
    assert out == "○ dropout_forward: not written yet: using mathnn's dropout_forward for now\n"


# ----------------------------------------------------------------------------- dropout_backward


def test_dropout_backward_passes_right_ones(capsys):
    assert_passes(check.dropout_backward, copy_of(mn.dropout_backward), capsys)
    assert_passes(check.dropout_backward, lambda dA_drop, M: M * dA_drop, capsys)


def backward_in_place(dA_drop, M):
    dA_drop *= M
    return dA_drop


@pytest.mark.parametrize(("wrong", "phrase"), [
    (lambda dA_drop, M: dA_drop, "you returned dA_drop unchanged"),
    (lambda dA_drop, M: dA_drop * (M > 0), "you masked but did not scale"),
    (lambda dA_drop, M: dA_drop * (M > 0) * 0.75, "you scaled by keep instead of by 1/keep"),
    (lambda dA_drop, M: dA_drop / M, "you divided by M"),
    (backward_in_place, "changed its input dA_drop in place"),
    (lambda dA_drop, M: (dA_drop * M).T, "your dA has shape (9, 6); expected (6, 9)"),
    (lambda dA_drop, M: dA_drop * M * 2, "your dA is wrong (eq. 16)"),
])
def test_dropout_backward_names_the_mistake(wrong, phrase, capsys):
    assert_hint(check.dropout_backward, wrong, phrase, capsys)


def test_the_checkers_belong_to_lesson_10():
    assert (check.l2_grads.lesson, check.dropout_forward.lesson, check.dropout_backward.lesson) == (10, 10, 10)
    assert check.l2_grads.fallback is mn.l2_grads and check.dropout_backward.fallback is mn.dropout_backward
