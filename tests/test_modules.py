"""mathnn.modules: the module network is mn.forward/mn.backward, optimizers update it in place, bad use is refused."""

import itertools

import numpy as np
import pytest

import mathnn as mn


def network(seed, dtype=np.float64):
    """The 784-10-10 network as modules, drawn from np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    return mn.Sequential(mn.Linear(784, 10, rng, dtype=dtype), mn.ReLU(), mn.Linear(10, 10, rng, dtype=dtype))


def batch(seed, m=32):
    rng = np.random.default_rng(seed)
    return rng.random((784, m)), mn.one_hot(rng.integers(0, 10, m)).astype(np.float64)  # (784, m), (10, m)


def test_linear_draws_what_init_params_draws_and_has_torch_layout():
    for init in mn.INITS:
        layer = mn.Linear(784, 10, np.random.default_rng(3), init=init)
        params = mn.init_params((784, 10), init, np.random.default_rng(3))
        assert layer.W.shape == (10, 784) and layer.b.shape == (10, 1) and layer.W.dtype == np.float32
        np.testing.assert_array_equal(layer.W, params["W1"])
        np.testing.assert_array_equal(layer.b, params["b1"])
    with pytest.raises(ValueError, match="unknown init"):
        mn.Linear(3, 2, np.random.default_rng(0), init="xavier")


def test_sequential_params_are_init_params_and_the_arrays_themselves():
    net = network(0)
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(0), dtype=np.float64)
    got = net.params()
    assert list(got) == ["W1", "b1", "W2", "b2"]
    for key in params:
        np.testing.assert_array_equal(got[key], params[key])
    assert got["W1"] is net.modules[0].W and got["b2"] is net.modules[2].b


def test_forward_and_backward_equal_mn_forward_and_backward():
    net, loss_fn = network(1), mn.SoftmaxCrossEntropy()
    X, Y = batch(1)
    params = {key: p.copy() for key, p in net.params().items()}
    L = loss_fn.forward(net.forward(X), Y)
    dX = net.backward(loss_fn.backward())
    A2, cache = mn.forward(params, X)
    assert L == pytest.approx(mn.loss(params, X, Y), rel=1e-14)
    np.testing.assert_allclose(mn.softmax(net.forward(X)), A2, rtol=1e-13)
    grads = mn.backward(params, cache, Y)
    assert list(net.grads()) == ["dW1", "db1", "dW2", "db2"]
    for key, g in net.grads().items():
        assert mn.rel_error(g, grads[key]) < 1e-13, key
    dZ1 = (params["W2"].T @ ((A2 - Y) / X.shape[1])) * (cache["Z1"] > 0)  # (10, 10) @ (10, m) -> (10, m)
    np.testing.assert_allclose(dX, params["W1"].T @ dZ1, rtol=1e-12, atol=1e-15)  # (784, 10) @ (10, m) -> (784, m)


def test_backward_leaves_the_parameters_alone_and_sets_not_adds():
    net, loss_fn = network(2), mn.SoftmaxCrossEntropy()
    X, Y = batch(2)
    before = {key: p.copy() for key, p in net.params().items()}
    for _ in range(2):
        loss_fn.forward(net.forward(X), Y)
        net.backward(loss_fn.backward())
        grads = {key: g.copy() for key, g in net.grads().items()}
    for key, p in net.params().items():
        np.testing.assert_array_equal(p, before[key])
    _, cache = mn.forward(before, X)
    for key, g in mn.backward(before, cache, Y).items():
        assert mn.rel_error(grads[key], g) < 1e-13, "the second backward gives the same gradient, not twice it"


@pytest.mark.parametrize("make_opt", [lambda p: mn.SGD(p, 0.1), lambda p: mn.Momentum(p, 0.05, 0.9),
                                      lambda p: mn.Adam(p, 0.003)])
def test_an_optimizer_trains_the_modules_as_it_trains_a_params_dict(make_opt):
    net, loss_fn = network(4), mn.SoftmaxCrossEntropy()
    params = {key: p.copy() for key, p in net.params().items()}
    opt_net, opt_dict = make_opt(net.params()), make_opt(params)
    for step in range(5):
        X, Y = batch(10 + step)
        loss_fn.forward(net.forward(X), Y)
        net.backward(loss_fn.backward())
        opt_net.step(net.grads())
        opt_dict.step(mn.loss_and_grads(params, X, Y)[1])
    for key, p in net.params().items():
        assert not np.array_equal(p, network(4).params()[key]), "the optimizer moved the modules' parameters"
        np.testing.assert_allclose(p, params[key], rtol=1e-10, atol=1e-12)


def test_relu_and_loss_modules():
    Z = np.array([[-1.0, 2.0], [0.5, -3.0]])
    relu = mn.ReLU()
    np.testing.assert_array_equal(relu.forward(Z), [[0, 2], [0.5, 0]])
    np.testing.assert_array_equal(relu.backward(np.ones((2, 2))), [[0, 1], [1, 0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss_fn = mn.SoftmaxCrossEntropy()
    assert loss_fn.forward(Z, Y) == pytest.approx(mn.cross_entropy(Z, Y))
    np.testing.assert_allclose(loss_fn.backward(), (mn.softmax(Z) - Y) / 2)
    assert relu.params() == relu.grads() == loss_fn.params() == loss_fn.grads() == {}


@pytest.mark.parametrize("module, call", [
    (mn.Linear(3, 2, np.random.default_rng(0)), lambda m: m.backward(np.ones((2, 1)))),
    (mn.ReLU(), lambda m: m.backward(np.ones((2, 1)))),
    (mn.SoftmaxCrossEntropy(), lambda m: m.backward()),
])
def test_backward_before_forward_is_refused(module, call):
    with pytest.raises(RuntimeError, match=rf"{type(module).__name__}.backward\(\) was called before forward\(\)"):
        call(module)


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="needs at least one module"):
        mn.Sequential()
    net = network(0)
    with pytest.raises(mn.ShapeError, match="A_prev"):
        net.forward(np.zeros((10, 784)))
    net.forward(np.zeros((784, 3)))
    with pytest.raises(mn.ShapeError, match="dZ"):
        net.backward(np.zeros((10, 4)))


def test_the_module_network_trains():
    net, loss_fn = network(0, dtype=np.float32), mn.SoftmaxCrossEntropy()
    rng = np.random.default_rng(0)
    X, y = 0.1 * rng.random((784, 600), dtype=np.float32), rng.integers(0, 10, 600)
    X[y, np.arange(600)] = 1  # (784, 600): pixel y of each image lights up, an easy task
    opt, losses = mn.Adam(net.params(), 0.01), []
    batches = itertools.chain.from_iterable(mn.minibatches(X, mn.one_hot(y), 50, rng) for _ in range(10))
    for X_batch, Y_batch in batches:  # 10 epochs of 12 steps
        losses.append(loss_fn.forward(net.forward(X_batch), Y_batch))
        net.backward(loss_fn.backward())
        opt.step(net.grads())
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:5])
    assert mn.accuracy(net.params(), X, y) > 0.9
