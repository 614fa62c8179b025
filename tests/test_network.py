"""The network: init_params, forward/backward against the equations, the loss, whole-network gradient
checks in float64, predict/accuracy, a float64 network end to end, and the ln 10 sanity check on real MNIST."""

import math

import numpy as np
import pytest

import mathnn as mn
import mathnn.gradcheck
from mathnn import locations

TOL = 1e-7  # relative error of a correct gradient in float64 (eq. 10)


# ---------------------------------------------------------------------------------------------
# gradient checks
# ---------------------------------------------------------------------------------------------


def draw(sizes, m, seed):
    """float64 params (He weights, small random biases), inputs in [0.5, 1], one-hot labels."""
    rng = np.random.default_rng(seed)
    params = mn.init_params(sizes, "he", rng, dtype=np.float64)
    for l in range(1, len(sizes)):
        params[f"b{l}"] = 0.1 * rng.standard_normal((sizes[l], 1))  # non-zero: no Z exactly 0 behind a dead layer
    X = rng.uniform(0.5, 1.0, (sizes[0], m))
    Y = mn.one_hot(rng.integers(0, sizes[-1], m), sizes[-1], dtype=np.float64)
    return params, X, Y


def well_conditioned(params, X, Y):
    """Is this draw fit for a 1e-7 check?

    - every hidden pre-activation is at least 1e-3 away from the ReLU kink (a step of h = 1e-5
      can't cross it), and
    - every non-zero gradient entry is at least 3e-4: a centred difference carries ~1e-11 of
      round-off per entry, and rel_error compares whole arrays by their norms, so an array of tiny
      entries would have a large relative error (a stricter condition than needed, but simple).
    """
    _, cache = mn.forward(params, X)
    D = len(params) // 2  # the depth: W1, b1, ..., W_D, b_D
    kink = min((np.abs(cache[f"Z{l}"]).min() for l in range(1, D)), default=np.inf)
    _, grads = mn.loss_and_grads(params, X, Y)
    smallest = min(np.abs(g[g != 0]).min() for g in grads.values())
    return kink > 1e-3 and smallest > 3e-4


def well_conditioned_draws(sizes, m, count):
    """The first `count` seeds (from 0) whose draws are well conditioned: deterministic test data."""
    found = []
    for seed in range(200):
        case = draw(sizes, m, seed)
        if well_conditioned(*case):
            found.append(case)
            if len(found) == count:
                return found
    raise AssertionError(f"fewer than {count} well-conditioned draws for sizes {sizes}, m={m}")


@pytest.mark.parametrize(("sizes", "m"), [((784, 10, 10), 8), ((20, 7, 5, 4), 8), ((6, 5, 3), 1)])
def test_grad_check_whole_network(sizes, m):
    for params, X, Y in well_conditioned_draws(sizes, m, count=2):
        before = {key: p.copy() for key, p in params.items()}
        rows = mn.compare_gradients(params, X, Y)
        assert [name for name, _, _ in rows] == list(params)
        assert [shape for _, shape, _ in rows] == [p.shape for p in params.values()]
        worst = max(err for _, _, err in rows)
        assert worst < TOL, rows
        for key in params:  # the check perturbs the parameters one entry at a time and restores them
            np.testing.assert_array_equal(params[key], before[key])


def test_loss_and_grads_against_numerical_gradient_directly():
    """The same check spelled out with numerical_gradient + rel_error (not via compare_gradients)."""
    params, X, Y = well_conditioned_draws((20, 7, 5, 4), 3, count=1)[0]
    _, grads = mn.loss_and_grads(params, X, Y)
    assert set(grads) == {"d" + key for key in params}
    for key, p in params.items():
        numeric = mn.numerical_gradient(lambda: mn.loss_and_grads(params, X, Y)[0], p)
        assert grads["d" + key].shape == p.shape
        assert mn.rel_error(grads["d" + key], numeric) < TOL, key


def test_batch_gradient_is_mean_of_example_gradients():
    """With a batch, loss and gradients are the means over its examples (the 1/m of eq. 5')."""
    params, X, Y = draw((784, 10, 10), 8, seed=0)
    loss, grads = mn.loss_and_grads(params, X, Y)
    singles = [mn.loss_and_grads(params, X[:, j:j + 1], Y[:, j:j + 1]) for j in range(8)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for key in grads:
        np.testing.assert_allclose(grads[key], np.mean([s[1][key] for s in singles], axis=0), rtol=1e-9,
                                   atol=1e-15)


def test_grad_check_catches_a_wrong_gradient():
    params, X, Y = draw((6, 5, 3), 4, seed=1)

    def buggy(params, cache, Y):  # forgets the 1/m on the gradients only
        return {key: g * X.shape[1] for key, g in mn.backward(params, cache, Y).items()}

    rows = mn.compare_gradients(params, X, Y, backward_fn=buggy)
    assert all(err > 0.1 for _, _, err in rows), rows
    assert all(err < 1e-7 for _, _, err in mn.compare_gradients(params, X, Y)), "the default backward passes"


def test_grad_check_checks_the_gradients_keys_and_shapes_first():
    params, X, Y = draw((6, 5, 3), 4, seed=1)

    def transposed(params, cache, Y):
        grads = mn.backward(params, cache, Y)
        return {**grads, "dW1": grads["dW1"].T}

    with pytest.raises(mn.ShapeError, match=r"grads\['dW1'\]' has shape \(6, 5\), expected \(5, 6\).*transposed"):
        mn.compare_gradients(params, X, Y, backward_fn=transposed)
    with pytest.raises(mn.ShapeError, match="grads has no key 'db2'"):
        mn.compare_gradients(params, X, Y, backward_fn=lambda p, c, Y: {k: g for k, g in mn.backward(p, c, Y).items()
                                                                   if k != "db2"})


# ---------------------------------------------------------------------------------------------
# forward / backward against the equations, written out independently
# ---------------------------------------------------------------------------------------------


def test_forward_matches_the_equations():
    params, X, _ = draw((784, 10, 10), 5, seed=2)
    A2, cache = mn.forward(params, X)
    Z1 = params["W1"] @ X + params["b1"]  # (eq. 1)
    A1 = np.where(Z1 > 0, Z1, 0.0)  # (eq. 2)
    Z2 = params["W2"] @ A1 + params["b2"]
    E = np.exp(Z2 - Z2.max(axis=0))
    expected = E / E.sum(axis=0)  # (eq. 3)
    np.testing.assert_allclose(A2, expected, rtol=1e-10)
    np.testing.assert_allclose(cache["Z1"], Z1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache["A1"], A1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache["Z2"], Z2, rtol=1e-10, atol=1e-12)
    assert cache["A0"] is X and cache["A2"] is A2 and A2.shape == (10, 5)
    np.testing.assert_allclose(A2.sum(axis=0), 1.0, rtol=1e-12)


def test_backward_matches_the_equations():
    params, X, Y = draw((784, 10, 10), 6, seed=3)
    m = X.shape[1]
    A2, cache = mn.forward(params, X)
    grads = mn.backward(params, cache, Y)
    dZ2 = (A2 - Y) / m  # (eq. 5')
    dW2 = dZ2 @ cache["A1"].T  # (eq. 6)
    db2 = dZ2.sum(axis=1, keepdims=True)  # (eq. 7)
    dA1 = params["W2"].T @ dZ2  # (eq. 8)
    dZ1 = dA1 * (cache["Z1"] > 0)  # (eq. 9)
    expected = {"dW2": dW2, "db2": db2, "dW1": dZ1 @ X.T, "db1": dZ1.sum(axis=1, keepdims=True)}
    assert set(grads) == set(expected)
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-9, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("sizes", [(784, 10, 10), (20, 7, 5, 4)])
def test_loss_is_cross_entropy_of_the_last_logits(sizes):
    params, X, Y = draw(sizes, 7, seed=4)
    _, cache = mn.forward(params, X)
    D = len(sizes) - 1
    expected = -np.log((cache[f"A{D}"] * Y).sum(axis=0))  # (m,): -log of each example's true-class probability
    assert mn.loss(params, X, Y) == pytest.approx(expected.mean(), rel=1e-12)
    assert mn.loss(params, X, Y) == mn.cross_entropy(cache[f"Z{D}"], Y)
    assert mn.loss_and_grads(params, X, Y)[0] == mn.loss(params, X, Y)


def test_loss_per_example_without_a_loop():
    """reduction="none" gives what a loop over single-column batches gives, in one forward pass."""
    params, X, Y = draw((784, 10, 10), 9, seed=6)
    losses = mn.loss(params, X, Y, reduction="none")
    assert losses.shape == (9,)
    looped = [mn.loss(params, X[:, j:j + 1], Y[:, j:j + 1]) for j in range(9)]
    np.testing.assert_allclose(losses, looped, rtol=1e-12)
    assert mn.loss(params, X, Y) == pytest.approx(losses.mean(), rel=1e-12)


def test_forward_float32_stays_float32():
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(0))
    X = np.random.default_rng(1).random((784, 4), dtype=np.float32)
    A, cache = mn.forward(params, X)
    assert A.dtype == np.float32 and cache["Z1"].dtype == np.float32
    loss, grads = mn.loss_and_grads(params, X, mn.one_hot(np.arange(4)))
    assert all(g.dtype == np.float32 for g in grads.values())


# ---------------------------------------------------------------------------------------------
# predict, accuracy, confusion matrix, save/load
# ---------------------------------------------------------------------------------------------


def test_predict_and_accuracy():
    params, X, _ = draw((784, 10, 10), 20, seed=5)
    A, _ = mn.forward(params, X)
    pred = mn.predict(params, X)
    assert pred.shape == (20,) and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, np.argmax(A, axis=0))
    assert mn.accuracy(params, X, pred) == 1.0
    assert mn.accuracy(params, X, (pred + 1) % 10) == 0.0
    y = pred.copy()
    y[:5] = (y[:5] + 3) % 10  # 5 of 20 wrong
    assert mn.accuracy(params, X, y) == pytest.approx(0.75)
    assert mn.accuracy(params, X, list(y)) == pytest.approx(0.75)  # any sequence of labels


def test_predict_hand_made_network():
    """A network whose answer is known: class = the index of the brightest of 3 inputs."""
    params = {"W1": np.eye(3), "b1": np.zeros((3, 1)), "W2": 10 * np.eye(3), "b2": np.zeros((3, 1))}
    X = np.array([[0.9, 0.1, 0.2, 0.0], [0.1, 0.8, 0.3, 0.0], [0.0, 0.1, 0.7, 1.0]])
    np.testing.assert_array_equal(mn.predict(params, X), [0, 1, 2, 2])
    assert mn.accuracy(params, X, np.array([0, 1, 2, 0])) == 0.75


def test_predict_and_accuracy_refuse_nan_and_inf_inputs():
    params, X, _ = draw((784, 10, 10), 20, seed=5)
    y = mn.predict(params, X)
    X[100, 3] = np.nan  # before: column 3 silently became class 0
    with pytest.raises(ValueError, match=r"predict\(\): X holds NaN or inf in 1 of its 20 columns \(columns 3\)"):
        mn.predict(params, X)
    X[:, 3] = np.nan  # every column NaN: accuracy read 1.0 against all-zero labels
    X[0, 7] = np.inf
    with pytest.raises(ValueError, match=r"accuracy\(\): X holds NaN or inf in 2 of its 20 columns \(columns 3, 7\)"):
        mn.accuracy(params, X, y)
    with pytest.raises(ValueError, match="NaN or inf in 20 of its 20 columns"):
        mn.accuracy(params, np.full_like(X, np.nan), np.zeros(20, dtype=int))


def test_confusion_matrix():
    C = mn.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), num_classes=3)
    np.testing.assert_array_equal(C, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert C.sum() == 6
    C = mn.confusion_matrix(np.array([9, 1], dtype=np.uint8), [9, 9])  # uint8 labels, as load_mnist gives
    assert C[9, 9] == 1 and C[1, 9] == 1 and C.sum() == 2


@pytest.mark.parametrize(("y_true", "y_pred", "message"), [
    ([0, -1, 2], [0, 1, 2], r"y_true holds 1 label\(s\) outside 0..9, e.g. -1 at index 1"),  # counted as 9 before
    ([0, 1, 2], [0, 1, 10], r"y_pred holds 1 label\(s\) outside 0..9, e.g. 10 at index 2"),
    ([0, 1, 2], [0, 1], "y_true has 3 labels but y_pred has 2 predictions"),
    ([0.0, 1.0], [0, 1], "y_true: labels must be integers \\(class indices 0..9\\), got dtype float64"),
    ([[0, 1]], [0, 1], "y_true should be a 1-D array"),
])
def test_confusion_matrix_refuses_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        mn.confusion_matrix(y_true, y_pred)


def test_save_and_load_params_round_trip(tmp_path):
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(0))
    mn.save_params(tmp_path / "p.npz", params)
    for loaded in (mn.load_params(tmp_path / "p.npz"), mn.load_params(tmp_path / "p.npz", sizes=(784, 10, 10))):
        assert list(loaded) == ["W1", "b1", "W2", "b2"]
        for key in params:
            np.testing.assert_array_equal(loaded[key], params[key])
            assert loaded[key].dtype == params[key].dtype
    deep = mn.init_params((6, 5, 4, 3), "he", np.random.default_rng(0), dtype=np.float64)
    mn.save_params(tmp_path / "deep.npz", deep)
    assert list(mn.load_params(tmp_path / "deep.npz")) == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_save_params_leaves_no_temporary_file_when_writing_fails(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        mn.save_params(tmp_path / "p.npz", mn.init_params((784, 10, 10), "he", np.random.default_rng(0)))
    assert list(tmp_path.iterdir()) == []


def test_save_params_refuses_non_finite_params_and_writes_nothing(tmp_path):
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(0))
    params["W2"][3, 4] = np.nan
    params["b1"][0] = np.inf
    with pytest.raises(ValueError, match=r"save_params\(\): not saved, because 'params\['b1'\]' holds 1 NaN/inf"):
        mn.save_params(tmp_path / "p.npz", params)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="its arrays are named W1, b1, W2, expected W1, b1, W2, b2"):
        mn.save_params(tmp_path / "p.npz", {"W1": params["W1"], "b1": params["b1"], "W2": params["W2"]})


def test_load_params_refuses_what_save_params_did_not_write(tmp_path):
    good = mn.init_params((784, 10, 10), "he", np.random.default_rng(0))
    path = tmp_path / "p.npz"
    mn.save_params(path, good)
    whole = path.read_bytes()
    ours = f"{path} is not a parameter file saved by mn.save_params"

    def refused(match, sizes=None):
        with pytest.raises(ValueError, match=match) as info:
            mn.load_params(path, sizes)
        assert str(info.value).startswith(ours) and "allow_pickle" not in str(info.value)
        assert str(info.value).endswith("Delete it and save the parameters again with mn.save_params(path, params).")

    for junk in (np.random.default_rng(0).bytes(1000), b"", whole[: len(whole) // 2], b"W1 = [[0.1, 0.2]]\n"):
        path.write_bytes(junk)
        refused("it is not an .npz archive of arrays")
    np.save(path.with_suffix(".npy"), good["W1"])
    path.write_bytes(path.with_suffix(".npy").read_bytes())
    refused("it holds a single array")
    np.savez(path, W1=good["W1"], b1=good["b1"])  # lesson 08 failed on this with KeyError 'W2'
    refused("its arrays are named W1, b1, expected W1, b1, W2, b2", sizes=(784, 10, 10))
    np.savez(path, **mn.init_params((784, 32, 10), "he", np.random.default_rng(0)))
    refused(r"for a 784-10-10 network: 'W1' has shape \(32, 784\), expected \(n1=10, n0=784\)", sizes=(784, 10, 10))
    assert mn.load_params(path, sizes=(784, 32, 10))["W1"].shape == (32, 784), "a 784-32-10 file, asked for as such"
    np.savez(path, **{**good, "b2": np.zeros(10, np.float32)})
    refused(r"'b2' has shape \(10,\), expected \(n2=10, 1\)")
    np.savez(path, **{**good, "W2": np.ones((10, 10), dtype=np.int64)})
    refused("'W2' has dtype int64; parameters must be floating-point")
    np.savez(path, **{**good, "W1": np.full((10, 784), np.nan, np.float32)})  # a diverged run's parameters
    refused("'W1' holds 7840 NaN/inf entries")
    with pytest.raises(FileNotFoundError):
        mn.load_params(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------------------------
# init_params
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("init", "std"), [
    ("normal", lambda n_in, n_out: 1.0),
    ("small", lambda n_in, n_out: 0.01),
    ("lecun", lambda n_in, n_out: math.sqrt(1 / n_in)),
    ("glorot", lambda n_in, n_out: math.sqrt(2 / (n_in + n_out))),
    ("he", lambda n_in, n_out: math.sqrt(2 / n_in)),
])
def test_init_params_std_per_init(init, std):
    sizes = (784, 100, 50)
    params = mn.init_params(sizes, init=init, rng=np.random.default_rng(0))
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert W.shape == (n_out, n_in) and b.shape == (n_out, 1)
        assert W.dtype == np.float32 and b.dtype == np.float32
        assert W.std() == pytest.approx(std(n_in, n_out), rel=0.03)  # >= 5000 samples: ~1% sampling error
        assert abs(W.mean()) < 0.05 * std(n_in, n_out)
        np.testing.assert_array_equal(b, 0.0)


def test_init_params_zeros():
    params = mn.init_params((784, 10, 10), "zeros", np.random.default_rng(0))
    assert set(params) == {"W1", "b1", "W2", "b2"}
    for p in params.values():
        np.testing.assert_array_equal(p, 0.0)


def test_init_params_default_is_he_784_10_10():
    params = mn.init_params(rng=np.random.default_rng(0))
    assert {key: p.shape for key, p in params.items()} == {"W1": (10, 784), "b1": (10, 1), "W2": (10, 10),
                                                             "b2": (10, 1)}
    assert params["W1"].std() == pytest.approx(math.sqrt(2 / 784), rel=0.05)


def test_init_params_is_reproducible_and_uses_the_rng():
    a = mn.init_params((784, 10, 10), "he", np.random.default_rng(7))
    b = mn.init_params((784, 10, 10), "he", np.random.default_rng(7))
    c = mn.init_params((784, 10, 10), "he", np.random.default_rng(8))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["W1"], c["W1"])
    assert mn.init_params((3, 2), "he", np.random.default_rng(0), dtype=np.float64)["W1"].dtype == np.float64


def test_init_params_requires_rng():
    with pytest.raises(ValueError, match="rng"):
        mn.init_params((784, 10, 10), "he")


def test_init_params_unknown_init():
    with pytest.raises(ValueError, match=r"init_params\(\): unknown init 'xavier'") as info:
        mn.init_params((784, 10, 10), "xavier", np.random.default_rng(0))
    assert str(mn.INITS) in str(info.value)  # lists the valid choices


def test_inits_are_the_documented_ones_and_positional_use_still_works():
    assert mn.INITS == ("zeros", "normal", "small", "lecun", "glorot", "he")
    by_keyword = mn.init_params((784, 10, 10), init="small", rng=np.random.default_rng(3))
    by_position = mn.init_params((784, 10, 10), "small", np.random.default_rng(3))
    for key in by_keyword:
        np.testing.assert_array_equal(by_keyword[key], by_position[key])
    assert by_keyword["W1"].std() == pytest.approx(0.01, rel=0.05)


# ---------------------------------------------------------------------------------------------
# beyond 784-10-10 in float32: a float64 network, from the data to a trained model, with no casts
# ---------------------------------------------------------------------------------------------


def test_float64_network_gradchecks_and_trains_without_casts(mnist):
    X, y = mnist["test"]
    X64 = mn.load_mnist("test", download=False, dtype=np.float64)[0][:, :2000]  # (784, 2000)
    y = y[:2000]
    np.testing.assert_allclose(X64, X[:, :2000], atol=1e-7)  # the same images, in double precision
    Y64 = mn.one_hot(y, dtype=np.float64)  # (10, 2000)
    params = mn.init_params((784, 16, 10), "he", np.random.default_rng(0), dtype=np.float64)
    A, cache = mn.forward(params, X64)
    assert all(a.dtype == np.float64 for a in (A, cache["Z1"], cache["A1"], cache["Z2"]))
    assert mn.loss(params, X64, Y64, reduction="none").dtype == np.float64
    rows = mn.compare_gradients(params, X64[:, :3], Y64[:, :3])  # 3 images: 2 x 12,730 forward passes
    assert max(err for _, _, err in rows) < TOL, rows
    before = mn.loss(params, X64, Y64)
    history = mn.fit(params, X64, y, lr=0.1, num_epochs=3, batch_size=64, rng=np.random.default_rng(0))
    assert all(p.dtype == np.float64 for p in params.values())
    assert history.train_loss[-1] < 0.5 * before and mn.accuracy(params, X64, y) > 0.6  # measured: 0.71, 0.78


# ---------------------------------------------------------------------------------------------
# sanity check on real data: a fresh network is maximally unsure, loss ~ ln 10
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_initial_loss_is_about_ln_10(mnist, seed):
    X, y = mnist["train"]
    X, y = X[:, :10000], y[:10000]
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(seed))
    loss, _ = mn.loss_and_grads(params, X, mn.one_hot(y))
    assert abs(loss - math.log(10)) < 0.3, loss
    assert 0.02 < mn.accuracy(params, X, y) < 0.25  # chance level, about 10 %


def test_trained_path_is_a_place_of_its_own(tmp_path, monkeypatch):
    """Lesson 04 saves its network at trained_path(), lesson 08 loads it: not inside the MNIST cache."""
    path = mn.trained_path("784-10-10")
    assert path.name == "784-10-10.npz" and path.parent.name == "trained" and path.parent.is_dir()
    assert path.parent != locations.default_data_dir()
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", False)  # an installed package: the per-user cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mn.trained_path("x") == tmp_path / "mathnn" / "trained" / "x.npz"
    assert (tmp_path / "mathnn" / "trained").is_dir()
    monkeypatch.setattr(locations, "SOURCE_CHECKOUT", True)
    monkeypatch.setenv("MATHNN_TRAINED", str(tmp_path / "learner1" / "trained"))  # a hub: one per learner
    assert mn.trained_path("x") == tmp_path / "learner1" / "trained" / "x.npz"
    assert (tmp_path / "learner1" / "trained").is_dir()


def test_grad_check_refuses_float32():
    """In float32 a correct backward shows relative errors near 1e-2: compare_gradients would cry wolf."""
    rng = np.random.default_rng(0)
    params = mn.init_params((20, 5, 3), "he", rng)  # float32
    X, Y = rng.standard_normal((20, 4)), mn.one_hot(np.array([0, 1, 2, 0]), 3, dtype=np.float64)
    with pytest.raises(TypeError, match="W1, b1, W2, b2 not float64"):
        mn.compare_gradients(params, X, Y)
    params64 = mn.init_params((20, 5, 3), "he", rng, dtype=np.float64)
    with pytest.raises(TypeError, match="X not float64"):
        mn.compare_gradients(params64, X.astype(np.float32), Y)
    assert all(err < 1e-7 for _, _, err in mn.compare_gradients(params64, X, Y))
