"""The checks of lesson 07's debugging lab (mathnn.debugging, and compare_gradients/validate_grads of mathnn.gradcheck)
catch their bugs and pass correct code."""

import numpy as np
import pytest

import mathnn as mn
import mathnn.debugging
from mathnn.debugging import StaleUpdateError, relative_update


def small_problem(seed=0):
    """A float64 network of the course's form (30 inputs, 10 hidden, 10 classes) and a batch of 16."""
    rng = np.random.default_rng(seed)
    params = mn.init_params((30, 10, 10), "he", rng, dtype=np.float64)
    params["b1"] = 0.1 * rng.standard_normal((10, 1))
    params["b2"] = 0.1 * rng.standard_normal((10, 1))
    X = rng.random((30, 16))
    Y = mn.one_hot(rng.integers(0, 10, 16), dtype=np.float64)
    return params, X, Y


def test_check_update_passes_an_in_place_step():
    params, X, Y = small_problem()
    opt = mn.SGD(params, lr=0.1)
    change = relative_update(lambda: opt.step(mn.loss_and_grads(params, X, Y)[1]), params)
    assert set(change) == set(params) and all(0 < c <= 1 for c in change.values())


def test_check_update_catches_stale_gradient_buffers():
    params, X, Y = small_problem()
    buffers = {"d" + key: np.zeros_like(p) for key, p in params.items()}  # handed to the optimizer once
    opt = mn.SGD(params, lr=0.1)
    held = dict(buffers)

    def step_rebinding():
        _, grads = mn.loss_and_grads(params, X, Y)
        buffers.update(grads)  # BUG: new arrays; the optimizer still reads the old, all-zero ones
        opt.step(held)

    with pytest.raises(StaleUpdateError, match="params did not change after a step: is the optimizer holding stale"):
        relative_update(step_rebinding, params)

    def step_filling():
        _, grads = mn.loss_and_grads(params, X, Y)
        for key, g in grads.items():
            held[key][...] = g  # the fix: write into the buffers
        opt.step(held)

    relative_update(step_filling, params)


def test_check_update_catches_a_rebinding_update_and_names_partial_staleness():
    params, X, Y = small_problem()

    def step_rebinding_params():
        _, grads = mn.loss_and_grads(params, X, Y)
        for key, p in params.items():
            p = p - 0.1 * grads["d" + key]  # noqa: F841  BUG: a new array, params untouched

    with pytest.raises(StaleUpdateError, match="the update itself never writes into these arrays"):
        relative_update(step_rebinding_params, params)

    def step_forgetting_biases():
        _, grads = mn.loss_and_grads(params, X, Y)
        params["W1"] -= 0.1 * grads["dW1"]
        params["W2"] -= 0.1 * grads["dW2"]

    with pytest.raises(StaleUpdateError, match="^b1, b2 did not change"):
        relative_update(step_forgetting_biases, params)


def test_check_grads_raises_shape_error_with_the_transpose_hint():
    params, X, Y = small_problem()
    _, grads = mn.loss_and_grads(params, X, Y)
    mn.validate_grads(params, grads)
    with pytest.raises(mn.ShapeError, match=r"grads\['dW1'\]' has shape \(30, 10\), expected \(10, 30\).*transposed"):
        mn.validate_grads(params, {**grads, "dW1": grads["dW1"].T})
    with pytest.raises(mn.ShapeError, match=r"has shape \(10,\), expected \(10, 1\)"):
        mn.validate_grads(params, {**grads, "db1": grads["db1"].ravel()})
    with pytest.raises(mn.ShapeError, match="no key 'db2'"):
        mn.validate_grads(params, {key: g for key, g in grads.items() if key != "db2"})


def test_grad_check_of_my_backward_passes_backprop_and_catches_a_missing_mask():
    params, X, Y = small_problem()
    rows = mn.compare_gradients(params, X, Y, backward_fn=mn.backward)
    assert [name for name, _, _ in rows] == ["W1", "b1", "W2", "b2"]
    assert max(err for _, _, err in rows) < 1e-7

    def no_mask(params, cache, Y):
        m = Y.shape[1]
        dZ2 = (cache["A2"] - Y) / m  # (10, m)
        dZ1 = params["W2"].T @ dZ2  # BUG: no ReLU mask
        return {"dW1": dZ1 @ cache["A0"].T, "db1": dZ1.sum(axis=1, keepdims=True),
                "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}

    errors = {name: err for name, _, err in mn.compare_gradients(params, X, Y, backward_fn=no_mask)}
    assert errors["W1"] > 0.1 and errors["b1"] > 0.1
    assert errors["W2"] < 1e-7 and errors["b2"] < 1e-7

    def transposed(params, cache, Y):
        grads = mn.backward(params, cache, Y)
        return {**grads, "dW1": grads["dW1"].T}

    with pytest.raises(mn.ShapeError, match=r"compare_gradients\(\): argument 'grads\['dW1'\]' has shape \(30, 10\)"):
        # a shape bug is named before any difference is taken
        mn.compare_gradients(params, X, Y, backward_fn=transposed)


# ---------------------------------------------------------------------------------------------
# diagnose: causes before symptoms, the learning rate last
# ---------------------------------------------------------------------------------------------

SMALL = {"train_size": 6000}  # 47 steps of 128 per epoch


def test_diagnose_names_a_symmetric_init_not_the_learning_rate(mnist):
    X_val = mn.load_mnist_splits().X_val
    params, history = mn.train_mnist(0.1, "zeros", 1, 128, 0, **SMALL)
    assert history.val_acc[-1] < 0.2, "zeros: every hidden unit stays the same, the network guesses"
    findings = mn.diagnose(params, X_val, history)
    assert findings[0].startswith("10/10 hidden units are identical (equal rows of W1 and b1): a symmetric init")
    assert not any("learning rate" in finding for finding in findings), findings
    assert findings == mn.diagnose(params, X_val), "the history adds nothing here"


def test_diagnose_finds_dead_units_after_a_too_large_lr(mnist):
    X_val = mn.load_mnist_splits().X_val
    params, history = mn.train_mnist(3, "he", 1, 128, 0)  # the steps kill every hidden unit (lesson 06)
    findings = mn.diagnose(params, X_val, history)
    dead = [finding for finding in findings if "hidden units dead" in finding]
    assert len(dead) == 1 and dead[0].startswith("10/10 hidden units dead: their ReLU outputs 0 on all 5000")
    assert not any("identical" in finding for finding in findings)
    assert findings.index(dead[0]) < len(findings) - 1 and "learning rate may be too large" in findings[-1]
    _, cache = mn.forward(params, X_val)
    np.testing.assert_array_equal(mn.debugging.dead_units(params, X_val)[0], cache["A1"].max(axis=1) <= 0)


def test_diagnose_finds_nothing_alarming_in_a_healthy_run(mnist):
    X_val = mn.load_mnist_splits().X_val
    params, history = mn.train_mnist(0.1, "he", 1, 128, 0, **SMALL)
    assert history.val_acc[-1] > 0.5
    assert mn.diagnose(params, X_val, history) == []
    assert mn.diagnose(params, X_val) == []


def test_diagnose_says_the_learning_rate_may_be_too_small_only_when_nothing_else_explains_it(mnist):
    X_val = mn.load_mnist_splits().X_val
    params, history = mn.train_mnist(0.001, "he", 3, 128, 0, **SMALL)
    findings = mn.diagnose(params, X_val, history)
    assert len(findings) == 1 and findings[0].startswith("the learning rate may be too small: the training loss "
                                                         "fell only from 2.")
    assert mn.diagnose(params, X_val) == [], "without a history, nothing is said about the learning rate"


def test_diagnose_nan_first_and_alone():
    params, X, _ = small_problem()
    params["W2"][0, 0] = np.nan
    params["W1"][:] = 0.0  # identical and dead too, but a NaN makes every output NaN: that comes first, alone
    assert mn.diagnose(params, X) == ["W2 holds 1 NaN/inf entries: every output computed from it is NaN "
                                      "(the training blew up)"]
    params, X, _ = small_problem()
    X[0, :2] = np.inf
    assert mn.diagnose(params, X) == ["X holds 2 NaN/inf entries: every output computed from it is NaN "
                                      "(fix the inputs)"]


def test_diagnose_counts_identical_and_dead_units_per_layer():
    rng = np.random.default_rng(0)
    params = mn.init_params((30, 8, 6, 4), "he", rng, dtype=np.float64)
    X = rng.random((30, 50))
    params["b1"][:], params["b2"][:] = 1.0, 10.0  # every unit fires on every example
    params["W1"][5] = params["W1"][2]  # units 2 and 5 of layer 1 compute the same thing
    params["b2"][[0, 3]] = -100.0  # units 0 and 3 of layer 2 never fire
    assert mn.diagnose(params, X) == [
        "2/8 hidden units of layer 1 are identical (equal rows of W1 and b1): a symmetric init such as zeros gives "
        "every unit the same output and the same gradient, so they never become different; use a random init such "
        "as he",
        "2/6 hidden units of layer 2 dead: their ReLU outputs 0 on all 50 examples, so they pass nothing on and get "
        "no gradient",
    ]
    params["b1"][5] += 0.5  # a different bias: no longer the same unit
    assert not any("identical" in finding for finding in mn.diagnose(params, X))
