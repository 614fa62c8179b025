"""Wrong shapes fail loudly: every public function that takes arrays raises ShapeError naming
the argument, the shape it expected and the shape it got."""

from pathlib import Path

import numpy as np
import pytest

import mathnn as mn

M = 8  # examples per batch in these cases


def arrays():
    rng = np.random.default_rng(0)
    params = mn.init_params((784, 10, 10), "he", rng, dtype=np.float64)
    X = rng.random((784, M))
    y = rng.integers(0, 10, M)
    Y = mn.one_hot(y, dtype=np.float64)
    W, A, b = rng.standard_normal((10, 5)), rng.standard_normal((5, M)), rng.standard_normal((10, 1))
    Z = rng.standard_normal((10, M))
    return dict(params=params, X=X, y=y, Y=Y, W=W, A=A, b=b, Z=Z, rng=rng)


def with_key(params, key, value):
    return {**params, key: value}


# Each case: (id, function name, call(d, bad) -> result, argument name, actual shape, expected shape).
# call(d, False) is the same call with correct shapes, which must succeed.
CASES = [
    ("linear_forward-b-1d", "linear_forward",
     lambda d, bad: mn.linear_forward(d["W"], d["A"], d["b"].ravel() if bad else d["b"]),
     "b", "(10,)", "(n_out=10, 1)"),
    ("linear_forward-A_prev", "linear_forward",
     lambda d, bad: mn.linear_forward(d["W"], d["A"][:4] if bad else d["A"], d["b"]),
     "A_prev", "(4, 8)", "(n_in=5, m)"),
    ("linear_backward-dZ-1d", "linear_backward",
     lambda d, bad: mn.linear_backward(d["Z"][:, 0] if bad else d["Z"], (d["W"], d["A"])),
     "dZ", "(10,)", "(n_out, m)"),
    # dZ must match the layer in the cache: W (10, 5), A_prev (5, 8) -> dZ (10, 8)
    ("linear_backward-dZ-vs-cache", "linear_backward",
     lambda d, bad: mn.linear_backward(d["Z"][:7] if bad else d["Z"], (d["W"], d["A"])),
     "dZ", "(7, 8)", "(n_out=10, m=8)"),
    ("relu_forward-Z-1d", "relu_forward",
     lambda d, bad: mn.relu_forward(d["Z"][:, 0] if bad else d["Z"]),
     "Z", "(10,)", "(n, m)"),
    ("relu_backward-dA-3d", "relu_backward",
     lambda d, bad: mn.relu_backward(d["Z"][None] if bad else d["Z"], d["Z"]),
     "dA", "(1, 10, 8)", "(n, m)"),
    # a (10, 1) upstream gradient against a (10, 8) cache would broadcast silently
    ("relu_backward-dA-vs-cache", "relu_backward",
     lambda d, bad: mn.relu_backward(d["Z"][:, :1] if bad else d["Z"], d["Z"]),
     "dA", "(10, 1)", "(n=10, m=8)"),
    ("softmax-Z-1d", "softmax",
     lambda d, bad: mn.softmax(d["Z"][:, 0] if bad else d["Z"]),
     "Z", "(10,)", "(k, m)"),
    ("log_softmax-Z-1d", "log_softmax",
     lambda d, bad: mn.log_softmax(d["Z"][:, 0] if bad else d["Z"]),
     "Z", "(10,)", "(k, m)"),
    ("softmax_forward-Z-1d", "softmax_forward",
     lambda d, bad: mn.layers.softmax_forward(d["Z"][:, 0] if bad else d["Z"]),
     "Z", "(10,)", "(k, m)"),
    ("softmax_backward-dA-1d", "softmax_backward",
     lambda d, bad: mn.softmax_backward(d["Z"][:, 0] if bad else d["Z"], mn.softmax(d["Z"])),
     "dA", "(10,)", "(k, m)"),
    ("softmax_backward-dA-vs-cache", "softmax_backward",
     lambda d, bad: mn.softmax_backward(d["Z"][:, :1] if bad else d["Z"], mn.softmax(d["Z"])),
     "dA", "(10, 1)", "(k=10, m=8)"),
    ("cross_entropy-none-Y", "cross_entropy",
     lambda d, bad: mn.cross_entropy(d["Z"], d["Y"][:, :7] if bad else d["Y"], reduction="none"),
     "Y", "(10, 7)", "(k=10, m=8)"),
    ("cross_entropy-Y-1d", "cross_entropy",
     lambda d, bad: mn.cross_entropy(d["Z"], d["y"].astype(float) if bad else d["Y"]),
     "Y", "(8,)", "(k=10, m=8)"),
    ("cross_entropy_forward-Y", "cross_entropy_forward",
     lambda d, bad: mn.layers.cross_entropy_forward(d["Z"], d["Y"][:9] if bad else d["Y"]),
     "Y", "(9, 8)", "(k=10, m=8)"),
    ("forward-params-b1", "forward",
     lambda d, bad: mn.forward(with_key(d["params"], "b1", d["params"]["b1"].ravel()) if bad else d["params"], d["X"]),
     "b1", "(10,)", "(n1=10, 1)"),
    ("forward-X", "forward",
     lambda d, bad: mn.forward(d["params"], d["X"][:783] if bad else d["X"]),
     "X", "(783, 8)", "(n0=784, m)"),
    ("backward-Y", "backward",
     lambda d, bad: mn.backward(d["params"], mn.forward(d["params"], d["X"])[1], d["Y"][:9] if bad else d["Y"]),
     "Y", "(9, 8)", "(n_out=10, m)"),
    # Y must have as many columns as the cached forward pass (m = 8); (10, 1) would broadcast silently
    ("backward-Y-vs-cache", "backward",
     lambda d, bad: mn.backward(d["params"], mn.forward(d["params"], d["X"])[1], d["Y"][:, :1] if bad else d["Y"]),
     "Y", "(10, 1)", "(n_out=10, m=8)"),
    ("loss-Y", "loss",
     lambda d, bad: mn.loss(d["params"], d["X"], d["Y"][:, :7] if bad else d["Y"], reduction="none"),
     "Y", "(10, 7)", "(n_out=10, m=8)"),
    ("loss-X", "loss",
     lambda d, bad: mn.loss(d["params"], d["X"][:, :7] if bad else d["X"], d["Y"]),
     "Y", "(10, 8)", "(n_out=10, m=7)"),
    ("loss_and_grads-Y", "loss_and_grads",
     lambda d, bad: mn.loss_and_grads(d["params"], d["X"], d["Y"][:, :7] if bad else d["Y"]),
     "Y", "(10, 7)", "(n_out=10, m=8)"),
    ("loss_and_grads-params-W2", "loss_and_grads",
     lambda d, bad: mn.loss_and_grads(with_key(d["params"], "W2", d["params"]["W2"][:, :9]) if bad else d["params"],
                                      d["X"], d["Y"]),
     "W2", "(10, 9)", "(n2=10, n1=10)"),
    ("predict-X-transposed", "predict",
     lambda d, bad: mn.predict(d["params"], d["X"].T if bad else d["X"]),
     "X", "(8, 784)", "(n0=784, m)"),
    ("accuracy-y", "accuracy",
     lambda d, bad: mn.accuracy(d["params"], d["X"], d["y"][:7] if bad else d["y"]),
     "y", "(7,)", "(m=8,)"),
    ("accuracy-X", "accuracy",
     lambda d, bad: mn.accuracy(d["params"], d["X"][:, :, None] if bad else d["X"], d["y"]),
     "X", "(784, 8, 1)", "(n0=784, m)"),
    ("compare_gradients-Y", "compare_gradients",
     lambda d, bad: mn.compare_gradients(mn.init_params((6, 3, 10), "he", d["rng"], dtype=np.float64), d["X"][:6, :2],
                                  d["Y"][:, :3] if bad else d["Y"][:, :2]),
     "Y", "(10, 3)", "(n_out=10, m=2)"),
    ("validate_grads-dW1", "validate_grads",
     lambda d, bad: mn.validate_grads(d["params"], with_key(mn.loss_and_grads(d["params"], d["X"], d["Y"])[1], "dW1",
                                                         np.zeros((784, 10)) if bad else np.zeros((10, 784)))),
     "grads['dW1']", "(784, 10)", "(10, 784)"),
    ("evaluate-y", "evaluate",
     lambda d, bad: mn.evaluate(d["params"], d["X"], d["y"][:7] if bad else d["y"]),
     "y", "(7,)", "(m=8,)"),
    ("fit-y", "fit",
     lambda d, bad: mn.fit(d["params"], d["X"], d["y"][:7] if bad else d["y"], rng=d["rng"], num_epochs=1),
     "y", "(7,)", "(m=8,)"),
    ("fit-y_val", "fit",
     lambda d, bad: mn.fit(d["params"], d["X"], d["y"], X_val=d["X"][:, :5], y_val=d["y"][:4] if bad else d["y"][:5],
                           rng=d["rng"], num_epochs=1),
     "y_val", "(4,)", "(m_val=5,)"),
    ("one_hot-y-2d", "one_hot",
     lambda d, bad: mn.one_hot(d["y"].reshape(2, 4) if bad else d["y"]),
     "y", "(2, 4)", "(m,)"),
    ("minibatches-Y", "minibatches",
     lambda d, bad: list(mn.minibatches(d["X"], d["Y"][:, :7] if bad else d["Y"], 4, d["rng"])),
     "Y", "(10, 7)", "(k=10, m=8)"),
    ("minibatches-X-1d", "minibatches",
     lambda d, bad: list(mn.minibatches(d["X"][0] if bad else d["X"], d["Y"], 4, d["rng"])),
     "X", "(8,)", "(n0, m)"),
]


@pytest.mark.parametrize(("func", "call", "arg", "actual", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_wrong_shape_raises_shape_error_naming_argument_and_shapes(func, call, arg, actual, expected):
    d = arrays()
    call(d, False)  # the same call with correct shapes works
    with pytest.raises(mn.ShapeError) as info:
        call(d, True)
    message = str(info.value)
    assert f"{func}()" in message
    assert f"'{arg}'" in message, f"argument {arg!r} not named in: {message}"
    assert actual in message, f"actual shape {actual} not in: {message}"
    assert expected in message, f"expected shape {expected} not in: {message}"


def test_every_public_array_function_has_a_shape_case():
    covered = {c[1] for c in CASES}
    required = {"linear_forward", "linear_backward", "relu_forward", "relu_backward", "softmax", "log_softmax",
                "softmax_forward", "softmax_backward", "cross_entropy", "cross_entropy_forward", "forward",
                "backward", "loss", "loss_and_grads", "predict", "accuracy", "compare_gradients", "validate_grads",
                "one_hot", "minibatches"}
    assert required <= covered, required - covered
    assert all(callable(getattr(mn, name, None) or getattr(mn.layers, name)) for name in required)  # mn. or layers


def test_shape_error_is_a_value_error_and_hints_at_the_fix():
    d = arrays()
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):  # a 1-D bias: the hint says how to fix it
        mn.linear_forward(d["W"], d["A"], d["b"].ravel())
    with pytest.raises(mn.ShapeError, match=r"transposed\? try X\.T"):
        mn.forward(d["params"], d["X"][:, :5].T)  # (5, 784) where (784, m) is needed
    with pytest.raises(mn.ShapeError, match=r"transposed\? try Y\.T"):
        mn.cross_entropy(d["Z"], d["Y"].T)  # (8, 10) where (k=10, m=8) is needed


def test_non_array_and_non_numeric_arguments_are_rejected():
    d = arrays()
    with pytest.raises(mn.ShapeError, match=r"'b' should be a NumPy array of shape \(n_out=10, 1\), got list"):
        mn.linear_forward(d["W"], d["A"], [[0.0]] * 10)
    with pytest.raises(mn.ShapeError, match=r"'Z' has dtype <U1"):
        mn.softmax(np.full((3, 2), "a"))
    with pytest.raises(mn.ShapeError, match="dict with keys W1, b1"):
        mn.forward([d["params"]["W1"]], d["X"])


def test_custom_spec_binds_names_across_arguments():
    @mn.shapes.shapes(A="n k", B="k 3")
    def f(A, B):
        return A @ B

    assert f(np.ones((2, 4)), np.ones((4, 3))).shape == (2, 3)
    with pytest.raises(mn.ShapeError, match=r"f\(\): argument 'B' has shape \(5, 3\), expected \(k=4, 3\)"):
        f(np.ones((2, 4)), np.ones((5, 3)))
    with pytest.raises(mn.ShapeError, match=r"argument 'B' has shape \(4, 2\), expected \(k=4, 3\)"):
        f(np.ones((2, 4)), np.ones((4, 2)))
    assert f(np.ones((2, 4)), B=np.ones((4, 3))).shape == (2, 3)  # keyword arguments are checked too
    with pytest.raises(mn.ShapeError, match="'B'"):
        f(np.ones((2, 4)), B=np.ones((4, 4)))


# one_hot and minibatches: labels that are not class indices, empty batches, bad batch arguments


@pytest.mark.parametrize(("y", "words"), [
    (np.array([3.0, 2.0]), ["dtype float64", "whole numbers", "y.astype(int)"]),
    (np.array([2.5, 1.0]), ["dtype float64", "2.5 is not a whole number"]),
    (np.array([True, False]), ["dtype bool", "booleans are not class indices"]),
    (np.array([np.nan, 1.0]), ["NaN or infinite labels, 1 of 2"]),
    (np.array(["3", "1"]), ["must be integers", "dtype <U1"]),
])
def test_one_hot_refuses_labels_that_are_not_integers(y, words):
    with pytest.raises(ValueError) as info:
        mn.one_hot(y)
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("shape", [(8, 1), (1, 8)])
def test_one_hot_two_dimensional_labels_hint_at_ravel(shape):
    with pytest.raises(mn.ShapeError, match=rf"'y' has shape \({shape[0]}, {shape[1]}\), expected \(m,\)"
                                            r".*pass y\.ravel\(\)"):
        mn.one_hot(np.arange(8).reshape(shape))


def test_one_hot_and_minibatches_of_an_empty_batch():
    for y in ([], np.array([]), np.zeros(0, dtype=np.uint8)):  # np.array([]) is float64: no label to refuse
        Y = mn.one_hot(y)
        assert Y.shape == (10, 0) and Y.dtype == np.float32
    assert mn.one_hot([], num_classes=3).shape == (3, 0)
    assert list(mn.minibatches(np.zeros((784, 0)), np.zeros((10, 0)), 4, np.random.default_rng(0))) == []


@pytest.mark.parametrize("batch_size", [0, -4, 2.0, True, None])
def test_minibatches_refuses_a_batch_size_that_is_not_a_positive_int(batch_size):
    d = arrays()
    with pytest.raises(ValueError, match=rf"batch_size must be a positive integer, got {batch_size!r}"):
        mn.minibatches(d["X"], d["Y"], batch_size, d["rng"])  # at the call, before the first batch


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)])
def test_minibatches_needs_a_generator(rng):
    d = arrays()
    with pytest.raises(ValueError, match=r"rng must be an explicit rng, a np\.random\.Generator, e\.g\. rng=np\."):
        mn.minibatches(d["X"], d["Y"], 4, rng)


@pytest.mark.parametrize(("sizes", "key"), [((784, 10, 10), "W1"), ((784, 32, 10), "W1"), ((784, 32, 10), "W2")])
def test_a_transposed_weight_is_blamed_on_the_weight_not_the_bias(sizes, key):
    """(W2 of the 784-10-10 network is square: its transpose has the right shape.)"""
    d = arrays()
    params = mn.init_params(sizes, "he", d["rng"], dtype=np.float64)
    l = key[1]
    with pytest.raises(mn.ShapeError) as info:
        mn.forward(with_key(params, key, params[key].T), d["X"])
    message = str(info.value)
    assert f"argument 'params['{key}']' has shape {params[key].T.shape}" in message, message
    assert f"expected (n{l}={params[key].shape[0]}, n" in message, message
    assert message.endswith(f"(transposed? try {key}.T)"), message
    assert f"b{l}" not in message, message


def test_a_wrong_bias_next_to_a_right_weight_is_still_blamed_on_the_bias():
    d = arrays()
    with pytest.raises(mn.ShapeError,
                       match=r"'params\['b1'\]' has shape \(7, 1\), expected \(n1=10, 1\) "
                             r"\(n1=10 from params\['W1'\]\)$"):
        mn.forward(with_key(d["params"], "b1", d["params"]["b1"][:7]), d["X"])
    with pytest.raises(mn.ShapeError, match=r"'params\['b2'\]' has shape \(10,\).*use b2\.reshape\(-1, 1\)"):
        mn.forward(with_key(d["params"], "b2", d["params"]["b2"].ravel()), d["X"])


def test_one_parameter_dict_rule_for_the_decorator_save_params_and_load_params(tmp_path):
    """forward (@shapes), save_params and load_params refuse a transposed W1 with the same words: one rule."""
    params = mn.init_params((784, 10, 10), "he", np.random.default_rng(0))
    params["W1"] = params["W1"].T.copy()  # (784, 10)
    said = r"'params\['W1'\]' has shape \(784, 10\), expected \(n1=10, n0\) \(transposed\? try W1\.T\)"
    with pytest.raises(mn.ShapeError, match=r"forward\(\): argument " + said):
        mn.forward(params, np.zeros((784, 3), np.float32))
    with pytest.raises(mn.ShapeError, match=r"save_params\(\): not saved, because " + said):
        mn.save_params(tmp_path / "p.npz", params)
    np.savez(tmp_path / "p.npz", **params)
    with pytest.raises(ValueError, match=r"'W1' has shape \(784, 10\), expected \(n1=10, n0\) \(transposed"):
        mn.load_params(tmp_path / "p.npz")


def test_validation_rules_live_only_in_validate_py():
    """The positive-integer, rng, float-dtype and parameter-dict rules are written once, in mathnn/validate.py."""
    rules = ["must be a positive integer", "must be an explicit rng", "dtype must be a floating-point type",
             "a dict with keys W1, b1", "f\"a finite number >= 0", "labels must be integers"]
    root = Path(mn.__file__).parent
    for path in root.rglob("*.py"):
        if path.name != "validate.py" and "check" not in path.relative_to(root).parts:
            text = path.read_text(encoding="utf-8")
            assert not [rule for rule in rules if rule in text], f"{path.name} writes a rule of validate.py again"
