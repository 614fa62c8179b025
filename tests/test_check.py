"""mathnn.check: a right implementation passes; each classic mistake gets its own hint.

Every wrong implementation below makes exactly one mistake, and the test asserts that the
checker prints the hint naming that mistake (a phrase of it), returns mathnn's version
instead of the learner's, and doesn't raise.
"""

import numpy as np
import pytest
from check_helpers import assert_hint, assert_passes, copy_of, verdict

from mathnn import check

# ----------------------------------------------------------------------------- one_hot


def one_hot_right(y, num_classes):
    Y = np.zeros((num_classes, len(y)), dtype=np.float32)
    Y[y, np.arange(len(y))] = 1
    return Y


def one_hot_rows(y, num_classes):  # (m, num_classes)
    return np.eye(num_classes)[y]


def one_hot_from_max(y, num_classes):  # y.max() + 1 classes
    return np.eye(y.max() + 1)[:, y]


def one_hot_hardcoded(y, num_classes):
    return np.eye(10)[:, y]


def one_hot_whole_rows(y, num_classes):
    Y = np.zeros((num_classes, len(y)))
    Y[y, :] = 1
    return Y


def one_hot_swapped_index(y, num_classes):
    Y = np.zeros((num_classes, len(y)))
    Y[np.arange(len(y)), y] = 1
    return Y


def one_hot_bool(y, num_classes):
    return np.arange(num_classes)[:, None] == y


def one_hot_off_by_one(y, num_classes):
    return np.eye(num_classes)[:, (y + 1) % num_classes]


def one_hot_no_return(y, num_classes):
    Y = np.zeros((num_classes, len(y)))
    Y[y, np.arange(len(y))] = 1


def one_hot_sorts_labels(y, num_classes):
    y.sort()  # changes the caller's labels
    return np.eye(num_classes)[:, y]


def test_one_hot_right(capsys):
    assert_passes(check.one_hot, one_hot_right, capsys)
    assert_passes(check.one_hot, lambda y, k: np.eye(k)[:, y], capsys)


@pytest.mark.parametrize("fn, phrase", [
    (one_hot_rows, "expected (num_classes, m) = (10, 7)"),
    (one_hot_from_max, "y.max() + 1"),
    (one_hot_hardcoded, "instead of a hard-coded 10"),
    (one_hot_whole_rows, "Y[y, :] = 1 sets whole rows"),
    (one_hot_swapped_index, "not the other way round: Y[y, np.arange(m)] = 1"),
    (one_hot_bool, "dtype bool"),
    (one_hot_off_by_one, "column 0 (label y[0] = 3) should be 1 in row 3"),
    (one_hot_no_return, "forget the `return`"),
    (lambda y, k: np.zeros((k, len(y))), "all zeros"),
    (one_hot_sorts_labels, "your one_hot changed its input y in place (a y of shape (7,))"),
    (lambda y, k: y, "did you return y itself?"),
])
def test_one_hot_mistakes(fn, phrase, capsys):
    assert_hint(check.one_hot, fn, phrase, capsys)


# ----------------------------------------------------------------------------- relu


def relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


def relu_in_place_no_return(Z):
    Z[Z < 0] = 0


@pytest.mark.parametrize("fn", [lambda Z: np.maximum(Z, 0), lambda Z: Z * (Z > 0), lambda Z: np.where(Z > 0, Z, 0)])
def test_relu_right(fn, capsys):
    assert_passes(check.relu, fn, capsys)


@pytest.mark.parametrize("fn, phrase", [
    (lambda Z: np.max(Z, 0), "np.max(Z, 0) takes the largest entry along axis 0"),
    (lambda Z: np.max(Z), "a single number"),
    (lambda Z: (Z > 0).astype(float), "ReLU's derivative"),
    (lambda Z: np.minimum(Z, 0), "min(0, Z)"),
    (lambda Z: np.abs(Z), "|Z|"),
    (lambda Z: Z, "your output equals Z"),
    (lambda Z: np.where(Z > 0, Z, 0.01 * Z), "leaky ReLU"),
    (relu_in_place, "changed its input Z in place"),
    (relu_in_place_no_return, "your relu changed its input Z in place (a Z of shape (10, 7)): e.g. Z[Z < 0] = 0"),
    (lambda Z: None, "forget the `return`"),
])
def test_relu_mistakes(fn, phrase, capsys):
    assert_hint(check.relu, fn, phrase, capsys)


# ----------------------------------------------------------------------------- softmax


def softmax_right(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))  # (k, m)
    return E / E.sum(axis=0, keepdims=True)


def softmax_naive(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax_axis1(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_rows_transposed(Z):  # row-wise softmax of Z.T, returned as (m, k)
    return softmax_axis1(Z.T)


def softmax_whole_sum(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum()


def softmax_global_max(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=0, keepdims=True)


def softmax_row_max(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_in_place(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax_no_keepdims_axis1(Z):  # (10, 7) / (10,) does not broadcast
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=1)


def softmax_in_place_when_huge(Z):  # leaves ordinary logits alone, shifts huge ones in place
    if Z.max() > 700:
        Z -= Z.max(axis=0, keepdims=True)
    return softmax_right(Z)


def test_softmax_right(capsys):
    assert_passes(check.softmax, softmax_right, capsys)
    # without keepdims, axis=0 reductions broadcast correctly too
    assert_passes(check.softmax, lambda Z: np.exp(Z - Z.max(0)) / np.exp(Z - Z.max(0)).sum(0), capsys)


@pytest.mark.parametrize("fn, phrase", [
    (softmax_naive, "your softmax returns nan/inf (or the wrong shape) for the column z = [1000.0, 1001.0, 1002.0]: "
                    "shift each column by its max"),
    (softmax_axis1, "your columns don't sum to 1 — did you sum over axis=1 instead of axis=0?"),
    (softmax_rows_transposed, "your output has shape (m, 10) = (7, 10); expected (10, m)"),
    (softmax_whole_sum, "your whole matrix sums to 1"),
    (softmax_global_max, "each column's own max"),
    (softmax_row_max, "you subtracted each row's max (axis=1)"),
    (softmax_in_place, "changed its input Z in place"),
    (softmax_in_place_when_huge, "your softmax changed its input Z in place (a Z of shape (3, 1))"),
    (lambda Z: Z, "your output equals Z, the logits"),
    (lambda Z: None, "forget the `return`"),
    (softmax_no_keepdims_axis1, "raised ValueError"),
    (lambda Z: np.exp(Z), "without dividing by the column sums"),
    (lambda Z: np.exp(Z - Z.max(0)), "your columns don't sum to 1 (they sum to"),
    (lambda Z: np.exp(Z).sum(0), "shape (m,) = (7,)"),
])
def test_softmax_mistakes(fn, phrase, capsys):
    assert_hint(check.softmax, fn, phrase, capsys)


def test_softmax_broadcast_error_hint(capsys):
    assert_hint(check.softmax, softmax_no_keepdims_axis1, "keepdims=True", capsys)


# ----------------------------------------------------------------------------- cross_entropy


def log_softmax(Z, axis=0):
    shifted = Z - Z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def ce_right(Z, Y):
    return float(-(Y * log_softmax(Z)).sum() / Y.shape[1])


def ce_naive(Z, Y):  # log of a softmax without the max shift: overflows
    A = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
    return -(Y * np.log(A)).sum() / Y.shape[1]


def ce_log_of_softmax(Z, Y):  # stable softmax, but log(0) for a confidently wrong prediction
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = E / E.sum(axis=0, keepdims=True)
    return -(Y * np.log(A)).sum() / Y.shape[1]


def ce_clipped(Z, Y):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = E / E.sum(axis=0, keepdims=True)
    return -(Y * np.log(np.clip(A, 1e-12, 1))).sum() / Y.shape[1]


def ce_shifts_in_place(Z, Y):  # right value, but the caller's logits are shifted
    Z -= Z.max(axis=0)
    return -(Y * (Z - np.log(np.exp(Z).sum(axis=0)))).sum() / Y.shape[1]


def ce_scales_Y_in_place(Z, Y):  # right value, but the caller's Y now holds Y * log A
    Y *= log_softmax(Z)
    return -Y.sum() / Y.shape[1]


def test_cross_entropy_right(capsys):
    assert_passes(check.cross_entropy, ce_right, capsys)
    assert_passes(check.cross_entropy, lambda Z, Y: np.mean(-np.sum(Y * log_softmax(Z), axis=0)), capsys)


@pytest.mark.parametrize("fn, phrase", [
    (lambda Z, Y: -(Y * log_softmax(Z)).sum(), "you forgot the 1/m"),
    (lambda Z, Y: -(Y * log_softmax(Z)).mean(), "you divided by m * k"),
    (lambda Z, Y: -(Y * log_softmax(Z)).sum() / Y.shape[0], "you divided by Y.shape[0]"),
    (lambda Z, Y: (Y * log_softmax(Z)).sum() / Y.shape[1], "wrong sign"),
    (lambda Z, Y: -(Y * log_softmax(Z, axis=1)).sum() / Y.shape[1], "wrong axis"),
    (lambda Z, Y: -(Y * Z).sum() / Y.shape[1], "you left out the log-sum-exp"),
    (lambda Z, Y: -(Y * log_softmax(Z)).sum() / Y.shape[1] / np.log(10), "you used log10"),
    (lambda Z, Y: -(Y * np.log(Z)).sum() / Y.shape[1], "did you take the log of Z itself?"),
    (lambda Z, Y: -(Y * log_softmax(Z)).sum(axis=0), "one loss per example"),
    (ce_naive, "nan/inf for logits z = [1000, 1001, 1002]"),
    (ce_log_of_softmax, "log(0) = -inf"),
    (ce_clipped, "Clipping the probability"),
    (ce_shifts_in_place, "your cross_entropy changed its input Z in place (a Z of shape (10, 7))"),
    (ce_scales_Y_in_place, "your cross_entropy changed its input Y in place (a Y of shape (10, 7))"),
    (lambda Z, Y: 0.0, "your loss is 0"),
    (lambda Z, Y: None, "forget the `return`"),
])
def test_cross_entropy_mistakes(fn, phrase, capsys):
    assert_hint(check.cross_entropy, fn, phrase, capsys)


# ----------------------------------------------------------------------------- backward


def make_backward(*, scale=1.0, mask="Z1", transpose_dW2=False, db_axis=1, keepdims=True, sign=1.0,
                  W2_transposed=True, dW1_transposed=False, db_mean=False):
    """A backward pass with switches for the classic mistakes (the defaults are right)."""
    def backward(params, cache, Y):
        X, Z1, A1, A2 = cache["A0"], cache["Z1"], cache["A1"], cache["A2"]
        m = Y.shape[1]
        dZ2 = sign * scale * (A2 - Y) / m  # (10, m)
        dW2 = A1 @ dZ2.T if transpose_dW2 else dZ2 @ A1.T  # (10, 10)
        db2 = dZ2.mean(axis=db_axis, keepdims=keepdims) if db_mean else dZ2.sum(axis=db_axis, keepdims=keepdims)
        W2 = params["W2"]
        dA1 = (W2.T if W2_transposed else W2) @ dZ2  # (10, 10) @ (10, m) -> (10, m)
        dZ1 = {"Z1": dA1 * (Z1 > 0), "none": dA1, "Z1 values": dA1 * Z1, "A1 values": dA1 * A1}[mask]
        dW1 = X @ dZ1.T if dW1_transposed else dZ1 @ X.T  # (10, m) @ (m, 784) -> (10, 784)
        db1 = dZ1.sum(axis=db_axis, keepdims=keepdims)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return backward


def backward_in_place(params, cache, Y):
    dZ2 = cache["A2"]
    dZ2 -= Y
    dZ2 /= Y.shape[1]
    dZ1 = (params["W2"].T @ dZ2) * (cache["Z1"] > 0)
    return {"dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(1, keepdims=True),
            "dW1": dZ1 @ cache["A0"].T, "db1": dZ1.sum(1, keepdims=True)}


def backward_then(tidy):
    """The right backward pass, followed by tidy(params, cache, Y), which changes an input."""
    def backward(params, cache, Y):
        grads = make_backward()(params, cache, Y)
        tidy(params, cache, Y)
        return grads
    return backward


def test_backward_right(capsys):
    import mathnn

    assert_passes(check.backward, make_backward(), capsys)
    assert_passes(check.backward, copy_of(mathnn.backward), capsys)


@pytest.mark.parametrize("fn, phrase", [
    (make_backward(scale=8.0), "dW2 is m times too large: did you forget the 1/m"),
    (make_backward(mask="none"),
     "dW1 has the right shape but wrong values: did you forget the ReLU mask (Z1 > 0)?"),
    (make_backward(mask="Z1 values"), "you multiplied by Z1 itself"),
    (make_backward(mask="A1 values"), "you multiplied by the activation A1"),
    (make_backward(W2_transposed=False), "did you use W2 without the transpose?"),
    (make_backward(transpose_dW2=True), "dW2 is transposed"),
    (make_backward(dW1_transposed=True), "dW1 has shape (784, 10), the transpose of W1's"),
    (make_backward(db_axis=1, keepdims=False), "db2 has shape (10,): keep it a column"),
    (make_backward(db_axis=0), "db2 has shape (1, m): you summed over axis=0"),
    (make_backward(db_mean=True), "db2 is m times too small"),
    (make_backward(sign=-1.0), "dW2 has the wrong sign"),
    (backward_in_place, "changed cache['A2'] in place"),
    (backward_then(lambda params, cache, Y: cache.clear()), "your backward emptied the dict cache (cache.clear()?)"),
    (backward_then(lambda params, cache, Y: params.clear()), "your backward emptied the dict params"),
    (backward_then(lambda params, cache, Y: cache.pop("Z1")), "your backward deleted cache['Z1']"),
    (backward_then(lambda params, cache, Y: cache.update(dZ2=Y)), "your backward added cache['dZ2']"),
    (backward_then(lambda params, cache, Y: Y.fill(0)), "your backward changed its input Y in place"),
    (backward_then(lambda params, cache, Y: params["W1"].fill(0)), "your backward changed params['W1'] in place"),
    (lambda params, cache, Y: {"d" + key: np.zeros_like(p) for key, p in params.items()}, "dW2 is all zeros"),
    (lambda params, cache, Y: None, "forget the `return`"),
    (lambda params, cache, Y: {"dW1": 0}, "no key 'dW2', 'db2', 'db1'"),
    (lambda params, cache, Y: cache["X"], "KeyError"),
])
def test_backward_mistakes(fn, phrase, capsys):
    assert_hint(check.backward, fn, phrase, capsys)


def test_backward_db_not_summed(capsys):
    def fn(params, cache, Y):
        grads = make_backward()(params, cache, Y)
        grads["db2"] = (cache["A2"] - Y) / Y.shape[1]  # (10, m): not summed over the batch
        return grads

    assert_hint(check.backward, fn, "db2 has shape (10, m): sum dZ2 over the batch axis", capsys)


def test_backward_names_the_first_wrong_gradient_then_the_others(capsys):
    result, out = verdict(check.backward, make_backward(scale=8.0), capsys)
    assert result is check.backward.fallback
    assert out.startswith("✗ backward: dW2 is m times too large: did you forget the 1/m in dZ2"), out
    assert "3 more wrong, each built from the ones before (fix the first one first)" in out
    for key in ("db2", "dW1", "db1"):
        assert f"- {key} is m times too large" in out


# ----------------------------------------------------------------------------- sgd_step


def sgd_right(params, grads, lr):
    for key, p in params.items():
        p -= lr * grads["d" + key]


def sgd_rebinds(params, grads, lr):
    for key, p in params.items():
        p = p - lr * grads["d" + key]  # noqa: F841 (the mistake under test)


def sgd_replaces(params, grads, lr):
    for key in params:
        params[key] = params[key] - lr * grads["d" + key]


def sgd_returns(params, grads, lr):
    return {key: p - lr * grads["d" + key] for key, p in params.items()}


def sgd_weights_only(params, grads, lr):
    for key in ("W1", "W2"):
        params[key] -= lr * grads["d" + key]


def sgd_scales_grads(params, grads, lr):
    for key, p in params.items():
        g = grads["d" + key]
        g *= lr
        p -= g


def sgd_then(tidy):
    """The right step, followed by tidy(params, grads)."""
    def step(params, grads, lr):
        sgd_right(params, grads, lr)
        tidy(params, grads)
    return step


def sgd_does_nothing(params, grads, lr):
    pass


def test_sgd_step_right(capsys):
    import mathnn

    assert_passes(check.sgd_step, sgd_right, capsys)
    assert_hint(check.sgd_step, lambda params, grads, lr: mathnn.SGD(params, lr).step(grads),
                "you called mn.SGD, mathnn's own sgd_step: write it yourself", capsys)

    def slice_assign(params, grads, lr):
        for key, p in params.items():
            p[...] = p - lr * grads["d" + key]

    assert_passes(check.sgd_step, slice_assign, capsys)


def sgd_with(update):
    def step(params, grads, lr):
        for key, p in params.items():
            p[...] = update(p, grads["d" + key], lr)
    return step


@pytest.mark.parametrize("fn, phrase", [
    (sgd_rebinds, "params not changed in place (you rebound a local name"),
    (sgd_replaces, "was replaced by a new array"),
    (sgd_returns, "you returned new parameters"),
    (sgd_weights_only, "params['b1'], params['b2'] did not change"),
    (sgd_with(lambda p, g, lr: p + lr * g), "moved uphill"),
    (sgd_with(lambda p, g, lr: p - g), "the step ignores lr"),
    (sgd_with(lambda p, g, lr: p - 0.1 * g), "hard-code a learning rate"),
    (sgd_scales_grads, "changed grads['db2'], grads['dW2'], grads['db1'], grads['dW1'] in place"),
    (lambda p, g, lr: p.clear(), "your sgd_step emptied the dict params (params.clear()?)"),
    (sgd_then(lambda params, grads: params.clear()), "your sgd_step emptied the dict params"),
    (sgd_then(lambda params, grads: grads.clear()), "your sgd_step emptied the dict grads (grads.clear()?)"),
    (sgd_then(lambda params, grads: params.pop("b2")), "your sgd_step deleted params['b2']"),
    (sgd_then(lambda params, grads: params.update(grads)), "your sgd_step added params['db2'], params['dW2']"),
    (sgd_does_nothing, "your sgd_step did nothing: params are unchanged, and it never read grads"),
    (lambda params, grads, lr: None, "did nothing"),
    (lambda params, grads, lr: params["dW1"], "KeyError"),
    (lambda params, grads: None, "TypeError"),
])
def test_sgd_step_mistakes(fn, phrase, capsys):
    assert_hint(check.sgd_step, fn, phrase, capsys)


def test_checkers_never_raise_on_odd_outputs(capsys):
    for checker, fn in [(check.softmax, lambda Z: "oops"), (check.relu, lambda Z: [[1, 2], [3]]),
                        (check.cross_entropy, lambda Z, Y: "x"), (check.backward, lambda p, c, Y: [1]),
                        (check.one_hot, lambda y, k: 1 / 0), (check.forward, lambda *args: {}),
                        (check.numerical_gradient, lambda f, x, h=1e-5: "x"), (check.sgd_epoch, lambda *args: 1 / 0),
                        (check.he_init, lambda *args: [[1], [2, 3]]), (check.cosine_schedule, lambda lr, n: 3),
                        (check.momentum_step, lambda *args: None), (check.adam_step, lambda *args: None)]:
        result, out = verdict(checker, fn, capsys)
        assert result is checker.fallback and out.startswith("✗"), out


# ----------------------------------------------------------------------------- the contract: go on either way


def not_written(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


@pytest.mark.parametrize("checker", [getattr(check, name) for name in check.__all__ if name != "progress"])
def test_a_stub_not_written_yet_is_a_state_not_a_traceback(checker, capsys):
    result, out = verdict(checker, not_written, capsys)
    name = checker.stub  # as the learner wrote it: Linear, not linear_module
    assert result is checker.fallback
    assert out == f"○ {name}: not written yet: using mathnn's {name} for now\n"


@pytest.mark.parametrize("checker", [getattr(check, name) for name in check.__all__ if name != "progress"])
def test_every_fallback_passes_its_own_checker_but_is_not_yours(checker, capsys):
    from mathnn.check import core

    assert core._run(checker.body, checker, checker.fallback, None, False) == (core.PASSED, None)  # right...
    capsys.readouterr()
    result, out = verdict(checker, checker.fallback, capsys)  # mathnn's own: no pass, the lesson goes on with it
    assert result is checker.fallback and out.startswith(f"○ {checker.stub}: this is mathnn's "), out
    assert "cell first, then this check again (your progress is unchanged)" in out


def test_mathnns_own_functions_are_the_fallbacks():
    import mathnn as mn

    assert check.softmax.fallback is mn.softmax and check.cross_entropy.fallback is mn.cross_entropy
    assert check.one_hot.fallback is mn.one_hot and check.backward.fallback is mn.backward
    assert check.numerical_gradient.fallback is mn.numerical_gradient
    assert check.cosine_schedule.fallback is mn.cosine_schedule and check.step_schedule.fallback is mn.step_schedule


def test_mathnns_relu_works_on_a_vector_too():  # lesson 01 plots relu(z) for z of shape (121,)
    z = np.linspace(-3, 3, 121)
    np.testing.assert_array_equal(check.relu.fallback(z), np.maximum(z, 0))


def test_an_exception_in_your_code_shows_its_type_message_and_line(capsys):
    def my_relu(Z):
        A = Z.copy()
        A[Z < 0] = Z.nonexistent
        return A

    result, out = verdict(check.relu, my_relu, capsys)
    assert result is check.relu.fallback
    assert out.startswith("✗ relu: your function raised AttributeError: 'numpy.ndarray' object has no attribute "
                          "'nonexistent', in your code, line "), out
    assert ": A[Z < 0] = Z.nonexistent (it is called as fn(Z)" in out
    assert "Traceback" not in out and out.count("\n") == 2, out


def test_the_line_shown_is_the_innermost_line_of_your_code(capsys):
    def helper(Z):
        return Z @ np.ones((3, 3))  # (10, 7) @ (3, 3): fails here

    def my_relu(Z):
        return np.maximum(helper(Z), 0)

    _, out = verdict(check.relu, my_relu, capsys)
    assert "ValueError" in out and "line" in out and "return Z @ np.ones((3, 3))" in out, out


def test_passing_something_else_than_a_function(capsys):
    result, out = verdict(check.relu, np.maximum(np.zeros(3), 0), capsys)
    assert result is check.relu.fallback and "pass your function itself, check.relu(my_relu)" in out


def test_checkers_know_their_lesson():
    lessons = {name: getattr(check, name).lesson for name in check.__all__ if name != "progress"}
    assert lessons == {"one_hot": 0, "relu": 1, "softmax": 1, "forward": 1, "cross_entropy": 2, "backward": 3,
                       "numerical_gradient": 3, "sgd_step": 4, "sgd_epoch": 4, "he_init": 5, "glorot_init": 5,
                       "cosine_schedule": 6, "step_schedule": 6, "momentum_step": 7, "adam_step": 7,
                       "place_in_field": 8,
                       "linear_module": 9, "sequential_backward": 9,
                       "l2_grads": 10, "dropout_forward": 10, "dropout_backward": 10}


# ----------------------------------------------------------------------------- progress


# ----------------------------------------------------------------------------- forward (lesson 01)


def forward_with(*, b1=True, b2=True, act=lambda Z: np.maximum(Z, 0), out=None, W1T=False, W2T=False):
    """The forward pass X -> A2 with switches for the classic mistakes (the defaults are right)."""
    def forward(X, W1, b1_, W2, b2_):
        Z1 = (W1.T if W1T else W1) @ X + (b1_ if b1 else 0)  # (10, 784) @ (784, m) + (10, 1) -> (10, m)
        A1 = act(Z1)  # (10, m)
        Z2 = (W2.T if W2T else W2) @ A1 + (b2_ if b2 else 0)  # (10, 10) @ (10, m) + (10, 1) -> (10, m)
        return (out or softmax_right)(Z2)
    return forward


def test_forward_right(capsys):
    assert_passes(check.forward, forward_with(), capsys)

    def by_rows(X, W1, b1, W2, b2):  # the row layout, transposed back: also right
        A1 = np.maximum(X.T @ W1.T + b1.T, 0)  # (m, 784) @ (784, 10) + (1, 10) -> (m, 10)
        return softmax_right((A1 @ W2.T + b2.T).T)  # (m, 10) @ (10, 10) -> (m, 10), transposed: (10, m)

    assert_passes(check.forward, by_rows, capsys)


def forward_in_place(X, W1, b1, W2, b2):
    Z1 = W1 @ X
    Z1 += b1
    b1 += 0  # harmless
    W2 *= 1.0001  # changes the caller's weights
    return softmax_right(W2 @ np.maximum(Z1, 0) + b2)


@pytest.mark.parametrize("fn, phrase", [
    (forward_with(b1=False), "you left out the bias b1"),
    (forward_with(b2=False), "you left out the bias b2"),
    (forward_with(b1=False, b2=False), "you left out both biases"),
    (forward_with(act=lambda Z: Z), "you left out the ReLU"),
    (forward_with(out=lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)), "your softmax runs over axis=1"),
    (forward_with(out=lambda Z: Z), "you returned the logits Z2"),
    (forward_with(W2T=True), "you used W2.T where W2 belongs"),
    (forward_with(W1T=True), "raised ValueError: matmul"),
    (forward_with(out=lambda Z: softmax_right(np.maximum(Z, 0))), "you applied the ReLU to the output too"),
    (forward_with(out=lambda Z: np.exp(Z) / np.exp(Z).sum()), "the columns of your A2 sum to"),
    (lambda X, W1, b1, W2, b2: softmax_right(W2 @ np.maximum(W1 @ X + b1, 0) + b2).T, "one example per row"),
    (lambda X, W1, b1, W2, b2: np.exp(W2 @ np.maximum(W1 @ X + b1, 0) + b2) * np.inf, "nan/inf"),
    (forward_in_place, "your forward changed its input W2 in place"),
    (lambda X, W1, b1, W2, b2: None, "forget the `return`"),
])
def test_forward_mistakes(fn, phrase, capsys):
    assert_hint(check.forward, fn, phrase, capsys)


def test_forward_W1_transposed_hint_names_the_shapes(capsys):
    assert_hint(check.forward, forward_with(W1T=True), "W1 @ X is (10, 784) @ (784, m)", capsys)


# ----------------------------------------------------------------------------- backward: intermediates (lesson 03)


def backward_with_intermediates(dZ2_scale=1.0, untransposed=False, no_mask=False):
    """A backward pass that also returns dZ2, dA1 and dZ1, with switches for three mistakes."""
    def backward(params, cache, Y):
        m = Y.shape[1]
        dZ2 = dZ2_scale * (cache["A2"] - Y) / m  # (10, m)
        W2 = params["W2"]
        dA1 = (W2 if untransposed else W2.T) @ dZ2  # (10, 10) @ (10, m) -> (10, m)
        dZ1 = dA1 if no_mask else dA1 * (cache["Z1"] > 0)  # (10, m)
        return {"dZ2": dZ2, "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True), "dA1": dA1,
                "dZ1": dZ1, "dW1": dZ1 @ cache["A0"].T, "db1": dZ1.sum(axis=1, keepdims=True)}
    return backward


def test_backward_with_intermediates_right(capsys):
    result, out = verdict(check.backward, backward_with_intermediates(), capsys)
    assert result is not check.backward.fallback and out.startswith("✓ backward: all 10 checks passed\n"), out


@pytest.mark.parametrize("fn, first", [
    (backward_with_intermediates(dZ2_scale=8.0), "dZ2 is m times too large: did you forget the 1/m"),
    (backward_with_intermediates(untransposed=True), "dA1 is W2 @ dZ2: the way back goes through the transpose"),
    (backward_with_intermediates(no_mask=True), "dZ1 is wrong: did you forget the ReLU mask (Z1 > 0)?"),
])
def test_backward_names_the_first_wrong_intermediate(fn, first, capsys):
    assert_hint(check.backward, fn, f"✗ backward: {first}", capsys)


def test_backward_db_summed_over_the_wrong_axis(capsys):
    def fn(params, cache, Y):
        grads = make_backward()(params, cache, Y)
        grads["db2"] = ((cache["A2"] - Y) / Y.shape[1]).sum(axis=0, keepdims=True)  # (1, m)
        return grads

    assert_hint(check.backward, fn, "✗ backward: db2 has shape (1, m): you summed over axis=0 (the units)", capsys)


# ----------------------------------------------------------------------------- numerical_gradient (lesson 03)


def numgrad(kind="centred"):
    """A numerical gradient with one mistake switched on by name ("centred" is right)."""
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x, dtype=np.float64)
        if kind == "all at once":
            x += h
            f_plus = f()
            x -= 2 * h
            f_minus = f()
            x += h
            return np.full(x.shape, (f_plus - f_minus) / (2 * h))
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            f_plus = f()
            x[i] = old - h
            f_minus = f()
            x[i] = old
            if kind == "forward":
                x[i] = old
                f_minus = f()
                grad[i] = (f_plus - f_minus) / h
            elif kind == "h":
                grad[i] = (f_plus - f_minus) / h
            elif kind == "/ 2 * h":
                grad[i] = (f_plus - f_minus) / 2 * h
            elif kind == "no restore":
                x[i] = old - h
                grad[i] = (f_plus - f_minus) / (2 * h)
            else:
                grad[i] = (f_plus - f_minus) / (2 * h)
        return grad
    return numerical_gradient


def numgrad_rebinds(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        x_plus, x_minus = x + e, x - e  # new arrays: f never sees them  # noqa: F841 (the mistake under test)
        grad[i] = (f() - f()) / (2 * h)
    return grad


def numgrad_flat_index(f, x, h=1e-5):  # fine for a vector, IndexError for a matrix
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numgrad_fixed_h(f, x, h=1e-5):
    return numgrad()(f, x)  # ignores the h it was given


def test_numerical_gradient_right(capsys):
    assert_passes(check.numerical_gradient, numgrad(), capsys)

    def with_flat_view(f, x, h=1e-5):  # x.flat and a flat gradient reshaped: also right
        grad = np.zeros(x.size)
        for k in range(x.size):
            old = x.flat[k]
            x.flat[k] = old + h
            f_plus = f()
            x.flat[k] = old - h
            grad[k] = (f_plus - f()) / (2 * h)
            x.flat[k] = old
        return grad.reshape(x.shape)

    assert_passes(check.numerical_gradient, with_flat_view, capsys)


@pytest.mark.parametrize("fn, phrase", [
    (numgrad("forward"), "you used the forward difference (f(x + h) - f(x)) / h, whose error is O(h)"),
    (numgrad("h"), "your gradient is twice too large: divide by 2h"),
    (numgrad("/ 2 * h"), "h^2 times too small: / 2 * h divides by 2 and then multiplies by h"),
    (numgrad("no restore"), "your function left x changed (largest change 0.1): put every entry back"),
    (numgrad("all at once"), "you nudged all of x at once (x + h). Nudge one entry at a time"),
    (numgrad_rebinds, "your gradient is all zeros: f() reads the array x itself, so nudge x in place"),
    (numgrad_flat_index, "raised IndexError"),
    (numgrad_fixed_h, "you ignore the h argument (h = 0.1 here)"),
    (lambda f, x, h=1e-5: numgrad()(f, x, h).ravel(), "flattened: it must have x's shape (3, 4)"),
    (lambda f, x, h=1e-5: -numgrad()(f, x, h), "the wrong sign"),
    (lambda f, x, h=1e-5: f(x), "f takes no arguments: it reads x, so call f()"),
])
def test_numerical_gradient_mistakes(fn, phrase, capsys):
    assert_hint(check.numerical_gradient, fn, phrase, capsys)


def test_numerical_gradient_index_error_hint(capsys):
    assert_hint(check.numerical_gradient, numgrad_flat_index, "loop over np.ndindex(x.shape)", capsys)


def test_strict_mode_fails_a_lessons_own_stub_but_not_a_demonstration(monkeypatch, capsys):
    """MATHNN_CHECK_STRICT (set by make test for the complete lessons): the lesson's own relu must pass."""
    def relu(Z):
        return np.max(Z, 0)

    def relu_with_np_max(Z):  # a lesson's deliberately wrong example: a name of its own
        return np.max(Z, 0)

    assert check.relu(relu) is check.relu.fallback  # without the variable: the lesson goes on
    monkeypatch.setenv("MATHNN_CHECK_STRICT", "1")
    with pytest.raises(AssertionError, match="check.relu: relu did not pass"):
        check.relu(relu)
    assert check.relu(relu_with_np_max) is check.relu.fallback
    assert check.relu(np.abs) is check.relu.fallback

    def unwritten(Z):
        raise NotImplementedError

    unwritten.__name__ = "relu"
    with pytest.raises(AssertionError):
        check.relu(unwritten)
