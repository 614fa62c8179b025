"""L2 weight decay and inverted dropout (mathnn/regularization.py), and LiveCurve's training accuracy."""

import numpy as np
import pytest

import mathnn as mn


def small_problem(seed=0):
    """A float64 20-8-6-5 network with nonzero biases, X (20, 7) and one-hot Y (5, 7)."""
    rng = np.random.default_rng(seed)
    params = mn.init_params((20, 8, 6, 5), "he", rng, dtype=np.float64)
    for key in ("b1", "b2", "b3"):
        params[key] = 0.1 * rng.standard_normal(params[key].shape)
    X = rng.random((20, 7))
    Y = mn.one_hot(rng.integers(0, 5, 7), 5).astype(np.float64)
    return params, X, Y


def test_l2_penalty_is_half_lambda_times_the_squared_weights_without_the_biases():
    params, _, _ = small_problem()
    squares = sum(np.sum(params[f"W{l}"] ** 2) for l in (1, 2, 3))
    assert mn.l2_penalty(params, 0.3) == pytest.approx(0.15 * squares, rel=1e-12)
    params["b1"] += 100.0  # biases are not decayed
    assert mn.l2_penalty(params, 0.3) == pytest.approx(0.15 * squares, rel=1e-12)
    assert mn.l2_penalty(params, 0.0) == 0.0


def test_l2_grads_are_the_gradients_of_loss_plus_penalty():
    """Centred differences of L + (weight_decay/2) sum ||W||^2 (eq. 10) against l2_grads of backward's gradients."""
    params, X, Y = small_problem()
    weight_decay = 0.05
    _, cache = mn.forward(params, X)
    grads = mn.backward(params, cache, Y)
    before = {key: g.copy() for key, g in grads.items()}
    reg = mn.l2_grads(params, grads, weight_decay)
    assert reg.keys() == grads.keys()
    for key, p in params.items():
        numerical = mn.numerical_gradient(lambda: mn.loss(params, X, Y) + mn.l2_penalty(params, weight_decay), p)
        assert mn.rel_error(reg["d" + key], numerical) < 1e-7, key
        np.testing.assert_array_equal(grads["d" + key], before["d" + key])  # grads left as they were
    np.testing.assert_array_equal(reg["db2"], grads["db2"])
    assert mn.rel_error(reg["dW2"], grads["dW2"]) > 1e-3  # and the weights' gradients did change


def test_dropout_forward_keeps_a_share_keep_and_scales_by_one_over_keep():
    A = np.random.default_rng(0).uniform(0.5, 1.5, (300, 400)).astype(np.float32)
    A_copy = A.copy()
    A_drop, M = mn.dropout_forward(A, 0.8, np.random.default_rng(1))
    assert A_drop.shape == M.shape == A.shape and A_drop.dtype == M.dtype == np.float32
    np.testing.assert_array_equal(A, A_copy)  # A itself is left alone
    kept = M != 0
    assert abs(kept.mean() - 0.8) < 0.005  # 120,000 draws: the standard error is 0.0012
    np.testing.assert_allclose(M[kept], 1 / 0.8, rtol=1e-6)
    np.testing.assert_array_equal(A_drop, A * M)
    assert abs(A_drop.mean() / A.mean() - 1) < 0.01  # inverted dropout keeps the expected value
    again, M_again = mn.dropout_forward(A, 0.8, np.random.default_rng(1))
    np.testing.assert_array_equal(M_again, M)  # the rng decides
    assert not np.array_equal(mn.dropout_forward(A, 0.8, np.random.default_rng(2))[1], M)


def test_dropout_with_keep_1_changes_nothing_and_bad_keep_is_refused():
    A = np.random.default_rng(0).standard_normal((4, 5))
    A_drop, M = mn.dropout_forward(A, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(A_drop, A)
    np.testing.assert_array_equal(M, np.ones_like(A))
    for keep in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=r"keep is the probability of keeping a unit, in \(0, 1\]"):
            mn.dropout_forward(A, keep, np.random.default_rng(0))


def test_dropout_backward_is_the_gradient_through_a_fixed_mask():
    """f(A) = sum(C * dropout(A)) with the mask fixed: df/dA = dropout_backward(C, M), by centred differences."""
    rng = np.random.default_rng(3)
    A, C = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    _, M = mn.dropout_forward(A, 0.6, rng)
    numerical = mn.numerical_gradient(lambda: float(np.sum(C * (A * M))), A)
    assert mn.rel_error(mn.dropout_backward(C, M), numerical) < 1e-8
    assert mn.rel_error(C, numerical) > 0.1  # without the mask it would be wrong


def test_live_curve_shows_training_accuracy_beside_validation_when_asked(mnist):
    X, y = mnist["train"]
    X_val, y_val = mnist["test"]
    h = mn.fit(mn.init_params((784, 10, 10), "he", np.random.default_rng(0)), X[:, :500], y[:500],
               X_val=X_val[:, :200], y_val=y_val[:200], rng=np.random.default_rng(0), num_epochs=2, train_acc=True)
    curve = mn.LiveCurve(display=False, train_acc=True)
    curve.update(h, label="run")
    lines = {line.get_label(): list(line.get_ydata()) for line in curve.ax_acc.lines}
    assert lines == {"run validation": h.val_acc, "run train": h.train_acc}
    assert curve.ax_acc.get_title() == "train and validation accuracy"
    plain = mn.LiveCurve(display=False)  # the default: validation accuracy only, as in lessons 04-07
    plain.update(h, label="run")
    assert [line.get_label() for line in plain.ax_acc.lines] == ["run validation"]
    assert plain.ax_acc.get_title() == "validation accuracy"
    h.train_acc.clear()  # a run trained without fit(..., train_acc=True)
    with pytest.raises(ValueError, match=r"has none: train with mn\.fit\(\.\.\., train_acc=True\)"):
        curve.update(h, label="run")
