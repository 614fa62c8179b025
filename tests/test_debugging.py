"""mathnn.debugging: the checks of lesson 07's debugging lab catch their bugs and pass correct code."""

import numpy as np
import pytest

import mathnn as mn
from mathnn.debugging import StaleUpdateError, check_grads, check_update, gradient_errors


def small_problem(seed=0):
    """A float64 network of the course's form (30 inputs, 10 hidden, 10 classes) and a batch of 16."""
    rng = np.random.default_rng(seed)
    params = mn.init_params((30, 10, 10), "he", rng, dtype=np.float64)
    params["b1"] = 0.1 * rng.standard_normal((10, 1))
    params["b2"] = 0.1 * rng.standard_normal((10, 1))
    X = rng.random((30, 16))
    Y = mn.one_hot(rng.integers(0, 10, 16)).astype(np.float64)
    return params, X, Y


def test_check_update_passes_an_in_place_step():
    params, X, Y = small_problem()
    opt = mn.SGD(params, lr=0.1)
    change = check_update(lambda: opt.step(mn.loss_and_grads(params, X, Y)[1]), params)
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
        check_update(step_rebinding, params)

    def step_filling():
        _, grads = mn.loss_and_grads(params, X, Y)
        for key, g in grads.items():
            held[key][...] = g  # the fix: write into the buffers
        opt.step(held)

    check_update(step_filling, params)


def test_check_update_catches_a_rebinding_update_and_names_partial_staleness():
    params, X, Y = small_problem()

    def step_rebinding_params():
        _, grads = mn.loss_and_grads(params, X, Y)
        for key, p in params.items():
            p = p - 0.1 * grads["d" + key]  # noqa: F841  BUG: a new array, params untouched

    with pytest.raises(StaleUpdateError, match="p -= lr \\* g"):
        check_update(step_rebinding_params, params)

    def step_forgetting_biases():
        _, grads = mn.loss_and_grads(params, X, Y)
        params["W1"] -= 0.1 * grads["dW1"]
        params["W2"] -= 0.1 * grads["dW2"]

    with pytest.raises(StaleUpdateError, match="^b1, b2 did not change"):
        check_update(step_forgetting_biases, params)


def test_check_grads_raises_shape_error_with_the_transpose_hint():
    params, X, Y = small_problem()
    _, grads = mn.loss_and_grads(params, X, Y)
    check_grads(params, grads)
    with pytest.raises(mn.ShapeError, match=r"grads\['dW1'\]' has shape \(30, 10\), expected \(10, 30\).*transposed"):
        check_grads(params, {**grads, "dW1": grads["dW1"].T})
    with pytest.raises(mn.ShapeError, match=r"has shape \(10,\), expected \(10, 1\)"):
        check_grads(params, {**grads, "db1": grads["db1"].ravel()})
    with pytest.raises(mn.ShapeError, match="no key 'db2'"):
        check_grads(params, {key: g for key, g in grads.items() if key != "db2"})


def test_gradient_errors_passes_backprop_and_catches_a_missing_mask():
    params, X, Y = small_problem()
    rows = gradient_errors(mn.backward, params, X, Y)
    assert [name for name, _, _ in rows] == ["W1", "b1", "W2", "b2"]
    assert max(err for _, _, err in rows) < 1e-7

    def no_mask(params, cache, Y):
        m = Y.shape[1]
        dZ2 = (cache["A2"] - Y) / m  # (10, m)
        dZ1 = params["W2"].T @ dZ2  # BUG: no ReLU mask
        return {"dW1": dZ1 @ cache["A0"].T, "db1": dZ1.sum(axis=1, keepdims=True),
                "dW2": dZ2 @ cache["A1"].T, "db2": dZ2.sum(axis=1, keepdims=True)}

    errors = {name: err for name, _, err in gradient_errors(no_mask, params, X, Y)}
    assert errors["W1"] > 0.1 and errors["b1"] > 0.1
    assert errors["W2"] < 1e-7 and errors["b2"] < 1e-7

    def transposed(params, cache, Y):
        grads = mn.backward(params, cache, Y)
        return {**grads, "dW1": grads["dW1"].T}

    with pytest.raises(mn.ShapeError):
        gradient_errors(transposed, params, X, Y)
