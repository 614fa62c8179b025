"""Layers: forward values, gradients checked against finite differences (float64), and the
numerical stability of softmax / cross-entropy."""

import re
from decimal import Decimal, localcontext

import numpy as np
import pytest

import mathnn as mn

TOL = 1e-7  # relative error of a correct gradient in float64 (eq. 10)


def away_from_zero(rng, shape, low=0.1, high=2.0):
    """Random entries with |z| in [low, high]: no ReLU kink within a finite-difference step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def check(analytic, f, x):
    """rel_error between an analytic gradient and the numerical gradient of f() w.r.t. x (perturbed in place).

    rel_error compares whole arrays by their norms, and the round-off of a centred difference is ~1e-11
    per entry, so an array of entries below ~1e-4 would reach 1e-7 with a correct gradient. The random
    test data are therefore required to have no entry that small (a stricter condition than needed, but
    simple to state; exact zeros, as behind a ReLU, are fine).
    """
    x_before = x.copy()
    numeric = mn.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, x_before)  # numerical_gradient restores x
    assert analytic.shape == x.shape
    nonzero = np.abs(numeric[numeric != 0])
    assert nonzero.size == 0 or nonzero.min() > 1e-3, "test data: pick a seed without near-zero gradient entries"
    return mn.rel_error(analytic, numeric)


# ---------------------------------------------------------------------------------------------
# the gradient-check tools themselves
# ---------------------------------------------------------------------------------------------


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    numeric = mn.numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert mn.rel_error(numeric, 3 * x**2) < TOL


def test_rel_error_is_zero_for_equal_and_large_for_different_arrays():
    a = np.array([1.0, -2.0, 3.0])
    assert mn.rel_error(a, a.copy()) == 0.0
    assert mn.rel_error(a, -a) == pytest.approx(1.0)
    assert mn.rel_error(a, a * (1 + 1e-3)) == pytest.approx(1e-3 / (2 + 1e-3), rel=1e-6)
    assert mn.rel_error(np.zeros(3), np.zeros(3)) == 0.0


@pytest.mark.parametrize(("a_shape", "b_shape"), [((3, 1), (3,)), ((3,), (1, 3)), ((2, 3), (3, 2)), ((), (1,))])
def test_rel_error_refuses_arrays_of_different_shapes(a_shape, b_shape):
    """(3, 1) against (3,) would broadcast to (3, 3) and compare every entry with every other."""
    a, b = np.arange(1.0, 1 + np.prod(a_shape)).reshape(a_shape), np.arange(1.0, 1 + np.prod(b_shape)).reshape(b_shape)
    with pytest.raises(mn.ShapeError, match=rf"a has shape {re.escape(str(a_shape))} but b has shape "
                                            rf"{re.escape(str(b_shape))}.*b\.reshape\(a\.shape\)"):
        mn.rel_error(a, b)


@pytest.mark.parametrize("x", [np.array([1]), np.array([[1, 2]], dtype=np.int32), np.array([True]), [1.0]])
def test_numerical_gradient_refuses_an_array_that_is_not_float(x):
    """In an int array, x[i] = 1 ± 1e-5 is stored as 1 and 0: the gradient of x**2 at 1 came out 50000, not 2."""
    before = np.array(x, copy=True)
    with pytest.raises(TypeError, match=r"x must be a float NumPy array \(float64 for gradient checks\).*"
                                        r"x\.astype\(np\.float64\)"):
        mn.numerical_gradient(lambda: float(np.sum(np.asarray(x) ** 2)), x)
    np.testing.assert_array_equal(x, before)  # refused before touching x
    x64 = np.asarray(x, dtype=np.float64)
    numeric = mn.numerical_gradient(lambda: float(np.sum(x64**2)), x64)  # the fix the message gives
    assert mn.rel_error(numeric, 2 * x64) < TOL


# ---------------------------------------------------------------------------------------------
# forward values
# ---------------------------------------------------------------------------------------------


def test_linear_forward_values_and_cache():
    rng = np.random.default_rng(0)
    W, A, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal((4, 1))
    Z, cache = mn.linear_forward(W, A, b)
    expected = np.einsum("ij,jk->ik", W, A) + b  # (4, 5) @ (5, 3) + (4, 1) -> (4, 3)
    np.testing.assert_allclose(Z, expected, rtol=1e-12)
    assert cache[0] is W and cache[1] is A


def test_linear_forward_float32_matches_float64():
    rng = np.random.default_rng(1)
    W, A, b = rng.standard_normal((10, 784)), rng.random((784, 64)), rng.standard_normal((10, 1))
    Z32, _ = mn.linear_forward(W.astype(np.float32), A.astype(np.float32), b.astype(np.float32))
    assert Z32.dtype == np.float32 and Z32.shape == (10, 64)
    np.testing.assert_allclose(Z32, W @ A + b, rtol=1e-4, atol=1e-4)


def test_relu_forward_values():
    Z = np.array([[-2.0, 0.0, 3.0], [1e-9, -1e-9, 7.5]])
    A, cache = mn.relu_forward(Z)
    np.testing.assert_array_equal(A, [[0.0, 0.0, 3.0], [1e-9, 0.0, 7.5]])
    assert cache is Z
    np.testing.assert_array_equal(Z, [[-2.0, 0.0, 3.0], [1e-9, -1e-9, 7.5]])  # input untouched


def test_softmax_hand_example():
    Z = np.log(np.array([[1.0, 1.0], [2.0, 1.0], [5.0, 2.0]]))  # columns are log of [1, 2, 5] and [1, 1, 2]
    np.testing.assert_allclose(mn.softmax(Z), [[0.125, 0.25], [0.25, 0.25], [0.625, 0.5]], rtol=1e-14)
    A, cache = mn.layers.softmax_forward(Z)
    np.testing.assert_array_equal(A, mn.softmax(Z))
    np.testing.assert_array_equal(cache, A)


@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0, 1e4])
def test_softmax_columns_are_positive_and_sum_to_one(scale):
    Z = scale * np.random.default_rng(2).standard_normal((10, 50))
    A = mn.softmax(Z)
    assert A.shape == Z.shape
    assert np.all(np.isfinite(A)) and np.all(A >= 0)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(A.argmax(axis=0), Z.argmax(axis=0))


def test_log_softmax_equals_log_of_softmax():
    Z = 3 * np.random.default_rng(3).standard_normal((10, 20))
    np.testing.assert_allclose(mn.log_softmax(Z), np.log(mn.softmax(Z)), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# cross-entropy against an independent reference (decimal arithmetic, 40 digits, no shifting)
# ---------------------------------------------------------------------------------------------


def reference_cross_entropy(Z, y):
    """-(1/m) sum_j log p_j(y_j), p = exp(z) / sum(exp(z)) evaluated literally in 40-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 40
        total = Decimal(0)
        for j in range(Z.shape[1]):
            exps = [Decimal(float(z)).exp() for z in Z[:, j]]  # exp(1e4) is fine for Decimal
            total -= (exps[y[j]] / sum(exps)).ln()
        return float(total / Z.shape[1])


def reference_softmax(Z):
    with localcontext() as ctx:
        ctx.prec = 40
        out = np.empty(Z.shape)
        for j in range(Z.shape[1]):
            exps = [Decimal(float(z)).exp() for z in Z[:, j]]
            out[:, j] = [float(e / sum(exps)) for e in exps]
        return out


def test_cross_entropy_hand_example():
    Z = np.log(np.array([[1.0, 1.0], [2.0, 1.0], [5.0, 2.0]]))  # p = [1/8, 2/8, 5/8] and [1/4, 1/4, 1/2]
    Y = mn.one_hot(np.array([2, 0]), 3, dtype=np.float64)  # true classes: 2 (p = 5/8) and 0 (p = 1/4)
    expected = -(np.log(5 / 8) + np.log(1 / 4)) / 2
    assert mn.cross_entropy(Z, Y) == pytest.approx(expected, rel=1e-14)
    loss, (A, Y_cached) = mn.layers.cross_entropy_forward(Z, Y)
    assert loss == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(A, mn.softmax(Z), rtol=1e-14)
    np.testing.assert_allclose(mn.cross_entropy(Z, Y, reduction="none"), [-np.log(5 / 8), -np.log(1 / 4)],
                               rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_reduction_none_gives_every_examples_loss(dtype):
    """reduction="none": the (m,) losses that "mean" averages, without a loop over the examples."""
    rng = np.random.default_rng(5)
    Z = (10 * rng.standard_normal((10, 7))).astype(dtype)
    y = rng.integers(0, 10, 7)
    Y = mn.one_hot(y, dtype=dtype)
    losses = mn.cross_entropy(Z, Y, reduction="none")
    assert losses.shape == (7,) and losses.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for j in range(7):
        assert losses[j] == pytest.approx(reference_cross_entropy(Z[:, j:j + 1], y[j:j + 1]), rel=rtol)
    assert mn.cross_entropy(Z, Y) == pytest.approx(float(losses.mean()), rel=rtol)
    assert isinstance(mn.cross_entropy(Z, Y, reduction="mean"), float)
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'none', got 'sum'"):
        mn.cross_entropy(Z, Y, reduction="sum")


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_cross_entropy_equals_minus_log_p_of_true_class(scale):
    rng = np.random.default_rng(4)
    Z = scale * rng.standard_normal((10, 6))
    y = rng.integers(0, 10, 6)
    Y = mn.one_hot(y, dtype=np.float64)
    expected = reference_cross_entropy(Z, y)
    assert mn.cross_entropy(Z, Y) == pytest.approx(expected, rel=1e-12)
    assert mn.layers.cross_entropy_forward(Z, Y)[0] == pytest.approx(expected, rel=1e-12)


# columns: confidently right, confidently wrong (loss 2e4), a three-way tie of huge logits, all very negative
HUGE = np.array([[1e4, -1e4, 1e4, -1e4],
                 [-1e4, 1e4, 1e4, -1e4 + 1],
                 [0.0, 0.0, 1e4, -1e4 + 2]])
HUGE_Y = np.array([0, 0, 1, 2])


def test_softmax_is_finite_and_correct_for_huge_logits():
    A = mn.softmax(HUGE)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(A, reference_softmax(HUGE), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(A[:, 2], [1 / 3, 1 / 3, 1 / 3], rtol=1e-12)
    assert np.all(np.isfinite(mn.log_softmax(HUGE)))
    np.testing.assert_allclose(mn.log_softmax(HUGE)[:, 1], [-2e4, 0.0, -1e4], rtol=1e-12)


def test_cross_entropy_is_finite_and_correct_for_huge_logits():
    Y = mn.one_hot(HUGE_Y, 3, dtype=np.float64)
    expected = reference_cross_entropy(HUGE, HUGE_Y)  # (0 + 2e4 + ln 3 + (2 + ln(1 + e + e^2) - 2)) / 4
    hand = (0.0 + 2e4 + np.log(3) + np.log(1 + np.e**-1 + np.e**-2)) / 4
    assert expected == pytest.approx(hand, rel=1e-12)
    loss = mn.cross_entropy(HUGE, Y)
    assert np.isfinite(loss) and loss == pytest.approx(expected, rel=1e-12)
    loss_f, cache = mn.layers.cross_entropy_forward(HUGE, Y)
    assert loss_f == pytest.approx(expected, rel=1e-12)
    dZ = mn.layers.cross_entropy_backward(1.0, cache)
    assert np.all(np.isfinite(dZ))
    np.testing.assert_allclose(dZ[:, 1], [-1 / 4, 1 / 4, 0.0], atol=1e-15)  # (A - Y) / m, A = [0, 1, 0]


def test_cross_entropy_float32_huge_logits_finite():
    Z = HUGE.astype(np.float32)
    Y = mn.one_hot(HUGE_Y, 3)
    assert np.isfinite(mn.cross_entropy(Z, Y))
    assert np.all(np.isfinite(mn.softmax(Z)))


# ---------------------------------------------------------------------------------------------
# gradients, float64, against centred finite differences (eq. 10)
# ---------------------------------------------------------------------------------------------


def test_linear_backward_gradients():
    rng = np.random.default_rng(5)
    W, A, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal((4, 1))
    G = rng.standard_normal((4, 3))  # upstream gradient dZ; f = sum(Z * G) has dL/dZ = G

    def f():
        return float(np.sum(mn.linear_forward(W, A, b)[0] * G))

    _, cache = mn.linear_forward(W, A, b)
    dA_prev, dW, db = mn.linear_backward(G, cache)
    assert check(dW, f, W) < TOL
    assert check(db, f, b) < TOL
    assert check(dA_prev, f, A) < TOL
    # the first layer skips dA_prev (nobody needs dX) but gives the same dW, db
    none, dW1, db1 = mn.linear_backward(G, cache, need_dA_prev=False)
    assert none is None
    np.testing.assert_allclose(dW1, dW, rtol=1e-14)
    np.testing.assert_allclose(db1, db, rtol=1e-14)


def test_relu_backward_gradient():
    rng = np.random.default_rng(6)
    Z = away_from_zero(rng, (4, 6))
    G = rng.standard_normal((4, 6))

    def f():
        return float(np.sum(mn.relu_forward(Z)[0] * G))

    _, cache = mn.relu_forward(Z)
    dZ = mn.relu_backward(G, cache)
    assert check(dZ, f, Z) < TOL
    np.testing.assert_array_equal(dZ[Z < 0], 0.0)  # no gradient flows through an inactive unit


def test_softmax_backward_gradient():
    rng = np.random.default_rng(8)
    Z = rng.standard_normal((5, 4))
    G = rng.standard_normal((5, 4))

    def f():
        return float(np.sum(mn.layers.softmax_forward(Z)[0] * G))

    _, cache = mn.layers.softmax_forward(Z)
    assert check(mn.softmax_backward(G, cache), f, Z) < TOL


@pytest.mark.parametrize("dloss", [1.0, 2.5])
def test_cross_entropy_backward_gradient(dloss):
    rng = np.random.default_rng(8)
    Z = rng.standard_normal((5, 4))
    Y = mn.one_hot(rng.integers(0, 5, 4), 5, dtype=np.float64)

    def f():
        return dloss * mn.layers.cross_entropy_forward(Z, Y)[0]

    _, cache = mn.layers.cross_entropy_forward(Z, Y)
    dZ = mn.layers.cross_entropy_backward(dloss, cache)
    assert check(dZ, f, Z) < TOL
    np.testing.assert_allclose(dZ, dloss * (mn.softmax(Z) - Y) / 4, rtol=1e-12)  # eq. 5'


def test_softmax_backward_after_the_log_loss_gradient_equals_cross_entropy_backward():
    """Chaining the two backward passes gives eq. 5': dZ = (A - Y) / m."""
    rng = np.random.default_rng(9)
    Z = rng.standard_normal((6, 5))
    Y = mn.one_hot(rng.integers(0, 6, 5), 6, dtype=np.float64)
    A, cache = mn.layers.softmax_forward(Z)
    dA = -Y / A / Z.shape[1]  # d/dA of -(1/m) sum Y log A
    _, ce_cache = mn.layers.cross_entropy_forward(Z, Y)
    np.testing.assert_allclose(mn.softmax_backward(dA, cache), mn.layers.cross_entropy_backward(1.0, ce_cache),
                               rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# forward/backward with dropout (eq. 16): the masks live in the cache
# ---------------------------------------------------------------------------------------------


def test_forward_with_dropout_keeps_its_masks_and_backward_uses_them():
    """With the masks fixed (the same rng seed on every call), backward's gradients are the finite
    differences of the loss of the dropped-out network."""
    rng = np.random.default_rng(3)
    params = {"W1": away_from_zero(rng, (6, 5)), "b1": away_from_zero(rng, (6, 1)),
              "W2": away_from_zero(rng, (4, 6)), "b2": away_from_zero(rng, (4, 1)),
              "W3": away_from_zero(rng, (3, 4)), "b3": away_from_zero(rng, (3, 1))}
    X, Y = rng.standard_normal((5, 7)), mn.one_hot(rng.integers(0, 3, 7), 3, dtype=np.float64)

    def loss():  # the same masks at every call: a fresh rng of one seed
        _, cache = mn.forward(params, X, keep=0.6, rng=np.random.default_rng(11))
        return mn.cross_entropy(cache["Z3"], Y)

    _, cache = mn.forward(params, X, keep=0.6, rng=np.random.default_rng(11))
    assert set(cache) >= {"M1", "M2"} and "M3" not in cache  # hidden layers only
    for l, n in ((1, 6), (2, 4)):
        M = cache[f"M{l}"]
        assert M.shape == (n, 7) and set(np.unique(M)) <= {0.0, 1 / 0.6}
        np.testing.assert_array_equal(cache[f"A{l}"], np.maximum(cache[f"Z{l}"], 0) * M)
    assert 0 < np.count_nonzero(cache["M1"]) < cache["M1"].size  # some dropped, some kept
    grads = mn.backward(params, cache, Y)
    for key in params:
        assert check(grads[f"d{key}"], loss, params[key]) < TOL, key
    no_dropout = mn.backward(params, mn.forward(params, X)[1], Y)
    assert not np.allclose(no_dropout["dW1"], grads["dW1"])  # the masks made a difference


def test_forward_without_dropout_is_unchanged_and_refuses_a_bad_keep():
    rng = np.random.default_rng(0)
    params = mn.init_params((5, 4, 3), "he", rng, dtype=np.float64)
    X = rng.standard_normal((5, 6))
    A, cache = mn.forward(params, X)
    A_keep1, cache_keep1 = mn.forward(params, X, keep=1.0, rng=None)
    np.testing.assert_array_equal(A, A_keep1)
    assert "M1" not in cache and "M1" not in cache_keep1
    with pytest.raises(ValueError, match="keep is the probability of keeping a unit"):
        mn.forward(params, X, keep=1.5, rng=rng)
    with pytest.raises(ValueError, match="rng"):
        mn.forward(params, X, keep=0.5)  # dropout needs an explicit rng


def test_linear_forward_equals_the_plain_product_for_column_major_inputs():
    """linear_forward computes W @ A_prev as (A_prev^T W^T)^T (faster for MNIST's column-major X)."""
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((10, 784)), rng.standard_normal((10, 1))
    for A_prev in (rng.standard_normal((784, 33)), np.asfortranarray(rng.standard_normal((784, 33)))):
        Z, cache = mn.linear_forward(W, A_prev, b)
        np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-12, atol=1e-12)
        assert Z.shape == (10, 33) and cache[0] is W and cache[1] is A_prev
