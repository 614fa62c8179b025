"""Optimizers update the parameter arrays in place, following eq. 12-14; lr schedules."""

import math
import re

import numpy as np
import pytest

import mathnn as mn


def make(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((3, 4)).astype(dtype), "b1": rng.standard_normal((3, 1)).astype(dtype)}
    return params, rng


def grads_like(params, rng):
    return {"d" + key: rng.standard_normal(p.shape).astype(p.dtype) for key, p in params.items()}


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_step_updates_the_same_arrays_in_place(name):
    params, rng = make()
    arrays = dict(params)  # the same objects
    before = {key: p.copy() for key, p in params.items()}
    opt = mn.optim.make_optimizer(name, params, lr=0.1)
    opt.step(grads_like(params, rng))
    for key in params:
        assert params[key] is arrays[key], "the optimizer replaced the array instead of updating it"
        assert not np.allclose(params[key], before[key]), "the array did not change"
    assert set(params) == set(before)


def test_make_optimizer_types_and_unknown_name():
    params, _ = make()
    assert isinstance(mn.optim.make_optimizer("sgd", params, 0.1), mn.SGD)
    assert isinstance(mn.optim.make_optimizer("momentum", params, 0.1), mn.Momentum)
    assert isinstance(mn.optim.make_optimizer("adam", params, 0.1), mn.Adam)
    assert mn.optim.make_optimizer("adam", params, 0.003).lr == 0.003
    with pytest.raises(ValueError, match="'rmsprop'"):
        mn.optim.make_optimizer("rmsprop", params, 0.1)


def test_sgd_step_formula():
    params, rng = make()
    p0 = {key: p.copy() for key, p in params.items()}
    g = grads_like(params, rng)
    mn.SGD(params, lr=0.05).step(g)
    for key in params:  # eq. 12
        np.testing.assert_allclose(params[key], p0[key] - 0.05 * g["d" + key], rtol=1e-14)


def test_momentum_two_steps_formula():
    params, rng = make()
    p0 = {key: p.copy() for key, p in params.items()}
    g1, g2 = grads_like(params, rng), grads_like(params, rng)
    opt = mn.Momentum(params, lr=0.1, beta=0.8)
    opt.step(g1)
    opt.step(g2)
    for key in params:  # eq. 13: v1 = g1, v2 = 0.8 g1 + g2
        v1 = g1["d" + key]
        v2 = 0.8 * v1 + g2["d" + key]
        np.testing.assert_allclose(params[key], p0[key] - 0.1 * v1 - 0.1 * v2, rtol=1e-13)


def adam_reference(p, grads, lr, beta1, beta2, eps):
    """Adam as in Kingma and Ba's Algorithm 1, one step at a time, plain float64 arithmetic."""
    p = p.astype(np.float64).copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("scale", [1.0, 1e-3])
def test_adam_matches_reference_formula(scale):
    params, rng = make()
    p0 = {key: p.copy() for key, p in params.items()}
    steps = [{key: scale * g for key, g in grads_like(params, rng).items()} for _ in range(3)]
    opt = mn.Adam(params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step(steps[0])
    for key in params:  # first step
        expected = adam_reference(p0[key], [steps[0]["d" + key]], 0.01, 0.9, 0.999, 1e-8)
        np.testing.assert_allclose(params[key], expected, rtol=1e-12)
    opt.step(steps[1])
    opt.step(steps[2])
    assert opt.t == 3
    for key in params:
        expected = adam_reference(p0[key], [s["d" + key] for s in steps], 0.01, 0.9, 0.999, 1e-8)
        np.testing.assert_allclose(params[key], expected, rtol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_adam_first_step_moves_every_entry_by_about_lr(scale):
    """Bias correction: the first step is ~lr * sign(g) (eps aside), whatever the scale of g."""
    params, rng = make()
    p0 = {key: p.copy() for key, p in params.items()}
    g = {key: scale * v for key, v in grads_like(params, rng).items()}
    mn.Adam(params, lr=0.01).step(g)
    for key in params:
        np.testing.assert_allclose(params[key] - p0[key], -0.01 * np.sign(g["d" + key]), rtol=1e-3)


def test_adam_adds_eps_to_the_bias_corrected_root():
    """Algorithm 1: eps is added to sqrt(v_hat), not to sqrt(v). For a first gradient g = eps everywhere,
    m_hat = g and sqrt(v_hat) = |g|, so the step is lr * g / (g + eps) = lr / 2 exactly. (Adding eps to
    sqrt(v) = sqrt(1 - beta2) |g| made it lr * g / (g + eps / sqrt(1 - beta2)) = lr / 32.6.)"""
    params, _ = make()
    p0 = {key: p.copy() for key, p in params.items()}
    mn.Adam(params, lr=0.01, eps=1e-8).step({"d" + key: np.full_like(p, 1e-8) for key, p in params.items()})
    for key in params:
        np.testing.assert_allclose(p0[key] - params[key], 0.01 / 2, rtol=1e-12)


def mnist_like(rng, m=64):
    """X (784, m) like MNIST: a blank border (always exactly 0), some faint pixels (~1e-3), ink in [0, 1]."""
    X = rng.random((28, 28, m))
    X[:4], X[-4:], X[:, :4], X[:, -4:] = 0, 0, 0, 0
    X[4:6] *= 1e-3
    return X.reshape(784, m), rng.integers(0, 10, m)


def test_adam_matches_torch_adam_after_20_steps_on_mnist_like_gradients():
    """Same gradients in, same parameters out (float64): the gradients of the 784-10-10 network's loss
    along mathnn's own trajectory, zero for the blank border and tiny for faint pixels (where eps matters)."""
    torch = pytest.importorskip("torch")  # an optional dependency (pyproject's "torch" extra), installed in CI
    rng = np.random.default_rng(0)
    params = mn.init_params((784, 10, 10), "he", rng, dtype=np.float64)
    X, y = mnist_like(rng)
    Y = mn.one_hot(y).astype(np.float64)
    tensors = {key: torch.tensor(p.copy(), requires_grad=True) for key, p in params.items()}
    ours = mn.Adam(params, lr=0.003)
    theirs = torch.optim.Adam(tensors.values(), lr=0.003, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(20):
        _, grads = mn.loss_and_grads(params, X, Y)
        ours.step(grads)
        for key, tensor in tensors.items():
            tensor.grad = torch.from_numpy(grads["d" + key].copy())
        theirs.step()
    tiny = np.abs(grads["dW1"][grads["dW1"] != 0]).min()
    assert tiny < 1e-6, "test data: some gradients should be tiny, where the placement of eps matters"
    for key, p in params.items():
        np.testing.assert_allclose(p, tensors[key].detach().numpy(), rtol=1e-12, atol=1e-15, err_msg=key)


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf"), "0.1", True])  # None: the default
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_optimizers_refuse_a_bad_learning_rate(name, lr):
    params, _ = make()
    message = rf"lr must be a finite number >= 0 \(e\.g\. 0\.1\), got {re.escape(repr(lr))}"
    with pytest.raises(ValueError, match=message):
        mn.optim.make_optimizer(name, params, lr)


@pytest.mark.parametrize(("make_opt", "words"), [
    (lambda p: mn.Momentum(p, beta=1.0), "beta must be in [0, 1) (e.g. 0.9), got 1.0"),
    (lambda p: mn.Momentum(p, beta=-0.5), "beta must be in [0, 1)"),
    (lambda p: mn.Adam(p, beta1=0.9, beta2=1.5), "beta2 must be in [0, 1)"),
    (lambda p: mn.Adam(p, beta1=float("nan")), "beta1 must be in [0, 1) (e.g. 0.9), got nan"),
    (lambda p: mn.Adam(p, beta1=(0.9, 0.999)), "beta1 must be in [0, 1)"),  # torch's betas=(...) here by mistake
    (lambda p: mn.Adam(p, eps=0.0), "eps must be a small positive number"),
])
def test_optimizers_refuse_bad_betas_and_eps(make_opt, words):
    params, _ = make()
    with pytest.raises(ValueError) as info:
        make_opt(params)
    assert words in str(info.value)


def test_optimizers_work_in_float32():
    params, rng = make(dtype=np.float32)
    for name in ("sgd", "momentum", "adam"):
        opt = mn.optim.make_optimizer(name, params, 0.01)
        opt.step(grads_like(params, rng))
        assert all(p.dtype == np.float32 for p in params.values())


def test_step_schedule():
    schedule = mn.step_schedule(0.4, drop=0.5, every=2)
    assert [schedule(e) for e in range(6)] == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1, 0.1])
    assert mn.step_schedule(1.0)(4) == pytest.approx(0.25)  # defaults: halve every 2 epochs


def test_cosine_schedule():
    schedule = mn.cosine_schedule(0.2, num_epochs=10)
    lrs = [schedule(e) for e in range(10)]
    assert lrs[0] == pytest.approx(0.2)
    assert schedule(5) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="epoch 10 is past the end of this schedule of 10 epochs"):
        schedule(10)  # lr 0 there, and it would climb back up after
    assert all(a > b for a, b in zip(lrs, lrs[1:]))  # strictly decreasing
    assert all(lr > 0 for lr in lrs)  # never 0 during training
    assert schedule(2.5) == pytest.approx(0.2 * (1 + math.cos(math.pi / 4)) / 2)


@pytest.mark.parametrize(("make_schedule", "words"), [
    (lambda: mn.cosine_schedule(0.1, num_epochs=0), "num_epochs must be a positive integer, got 0"),
    (lambda: mn.cosine_schedule(0.1, num_epochs=-3), "num_epochs must be a positive integer"),
    (lambda: mn.cosine_schedule(0.1, num_epochs=2.5), "num_epochs must be a positive integer, got 2.5"),
    (lambda: mn.cosine_schedule(-0.1, num_epochs=5), "lr must be a finite number >= 0"),
    (lambda: mn.cosine_schedule(float("nan"), num_epochs=5), "lr must be a finite number >= 0"),
    (lambda: mn.step_schedule(-1.0), "lr must be a finite number >= 0"),
    (lambda: mn.step_schedule(0.1, drop=0.0), "drop must be in (0, 1]"),
    (lambda: mn.step_schedule(0.1, drop=2.0), "drop must be in (0, 1]"),
    (lambda: mn.step_schedule(0.1, every=0), "every must be a positive integer, got 0"),
])
def test_schedules_refuse_nonsense(make_schedule, words):
    with pytest.raises(ValueError) as info:
        make_schedule()  # at once, not at the first epoch
    assert words in str(info.value)
